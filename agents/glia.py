"""Glia-Agent (GA): watches one neuron and orders it to prune."""

from __future__ import annotations

import networkx as nx
from mesa.discrete_space import FixedAgent

from glianet.agents.functions import sig_step


class GliaAgent(FixedAgent):
    """A glia cell attached 1:1 to a Neuro-Agent, holding the inhibition signal ``sig``.

    Parameters
    ----------
    model : NGModel
        The model that owns the arrays.
    index : int
        Node of the glia network and slot in the model's ``sig`` array.
    neuron : NeuroAgent
        The neuron it watches; it shares that neuron's cell.
    """

    #: What an agent reporter row says this agent is.
    agent_type = "glia"

    def __init__(self, model, index: int, neuron) -> None:
        super().__init__(model)
        self.index = index
        self.neuron = neuron
        neuron.glia = self
        self.cell = neuron.cell
        self.ordered = False
        self.fired = False

    @property
    def sig(self) -> float:
        """Inhibition signal in [0, 1]: the probability of *not* ordering a prune."""
        return self.model.state.slot.sig[self.index]

    @sig.setter
    def sig(self, value: float) -> None:
        self.model.state.slot.sig[self.index] = value

    @property
    def neuron_index(self) -> int:
        """Node (neuron index) of the neuron it watches."""
        return self.neuron.index

    @property
    def f(self) -> float:
        """Activity frequency of the neuron, as sensed in the last pruning round (eq. 2.3)."""
        return self.model.state.slot.f[self.index]

    def update_sig(self) -> None:
        """NA -> GA (eq. 2.4): ``sig <- clip(sig - alpha * g(f), 0, 1)`` with the NA's activity."""
        m = self.model
        f = self.neuron.report_activity()
        m.state.slot.f[self.index] = f
        self.sig = min(1.0, max(0.0, self.sig - m.alpha * sig_step(f, m.sig_rule, m.beta)))

    def decide(self) -> None:
        """GA -> NA: draw ``u ~ U(0, 1)``; order a prune when ``u > sig``.

        The GA fires (sets sig to 1, and its burst spreads) when its order pruned a synapse, and
        also when the neuron had nothing left to prune if the model's ``empty_order_resets``.
        """
        self.ordered = self.rng.random() > self.sig
        pruned = self.neuron.prune_weakest_synapse() if self.ordered else None
        self.fired = self.ordered and (pruned is not None or self.model.empty_order_resets)
        if self.fired:
            self.sig = 1.0

    def spread_burst(self) -> None:
        """A firing GA's 1.0 spreads over the glia network, losing ``A`` per hop (eq. 2.5)."""
        m = self.model
        hops = nx.single_source_shortest_path_length(m.glia_graph, self.index)
        for other in m.glia_agents:
            distance = hops.get(other.index)
            if distance is not None:
                other.receive_burst(1.0 - m.A * distance)

    def receive_burst(self, level: float) -> None:
        """Keep the larger of the own sig and what arrives; the nearest firing GA wins."""
        if level > self.sig:
            self.sig = level

    def remove(self) -> None:
        """Leave the model: the GA leaves the glia network and ``model.glia_agents``, its slot
        takes part in no round any more (no sig update, no draw, no burst), and its neuron
        computes on without glia (it gets no prune orders)."""
        m = self.model
        m.state.glia_alive[self.index] = False
        m.glia_graph.remove_node(self.index)
        m.glia_adjacency = m.glia_adjacency_matrix()
        m.glia_agents.remove(self)
        self.neuron.glia = None
        super().remove()
