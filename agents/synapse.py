"""Synapse-Agent (SA): carries one neuron's output to another, and learns its weight."""

from __future__ import annotations

from mesa import Agent


class SynapseAgent(Agent):
    """A synapse: ``x = w * y_pre`` feeds the post neuron (paper eq. 2.2).

    It is referenced from its edge of the network space (``G.edges[pre, post]["synapse"]``) and
    owns slot ``index`` of the model's synapse arrays.

    Parameters
    ----------
    model : NGModel
        The model that owns the arrays.
    index : int
        Slot in the model's synapse arrays.
    layer : int
        Layer of the post neuron (the layer this synapse feeds).
    pre, post : int
        Nodes (neuron indices) it connects.
    """

    #: What an agent reporter row says this agent is.
    agent_type = "synapse"

    def __init__(self, model, index: int, layer: int, pre: int, post: int) -> None:
        super().__init__(model)
        self.index = index
        self.layer = layer
        self.pre = pre
        self.post = post
        model.grid.connect(pre, post, synapse=self)

    @property
    def weight(self) -> float:
        """Weight ``w``."""
        return self.model.state.slot.w[self.index]

    @property
    def prunable(self) -> bool:
        """Whether a prune order of the post neuron may delete it (``protect_io`` keeps the
        synapses of the input and output layers; only neurons with glia get orders)."""
        return self.model.state.slot.prunable[self.index]

    def transmit(self) -> None:
        """Forward: deliver ``w * y_pre`` to the post neuron (eq. 2.2)."""
        s = self.model.state.slot
        s.net[self.post] += s.w[self.index] * s.y[self.pre]

    def backpropagate(self) -> None:
        """Backward: send ``w * delta_post`` back to the pre neuron."""
        s = self.model.state.slot
        s.back[self.pre] += s.w[self.index] * s.delta[self.post]

    def learn(self) -> None:
        """Gradient step on the weight: ``w -= eta * delta_post * y_pre``."""
        s = self.model.state.slot
        s.w[self.index] -= self.model.eta * s.delta[self.post] * s.y[self.pre]

    def prune(self) -> None:
        """Be deleted by a prune order: logged (with the sample count at which it went), then
        removed."""
        m = self.model
        m.prune_log.append(
            {
                "epoch": m.epoch + 1,
                "sample": m.state.samples_seen,
                "layer": self.layer,
                "pre": self.pre,
                "post": self.post,
                "weight": self.weight,
            }
        )
        self.remove()

    def remove(self) -> None:
        """Remove the agent, and with it its edge of the network space; the weight slot is
        masked and zeroed."""
        s = self.model.state.slot
        s.mask[self.index] = False
        s.w[self.index] = 0.0
        self.model.grid.disconnect(self.pre, self.post)
        super().remove()
