"""Neuro-Agent (NA): a neuron that transforms its inputs and can be ordered to prune."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import FixedAgent

from glianet.agents.functions import (
    LAYER,
    LAYER_SAMPLE,
    dphi,
    is_outlier,
    output_delta,
    phi,
    senses_outlier,
    softmax_at,
)

if TYPE_CHECKING:
    from glianet.agents.synapse import SynapseAgent


class NeuroAgent(FixedAgent):
    """A neuron: ``y = phi(sum_i x_i + b)`` (paper eq. 2.1).

    It sits on its node of the network space, shares the cell with its Glia-Agent (if it has one),
    and owns slot ``index`` of the model's neuron arrays.

    Parameters
    ----------
    model : NGModel
        The model that owns the arrays.
    layer : int
        Layer of the neuron (0 = input).
    index : int
        Node of the network space and slot in the model's neuron arrays.
    """

    #: What an agent reporter row says this agent is.
    agent_type = "neuron"

    def __init__(self, model, layer: int, index: int) -> None:
        super().__init__(model)
        self.layer = layer
        self.index = index
        self.glia = None
        self.cell = model.grid[index]

    # -- slots -------------------------------------------------------------------------------
    @property
    def bias(self) -> float:
        """Bias ``b``."""
        return self.model.state.slot.b[self.index]

    @property
    def output(self) -> float:
        """Output ``y`` on the current sample."""
        return self.model.state.slot.y[self.index]

    @property
    def incoming(self) -> list[SynapseAgent]:
        """Synapse-Agents that feed this neuron, in the order of their pre neurons."""
        graph = self.model.grid.G
        return [graph.edges[pre, self.index]["synapse"] for pre in graph.predecessors(self.index)]

    # -- forward -----------------------------------------------------------------------------
    def sense(self, value: float) -> None:
        """Input neuron: output the data value."""
        self.model.state.slot.y[self.index] = value

    def activate(self) -> None:
        """Sum what the synapses delivered, add the bias, apply phi (eq. 2.1)."""
        s, i = self.model.state.slot, self.index
        a = s.net[i] + s.b[i]
        s.a[i] = a
        s.y[i] = phi(a, self.model.activation_code)
        s.net[i] = 0.0

    def normalize(self) -> None:
        """Output neuron of a softmax layer: ``y = exp(a) / sum exp(a)`` over its layer, once
        every neuron of the layer has activated."""
        s = self.model.state
        layer = s.neurons(self.layer)
        s.slot.y[self.index] = softmax_at(s.slot.a[layer], self.index - layer.start)

    # -- backward ----------------------------------------------------------------------------
    def output_error(self, target: float) -> None:
        """Output neuron: responsibility for the loss (:func:`~glianet.agents.functions.
        output_delta`): ``(y - t) phi'(a)`` for squared error, ``y - t`` for softmax-CE."""
        s, i, m = self.model.state.slot, self.index, self.model
        slope = dphi(s.a[i], s.y[i], m.activation_code)
        s.delta[i] = output_delta(s.y[i], target, slope, m.output_code)

    def backpropagate(self) -> None:
        """Hidden neuron: ``delta = phi'(a) * sum(w * delta)`` over what the synapses sent back."""
        s, i = self.model.state.slot, self.index
        s.delta[i] = s.back[i] * dphi(s.a[i], s.y[i], self.model.activation_code)
        s.back[i] = 0.0

    def learn(self) -> None:
        """Gradient step on the bias."""
        s, i = self.model.state.slot, self.index
        s.b[i] -= self.model.eta * s.delta[i]

    # -- NA -> GA: activity ------------------------------------------------------------------
    def count_outlier(self) -> None:
        """Count this sample if the output is an outlier "compared with its adjacent NAs", under
        the model's reading ``sensing`` (see :func:`~glianet.agents.functions.senses_outlier`).
        A removed neuron of the layer takes no part in the same-layer readings."""
        m, s = self.model, self.model.state
        slot = s.slot
        layer = s.neurons(self.layer)
        alive = s.alive[layer]
        if m.sensing_code in (LAYER, LAYER_SAMPLE) and not alive.all():
            position = int(alive[: self.index - layer.start].sum())
            ddof = 0 if m.sensing_code == LAYER else 1
            outlier = is_outlier(s.y[layer][alive], position, m.z, ddof)
        else:
            outlier = senses_outlier(
                m.sensing_code, self.index, self.layer, slot.y, s.sizes, s.n_off, s.w_off,
                slot.mask, slot.run_mean, slot.run_var, slot.run_n, m.z, m.mini_batch_size,
            )  # fmt: skip
        if outlier:
            slot.cnt[self.index] += 1

    def report_activity(self) -> float:
        """Activity frequency ``f = cnt / miniBatchSize`` (eq. 2.3); starts a new count."""
        s, i = self.model.state.slot, self.index
        f = s.cnt[i] / self.model.mini_batch_size
        s.cnt[i] = 0
        return f

    # -- leaving the network -----------------------------------------------------------------
    def remove(self) -> None:
        """Leave the network completely: every synapse into or out of the neuron is removed
        (masked and zeroed; not logged as a glia's prune), its Glia-Agent is removed, its node
        leaves the network space, it leaves ``model.neurons`` and it computes no more in either
        engine (its output is 0 and its layer's outlier test leaves it out).

        Raises
        ------
        ValueError
            For an input or output neuron: they are the task's interface, which cannot shrink;
            and with ``synapse_agents="lazy"``, whose network space keeps its neurons fixed.
        """
        m, s = self.model, self.model.state
        if self.layer in (0, s.n_layers - 1):
            kind = "input" if self.layer == 0 else "output"
            raise ValueError(
                f"neuron {self.index} is an {kind} neuron of task {m.task.name!r} and cannot be "
                "removed; only hidden neurons can (prune synapses with synapse.prune())"
            )
        if m.synapse_agents == "lazy":
            raise ValueError(
                f"neuron {self.index} cannot be removed with synapse_agents='lazy': the neurons "
                "of its LayeredNetwork are fixed; build the model with synapse_agents='eager', "
                "or prune the neuron's synapses with synapse.prune()"
            )
        graph = m.grid.G
        for pre, post in [*graph.in_edges(self.index), *graph.out_edges(self.index)]:
            graph.edges[pre, post]["synapse"].remove()
        if self.glia is not None:
            self.glia.remove()
        for name in ("b", "a", "y", "net", "back", "delta", "cnt", "run_mean", "run_var", "run_n"):
            getattr(s, name)[self.index] = 0
        s.alive[self.index] = False
        m.neurons.remove(self)
        super().remove()
        m.grid.remove_node(self.index)

    # -- GA -> NA: prune order ---------------------------------------------------------------
    def prune_weakest_synapse(self) -> SynapseAgent | None:
        """Obey a prune order: delete the prunable incoming synapse whose ``|w|`` is closest to 0.

        With ``keep_last_synapse`` the neuron refuses when only one incoming synapse is left.
        Returns the pruned synapse, or None if there was nothing to prune.
        """
        incoming = self.incoming
        if self.model.keep_last_synapse and len(incoming) <= 1:
            return None
        candidates = [synapse for synapse in incoming if synapse.prunable]
        if not candidates:
            return None
        weakest = min(candidates, key=lambda synapse: abs(synapse.weight))
        weakest.prune()
        return weakest
