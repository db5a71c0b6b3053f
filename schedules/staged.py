"""The staged scheduler of the NG model.

Per sample: forward (synapses transmit, neurons activate, layer by layer; a softmax output layer
then normalizes), outlier count
(NA -> GA), backward (output error, then synapses send back and neurons take their deltas, layer
by layer down), learning. Every ``mini_batch_size`` samples: sig update, prune orders, glia
propagation. Each phase has a per-agent path (``engine="agents"``: each agent of the stage applies
its rule, through ``AgentSet.do`` or, for the per-sample stages, a :class:`Stage`) and a
vectorized path (``engine="vectorized"``: the same rules over the model's arrays at once). Both
draw the same random numbers in the same order.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import dijkstra

from glianet.agents import GliaAgent, NeuroAgent, SynapseAgent
from glianet.agents.functions import SOFTMAX_CE, sig_step
from glianet.schedules import kernels


class NGStagedScheduler:
    """Runs the phases of an :class:`~glianet.model.NGModel` epoch.

    Parameters
    ----------
    model : NGModel
        The model whose agents and arrays are stepped.
    engine : {"vectorized", "agents"}
        Which path runs the phases.
    """

    def __init__(self, model, engine: str) -> None:
        self.model = model
        self.engine = engine
        self._stages = None
        self._stages_version = None
        self._rows = None
        self._rows_version = -1
        self._glia_hops = None

    # -- the epoch ---------------------------------------------------------------------------
    def run_epoch(self) -> None:
        """One epoch: ``samples_per_epoch`` samples drawn uniformly from the task's patterns."""
        m, s = self.model, self.model.state
        samples = m.rng.integers(0, m.task.n_patterns, size=m.samples_per_epoch)
        start = 0
        while start < len(samples):
            until_round = m.mini_batch_size - s.samples_seen % m.mini_batch_size
            chunk = samples[start : start + until_round]
            self.train(chunk)
            start += len(chunk)
            s.samples_seen += len(chunk)
            if m.pruning and s.samples_seen % m.mini_batch_size == 0 and m.glia_agents:
                self.pruning_round()

    def train(self, samples: np.ndarray) -> None:
        """Forward, outlier count, backward and learning on each sample, in order."""
        if self.engine == "vectorized":
            m, s, rows = self.model, self.model.state, self.present_rows
            kernels.train_samples(
                samples, m.task.inputs, m.task.targets, s.sizes, s.n_off, s.w_off,
                s.w, s.mask, s.b, s.a, s.y, s.back, s.delta, s.cnt, s.alive,
                m.counts_outliers, m.eta, m.z, m.activation_code, m.output_code,
                m.sensing_code, s.run_mean, s.run_var, s.run_n, m.mini_batch_size,
                rows.packed, rows.slots, rows.starts, rows.cols, rows.wp,
            )  # fmt: skip
            return
        for sample in samples:
            self.forward(sample)
            self.stages["glia_neurons"].do("count_outlier")
            self.backward(sample)

    def pruning_round(self) -> None:
        """sig update (NA -> GA), prune orders (GA -> NA), then glia propagation."""
        self.update_sig()
        self.model.round_activity.append(self.model.state.f.copy())
        fired = self.order_prunes()
        if fired.any():
            self.propagate_bursts(fired)

    # -- per-sample phases (per-agent path) --------------------------------------------------
    def forward(self, sample: int) -> None:
        """Input neurons sense the pattern; each layer's synapses transmit, its neurons activate."""
        m, stages = self.model, self.stages
        for neuron, value in zip(stages["neurons"][0], m.task.inputs[sample], strict=True):
            neuron.sense(float(value))
        for layer in range(1, m.state.n_layers):
            stages["synapses_into"][layer].do("transmit")
            stages["neurons"][layer].do("activate")
        if m.output_code == SOFTMAX_CE:
            stages["neurons"][-1].do("normalize")

    def backward(self, sample: int) -> None:
        """Output error, deltas layer by layer down, then every synapse and neuron learns."""
        m, stages = self.model, self.stages
        last = m.state.n_layers - 1
        for neuron, target in zip(stages["neurons"][last], m.task.targets[sample], strict=True):
            neuron.output_error(float(target))
        for layer in range(last, 1, -1):
            stages["synapses_into"][layer].do("backpropagate")
            stages["neurons"][layer - 1].do("backpropagate")
        stages["synapses"].do("learn")
        stages["learning_neurons"].do("learn")

    # -- pruning phases ----------------------------------------------------------------------
    def update_sig(self) -> None:
        """Each GA takes its NA's activity ``f`` and updates sig (eq. 2.3, 2.4)."""
        m = self.model
        if self.engine == "agents":
            self.stages["glia"].do("update_sig")
            return
        s = m.state
        alive = s.glia_alive
        neurons = s.glia_neuron[alive]
        f = s.f[alive] = s.cnt[neurons] / m.mini_batch_size
        s.cnt[neurons] = 0
        s.sig[alive] = np.clip(s.sig[alive] - m.alpha * sig_step(f, m.sig_rule, m.beta), 0.0, 1.0)

    def order_prunes(self) -> np.ndarray:
        """Each GA orders a prune when ``u > sig``; its NA prunes its weakest synapse. A GA
        whose order pruned fires (sig = 1); so does one whose order found nothing, if
        ``empty_order_resets``. Counts the orders in ``model.prune_orders``; returns who fired."""
        m = self.model
        if self.engine == "agents":
            glia = self.stages["glia"].do("decide")
            m.prune_orders += sum(glia.get("ordered"))
            return np.array(glia.get("fired"), dtype=bool)
        s = m.state
        ordered = np.zeros(len(s.sig), dtype=bool)
        ordered[s.glia_alive] = m.rng.random(int(s.glia_alive.sum())) > s.sig[s.glia_alive]
        fired = ordered.copy()
        for g in np.flatnonzero(ordered):
            synapse = self.weakest_prunable_synapse(int(s.glia_neuron[g]))
            if synapse is not None:
                synapse.prune()
            elif not m.empty_order_resets:
                fired[g] = False
        m.prune_orders += int(ordered.sum())
        s.sig[fired] = 1.0
        return fired

    def weakest_prunable_synapse(self, neuron: int) -> SynapseAgent | None:
        """Vectorized twin of :meth:`NeuroAgent.prune_weakest_synapse`'s choice, on the arrays:
        the present prunable synapse into ``neuron`` with the smallest ``|w|`` (the first pre
        neuron on ties), or None when there is none or the guard keeps the last one."""
        m, s = self.model, self.model.state
        rows = s.into(neuron)
        if m.keep_last_synapse and s.mask[rows].sum() <= 1:
            return None
        candidates = np.where(s.mask[rows] & s.prunable[rows], np.abs(s.w[rows]), np.inf)
        k = int(np.argmin(candidates))
        if not np.isfinite(candidates[k]):
            return None
        # only the chosen synapse needs its agent (made now with synapse_agents="lazy")
        return m.synapse(int(s.pre[rows.start + k]), neuron)

    def propagate_bursts(self, fired: np.ndarray) -> None:
        """``sig = max(sig, 1 - A * hops to the nearest firing GA)`` over the glia network."""
        m = self.model
        if self.engine == "agents":
            for glia in self.stages["glia"]:
                if glia.fired:
                    glia.spread_burst()
            return
        hops = self.glia_hops[np.flatnonzero(fired)].min(axis=0)
        # a GA that no firing GA can reach gets nothing (and A * inf would be NaN at A = 0)
        reached = np.isfinite(hops)
        m.state.sig[reached] = np.maximum(m.state.sig[reached], 1.0 - m.A * hops[reached])

    # -- the vectorized engine's layout -------------------------------------------------------
    @property
    def present_rows(self) -> kernels.PresentRows:
        """The vectorized engine's layout of the present synapses, rebuilt when they changed."""
        m = self.model
        if self._rows_version != m.grid.version:
            self._rows = kernels.PresentRows(m.state)
            self._rows_version = m.grid.version
        return self._rows

    @property
    def glia_hops(self) -> np.ndarray:
        """Hops between every two GAs on the glia network (inf: unreachable). The glia network
        changes only when a GA is removed (which makes a new ``model.glia_adjacency``), so this
        is computed once per glia network, not once per pruning round."""
        adjacency = self.model.glia_adjacency
        if self._glia_hops is None or self._glia_hops[0] is not adjacency:
            self._glia_hops = adjacency, dijkstra(adjacency, directed=False, unweighted=True)
        return self._glia_hops[1]

    # -- agent sets per stage ----------------------------------------------------------------
    @property
    def stages(self) -> dict:
        """The agent sets each stage acts on, rebuilt when the network's topology or the agents
        changed."""
        m = self.model
        version = (m.grid.version, len(m.agents))
        if self._stages_version != version:
            neurons = m.agents_by_type[NeuroAgent]
            synapses = m.agents.select(agent_type=SynapseAgent)
            n_layers = m.state.n_layers
            self._stages = {
                "neurons": [Stage(layer) for layer in by_layer(neurons, n_layers)],
                "learning_neurons": Stage(neurons.select(lambda agent: agent.layer > 0)),
                "synapses": Stage(synapses),
                "synapses_into": [Stage(layer) for layer in by_layer(synapses, n_layers)],
                "glia": m.agents.select(agent_type=GliaAgent),
                "glia_neurons": Stage(neurons.select(lambda agent: agent.glia is not None)),
            }
            self._stages_version = version
        return self._stages


class Stage:
    """The agents of a per-sample stage, in order.

    ``do(method)`` calls each agent's method, as ``AgentSet.do`` does, but through bound methods
    cached per stage: ``AgentSet.do`` spends about 1 us an agent on weak-reference bookkeeping,
    which at ~600 agent calls a sample is half the per-agent engine's time. Stages are rebuilt
    whenever the topology changes, so a pruned synapse never acts again.
    """

    def __init__(self, agents) -> None:
        self.agents = agents
        self._calls: dict[str, list] = {}

    def __iter__(self):
        return iter(self.agents)

    def do(self, method: str) -> None:
        """Call ``method`` on every agent of the stage, in order."""
        calls = self._calls.get(method)
        if calls is None:
            calls = self._calls[method] = [getattr(agent, method) for agent in self.agents]
        for call in calls:
            call()


def by_layer(agents, n_layers: int) -> list:
    """The agents of each layer (a synapse belongs to the layer it feeds), as AgentSets."""
    return [
        agents.select(lambda agent, layer=layer: agent.layer == layer) for layer in range(n_layers)
    ]
