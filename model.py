"""The models: NG, the neuro-glia pruning network, and MASDA, the multi-agent autoencoder.

Each model wires its agents, its space (a directed network), its staged scheduler and its
DataCollector, as Mesa's examples do; the rules are in ``agents/``, the phases in
``schedules/``, the arrays in ``state.py`` and every parameter in ``parameters.py``.
"""

from __future__ import annotations

import copy
import math
import warnings
from pathlib import Path

import mesa
import networkx as nx
import numpy as np
import scipy.sparse

from glianet import checkpoint
from glianet.agents import GliaAgent, NeuroAgent, SynapseAgent
from glianet.agents.functions import (
    ACTIVATIONS,
    OUTPUTS,
    RUNNING,
    SENSING_Z,
    SENSINGS,
    SOFTMAX_CE,
    dphi,
    output_delta,
    phi_array,
    softmax_array,
)
from glianet.agents.masda import ConstantUnit, RewardUnit, VariableUnit
from glianet.parameters import (
    MASDA_PARAMETERS,
    NG_PARAMETERS,
    ParameterError,
    ParameterTable,
    uses_table,
)
from glianet.schedules import MASDAScheduler, NGStagedScheduler
from glianet.space import DirectedNetwork, LayeredNetwork
from glianet.state import (
    CONSTANT,
    REWARD,
    VARIABLE,
    LayeredState,
    UnitPopulation,
    free_memory,
)
from glianet.tasks import get_task


class EpochModel(mesa.Model):
    """What both models share: keyword parameters from a :class:`ParameterTable`, one
    ``step()`` per epoch, a run that stops itself after ``epochs`` or when its weights diverge,
    and checkpoints.

    Subclasses provide ``parameters``, ``epochs``, ``run_epoch()``, ``collect()``,
    ``learned_arrays()`` and the checkpoint hooks ``_checkpoint_state()`` /
    ``_restore_state()``.
    """

    parameters: ParameterTable
    #: The ``format`` a checkpoint of this model declares.
    checkpoint_format: str
    #: The per-agent reporters ``agent_reporters=True`` turns on: {agent class: {column:
    #: attribute}}, for Mesa's ``agenttype_reporters``.
    AGENT_REPORTERS: dict

    def __init__(
        self,
        rng: int | np.random.Generator | None = None,
        agent_reporters: bool | dict = False,
        **params,
    ) -> None:
        #: Every parameter's value (defaults filled in, without ``rng``): what a checkpoint or
        #: :meth:`twin` rebuilds the model from. Each is also an attribute of the same name.
        self.params = self.parameters.validate(params)
        #: What the DataCollector records per agent: {agent class: {column: reporter}}.
        self.agent_reporters = self._check_agent_reporters(agent_reporters)
        rng = _check_rng(rng)
        if not isinstance(rng, int):
            rng = np.random.default_rng() if rng is None else rng
            # Mesa draws the seed of its stdlib ``random`` from a Generator: replay from before.
            initial_rng = copy.deepcopy(rng.bit_generator.state)
        else:
            initial_rng = rng
        super().__init__(rng=rng)
        vars(self).update(self.params)
        #: What replays this run's random draws (:meth:`twin`): the seed, or a generator state.
        self.initial_rng = initial_rng
        self.task = get_task(self.params["task"])
        for split, targets in (("", self.task.targets), ("test ", self.task.test_targets)):
            if targets is not None and not np.all((targets >= 0.0) & (targets <= 1.0)):
                # Outputs are read at threshold 0.5 (NG's error rate) or are sigmoids (MASDA).
                raise ParameterError(
                    "task",
                    f"task {self.task.name!r}: {split}targets must lie in [0, 1], whatever the "
                    f"activation; they range over [{targets.min():g}, {targets.max():g}]",
                )
        self.epoch = 0
        #: Why the run stopped early because its weights became NaN or infinite, or None.
        self.diverged: str | None = None
        #: Why the run stopped early because learning can no longer change its outputs
        #: (see :meth:`saturation`), or None.
        self.saturated: str | None = None

    @property
    def status(self) -> str:
        """``"running"``, ``"finished"`` (all epochs run), ``"diverged"`` or ``"saturated"``
        (stopped early; :attr:`status_message` says why)."""
        if self.diverged:
            return "diverged"
        if self.saturated:
            return "saturated"
        return "finished" if self.epoch >= self.epochs else "running"

    @property
    def status_message(self) -> str:
        """Why a diverged or saturated run stopped ("" otherwise)."""
        return self.diverged or self.saturated or ""

    def saturation(self) -> str | None:
        """Why learning can no longer change the model's outputs, or None (it can). A model
        without such a test (MASDA) is never saturated."""
        return None

    @classmethod
    def _check_agent_reporters(cls, requested: bool | dict) -> dict:
        if requested is True:
            return cls.AGENT_REPORTERS
        if requested is False or requested is None:
            return {}
        if isinstance(requested, dict) and all(
            isinstance(kind, type) and issubclass(kind, mesa.Agent)
            and isinstance(columns, dict)
            and all(isinstance(c, str) and (isinstance(r, str) or callable(r))
                    for c, r in columns.items())
            for kind, columns in requested.items()
        ):  # fmt: skip
            return requested
        raise ParameterError(
            "agent_reporters",
            f"agent_reporters={requested!r} is invalid: it must be True, False or a dict "
            "{agent class: {column: attribute name or function}}, e.g. "
            f"{{{', '.join(f'{k.__name__}: {v}' for k, v in cls.AGENT_REPORTERS.items())}}}",
        )

    def make_datacollector(self) -> mesa.DataCollector:
        """The model's DataCollector: its model reporters, and the agent reporters asked for."""
        return mesa.DataCollector(
            model_reporters=self._reporters(), agenttype_reporters=self.agent_reporters
        )

    def step(self) -> None:
        """One epoch, then data collection; stop at the end, or early if the weights diverge
        or learning saturates.

        Raises
        ------
        RuntimeError
            If the model stopped early (diverged or saturated): another epoch would change
            nothing or make NaN of the data. A finished model's ``step()`` does nothing.
        """
        if self.diverged or self.saturated:
            self.running = False
            raise RuntimeError(
                f"{type(self).__name__} stopped in epoch {self.epoch} ({self.status}: "
                f"{self.status_message}); it does not run again"
            )
        if self.epoch >= self.epochs:
            self.running = False
            return
        self.run_epoch()
        self.epoch += 1
        self.collect()
        if not all(np.isfinite(array).all() for array in self.learned_arrays()):
            self.diverged = (
                f"weights became NaN or infinite in epoch {self.epoch}; lower eta={self.eta}"
            )
        else:
            self.saturated = self.saturation()
        if self.diverged or self.saturated:
            warnings.warn(
                f"{type(self).__name__} stopped ({self.status}): {self.status_message}",
                RuntimeWarning,
                stacklevel=2,
            )
            self.running = False
        if self.epoch >= self.epochs:
            self.running = False

    def twin(self, **changes) -> EpochModel:
        """A new model with this one's parameters (but ``changes``) and the same initial random
        state: e.g. ``model.twin(pruning=False)`` is the no-pruning run of the same seed."""
        rng = self.initial_rng
        if isinstance(rng, dict):
            rng = np.random.default_rng()
            rng.bit_generator.state = self.initial_rng
        changes.setdefault("agent_reporters", self.agent_reporters)
        return type(self)(**{**self.params, **changes}, rng=rng)

    def save(self, path: str | Path) -> None:
        """Write a checkpoint of the model as it is now."""
        checkpoint.save(self, path)

    @classmethod
    def load(cls, path: str | Path, agent_reporters: bool | dict | None = None):
        """Rebuild a model from a checkpoint; it continues exactly as the saved one would have.

        ``agent_reporters``: None (default) collects the agent data the saved model collected;
        a custom dict of reporters must be passed again. Raises
        :class:`glianet.checkpoint.CheckpointError` for a file that cannot be loaded.
        """
        return checkpoint.load(cls, path, agent_reporters)


def _check_rng(rng):
    if rng is None or isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, bool) or not isinstance(rng, int | np.integer) or rng < 0:
        raise ParameterError(
            "rng", f"rng={rng!r} is invalid: it must be None, an integer >= 0 or a Generator"
        )
    return int(rng)


@uses_table
class NGModel(EpochModel):
    """Neuro-glia pruning network (SPEC §1): a layered net of Neuro-, Synapse- and Glia-Agents.

    The network learns its task by online backpropagation while Glia-Agents prune it: every
    ``mini_batch_size`` samples each GA updates its inhibition signal ``sig`` from its neuron's
    activity, fires with probability ``1 - sig``, orders its neuron to delete the weakest incoming
    synapse, and spreads its burst over the glia network to suppress pruning nearby.
    One ``step()`` is one epoch; the model stops itself (``running = False``) after ``epochs``.
    Every parameter is a keyword (see ``glianet.parameters.NG_PARAMETERS``) and an attribute.

    Notes
    -----
    Choices where the papers and SPEC are silent: weights start Glorot-uniform,
    ``U(+-sqrt(6 / (fan_in + fan_out)))``, biases at 0; the error is ``(y - t)^2 / 2``; the
    default outlier test uses the population standard deviation of the layer, the neuron itself
    included, and ``z = 1.5``, where the glia's sensing is live (SPEC §4; measured in the README
    and notebook 01); ties for the weakest synapse go to the first pre neuron; GAs draw and fire
    all together, then bursts spread. Each epoch the DataCollector records what the glia sensed
    (:meth:`sensed_activity`) and, cumulatively, prune orders, prunes done and empty orders.
    """

    parameters = NG_PARAMETERS
    checkpoint_format = "glianet-ng-checkpoint"
    AGENT_REPORTERS = {
        SynapseAgent: {"agent_type": "agent_type", "layer": "layer", "pre": "pre", "post": "post",
                       "weight": "weight"},
        GliaAgent: {"agent_type": "agent_type", "neuron": "neuron_index", "sig": "sig", "f": "f"},
    }  # fmt: skip

    def __init__(self, rng: int | np.random.Generator | None = None, **params) -> None:
        super().__init__(rng=rng, **params)
        if self.synapse_agents == "lazy" and self.engine == "agents":
            raise ParameterError(
                "synapse_agents",
                "synapse_agents='lazy' needs engine='vectorized': the per-agent engine steps "
                "every Synapse-Agent, so they would all be made (that is synapse_agents='eager')",
            )
        self.layers = self._check_layers()
        self.glia_layers = self.glia_layers_of(self.layers, self.glia_layers, self.protect_io)
        self.activation_code = ACTIVATIONS[self.activation]
        self.sensing_code = SENSINGS[self.sensing]
        if self.z is None:
            self.z = SENSING_Z[self.sensing]
        self.output_code = OUTPUTS[self.output]
        if self.output_code == SOFTMAX_CE:
            self._check_distributions()
        self.counts_outliers = np.isin(np.arange(len(self.layers)), self.glia_layers)
        self.state = LayeredState(
            self.layers, n_glia=sum(self.layers[layer] for layer in self.glia_layers)
        )
        self.prune_log: list[dict] = []
        self.prune_orders = 0
        #: The activity ``f`` every GA sensed, one array per pruning round of the current epoch.
        self.round_activity: list[np.ndarray] = []

        self._build_network()
        self.glia_graph = self._build_glia_graph(self.glia_topology)
        self.glia_adjacency = self.glia_adjacency_matrix()
        self.scheduler = NGStagedScheduler(self, self.engine)
        self.datacollector = self.make_datacollector()
        self.collect()

    # -- construction ------------------------------------------------------------------------
    #: Memory of one synapse, by ``synapse_agents``: eager, its Synapse-Agent, its edge of the
    #: network space and its array slots; lazy, its array slots and what a checkpoint's loading
    #: adds (benchmarks/ng_memory.py measured about 720 and 28-38 bytes; these keep a margin).
    BYTES_PER_SYNAPSE = {"eager": 1000, "lazy": 100}

    def _check_layers(self) -> tuple[int, ...]:
        sizes = self.layers
        if sizes[0] != self.task.n_inputs or sizes[-1] != self.task.n_outputs:
            raise ParameterError(
                "layers",
                f"layers={list(sizes)} does not fit task {self.task.name!r}: it needs "
                f"{self.task.n_inputs} input and {self.task.n_outputs} output neurons",
            )
        available = free_memory()
        synapses = sum(a * b for a, b in zip(sizes, sizes[1:], strict=False))
        needed = synapses * self.BYTES_PER_SYNAPSE[self.synapse_agents]
        if needed > available:
            lazy = "" if self.synapse_agents == "lazy" else " (synapse_agents='lazy' needs less)"
            raise ParameterError(
                "layers",
                f"layers={list(sizes)} has {synapses:,} synapses, which need about "
                f"{needed / 2**30:,.1f} GiB with synapse_agents={self.synapse_agents!r}; this "
                f"machine has {available / 2**30:,.1f} GiB free{lazy}",
            )
        if self.samples_per_epoch * 8 > available:  # the epoch's sample indices
            raise ParameterError(
                "samples_per_epoch",
                f"samples_per_epoch={self.samples_per_epoch:,} needs more memory than this "
                f"machine has free ({available / 2**30:,.1f} GiB)",
            )
        return sizes

    def _check_distributions(self) -> None:
        """A softmax layer's targets must be probability distributions over >= 2 outputs."""
        t = self.task.targets
        if t.shape[1] < 2 or np.any(t < 0) or not np.allclose(t.sum(axis=1), 1.0):
            raise ParameterError(
                "output",
                f"output={self.output!r} is invalid for task {self.task.name!r}: softmax-ce needs "
                f"targets that are distributions over >= 2 outputs (each row >= 0, summing to 1)",
            )

    @staticmethod
    def glia_layers_of(
        layers: tuple[int, ...], glia_layers: tuple[int, ...] | None, protect_io: bool
    ) -> tuple[int, ...]:
        """The layers whose neurons get a Glia-Agent: ``glia_layers``, checked, or those
        ``protect_io`` implies."""
        n_layers = len(layers)
        if glia_layers is None:
            first = 2 if protect_io else 1
            return tuple(range(first, n_layers - 1))
        for layer in glia_layers:
            if layer >= n_layers:
                raise ParameterError(
                    "glia_layers",
                    f"glia_layers={list(glia_layers)} is invalid: layer {layer} does not "
                    f"exist (layers are 0..{n_layers - 1}; input layer 0 cannot have glia)",
                )
        return glia_layers

    def _build_network(self) -> None:
        """Neurons on the nodes of a directed network space, synapses on its edges (eager) or read
        from the mask (lazy), glia on the neurons."""
        s, sizes, last = self.state, self.layers, len(self.layers) - 1
        positions = {
            int(s.n_off[layer] + k): (float(layer), (size - 1) / 2 - k)
            for layer, size in enumerate(sizes)
            for k in range(size)
        }
        if self.synapse_agents == "lazy":
            self.grid = LayeredNetwork(s, self._make_synapse, random=self.random, layout=positions)
        else:
            graph = nx.DiGraph()
            for index in positions:
                graph.add_node(index, layer=s.layer_of(index))
            self.grid = DirectedNetwork(graph, random=self.random, layout=positions)
        self.neurons = [
            NeuroAgent(self, layer, int(s.n_off[layer] + k))
            for layer, size in enumerate(sizes)
            for k in range(size)
        ]
        for layer in range(1, len(sizes)):
            limit = math.sqrt(6.0 / (sizes[layer] + sizes[layer - 1]))
            s.weights(layer)[:] = self.rng.uniform(-limit, limit, (sizes[layer], sizes[layer - 1]))
            touches_io = layer == 1 or layer == last
            has_glia = layer in self.glia_layers
            prunable = has_glia and not (self.protect_io and touches_io)
            s.prunable[s.synapses(layer)] = prunable
            if self.synapse_agents == "eager":
                for index in range(*s.synapses(layer).indices(len(s.w))):
                    self._make_synapse(index)
        self.glia_agents = []
        for neuron in self.neurons:
            if neuron.layer in self.glia_layers:
                s.glia_neuron[len(self.glia_agents)] = neuron.index
                self.glia_agents.append(GliaAgent(self, len(self.glia_agents), neuron))
        s.sig[:] = self.sig0

    def _build_glia_graph(self, topology: str | nx.Graph) -> nx.Graph:
        n = self.state.n_glia
        if isinstance(topology, nx.Graph):
            if set(topology.nodes) != set(range(n)):
                nodes = sorted(map(repr, topology.nodes))[:5]
                raise ParameterError(
                    "glia_topology",
                    f"glia_topology is a graph with nodes {', '.join(nodes)}...; it must have "
                    f"exactly the glia indices 0..{n - 1} as nodes",
                )
            return nx.Graph(topology)
        if topology == "ring":
            return nx.cycle_graph(n)
        if topology == "complete":
            return nx.complete_graph(n)
        glia_graph = nx.empty_graph(n)
        if topology == "synaptic":
            s = self.state
            glia_of = np.full(len(s.b), -1)
            glia_of[s.glia_neuron] = np.arange(n)
            for layer in range(1, s.n_layers):  # from the arrays: no Synapse-Agent is needed
                rows = s.synapses(layer)
                pre, post = glia_of[s.pre[rows]], glia_of[s.post[rows]]
                both = s.mask[rows] & (pre >= 0) & (post >= 0)
                glia_graph.add_edges_from(zip(pre[both].tolist(), post[both].tolist(), strict=True))
        return glia_graph

    def glia_adjacency_matrix(self) -> scipy.sparse.csr_array | None:
        """The glia network as a sparse matrix over all glia slots (a removed GA's row and column
        are empty); None without glia."""
        n = self.state.n_glia
        if not n:
            return None
        edges = np.array(list(self.glia_graph.edges), dtype=np.int64).reshape(-1, 2)
        rows = np.concatenate((edges[:, 0], edges[:, 1]))
        cols = np.concatenate((edges[:, 1], edges[:, 0]))
        ones = np.ones(len(rows))
        return scipy.sparse.csr_array((ones, (rows, cols)), shape=(n, n))

    def _make_synapse(self, index: int) -> SynapseAgent:
        """The Synapse-Agent of synapse slot ``index``; it attaches itself to the space."""
        s = self.state
        layer = s.layer_of(int(s.post[index]))
        return SynapseAgent(self, index, layer, int(s.pre[index]), int(s.post[index]))

    # -- data collection ---------------------------------------------------------------------
    @staticmethod
    def layer_column(layer: int) -> str:
        """Name of the reporter of the synapses left into ``layer``."""
        return f"synapses_l{layer}"

    @classmethod
    def result_columns(cls, params: dict) -> dict[str, str]:
        """Every model reporter a run with ``params`` (validated) can produce, with its type:
        "int" for counts, "float" for measures. ``mean_sig`` and ``f_active`` are there even
        without glia."""
        columns = {"epoch": "int", "synapses": "int"}
        columns.update(dict.fromkeys(cls.measure_names(get_task(params["task"])), "float"))
        columns.update({"prune_orders": "int", "pruned": "int", "empty_orders": "int",
                        "mean_sig": "float"})  # fmt: skip
        glia_layers = cls.glia_layers_of(
            tuple(params["layers"]), params["glia_layers"], params["protect_io"]
        )
        for layer in glia_layers:
            for stat in ("f_mean", "f_sd", "f_active"):
                columns[f"{stat}_l{layer}"] = "float"
        columns["f_active"] = "float"
        for layer in range(1, len(params["layers"])):
            columns[cls.layer_column(layer)] = "int"
        return columns

    def _reporters(self) -> dict:
        reporters = {
            "epoch": "epoch",
            "synapses": lambda m: m.synapse_count,
            **{name: lambda m, name=name: m.measured[name] for name in self.measure()},
            "prune_orders": "prune_orders",
            "pruned": lambda m: len(m.prune_log),
            "empty_orders": lambda m: m.prune_orders - len(m.prune_log),
        }
        if self.state.n_glia:
            reporters["mean_sig"] = lambda m: float(m.state.sig[m.state.glia_alive].mean())
            for key in self.sensed_activity():
                reporters[key] = lambda m, key=key: m.activity[key]
        for layer in range(1, len(self.layers)):
            reporters[self.layer_column(layer)] = lambda m, layer=layer: int(
                m.state.present(layer).sum()
            )
        return reporters

    def collect(self) -> None:
        """Measure once (:meth:`measure`) and the sensed activity, then let the DataCollector
        record everything."""
        self.measured = self.measure()
        self.error, self.mse = self.measured["error"], self.measured["mse"]
        self.activity = self.sensed_activity() if self.state.n_glia else {}
        self.datacollector.collect(self)

    def sensed_activity(self) -> dict[str, float]:
        """What the glia sensed in this epoch's pruning rounds (NaN for an epoch without one).

        Returns
        -------
        dict
            ``f_mean_l{L}``, ``f_sd_l{L}``: mean and standard deviation of ``f`` over the
            (GA, round) pairs of glia layer ``L``; ``f_active_l{L}``: the share of those pairs
            with ``f > 0``; ``f_active``: that share over every GA.
        """
        s = self.state
        # a removed GA (glia.remove()) sensed nothing: it is left out
        f = np.array(self.round_activity).reshape(-1, s.n_glia)[:, s.glia_alive]
        glia_layer = np.searchsorted(s.n_off, s.glia_neuron[s.glia_alive], side="right") - 1
        empty = len(f) == 0
        stats = {}
        for layer in self.glia_layers:
            pairs = f[:, glia_layer == layer]
            stats[f"f_mean_l{layer}"] = math.nan if empty else float(pairs.mean())
            stats[f"f_sd_l{layer}"] = math.nan if empty else float(pairs.std())
            stats[f"f_active_l{layer}"] = math.nan if empty else float((pairs > 0).mean())
        stats["f_active"] = math.nan if empty else float((f > 0).mean())
        return stats

    # -- running -----------------------------------------------------------------------------
    def run_epoch(self) -> None:
        """Training and pruning of one epoch."""
        self.round_activity = []
        self.scheduler.run_epoch()

    def learned_arrays(self) -> tuple[np.ndarray, ...]:
        """What learning changes: weights and biases."""
        return self.state.w, self.state.b

    # -- measurements ------------------------------------------------------------------------
    def predict(self, inputs: np.ndarray | None = None) -> np.ndarray:
        """Outputs of the network for ``inputs`` (default: all the task's patterns)."""
        return self._forward(inputs)[-1][1]

    def _forward(self, inputs: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(a, y)`` of every layer after the input layer, for ``inputs`` (default: all the
        task's patterns): one row a pattern."""
        s = self.state
        y = self.task.inputs if inputs is None else np.asarray(inputs, dtype=np.float64)
        layers = []
        for layer in range(1, s.n_layers):
            a = y @ s.weights(layer).T + s.biases(layer)
            if layer == s.n_layers - 1 and self.output_code == SOFTMAX_CE:
                y = softmax_array(a)
            else:
                y = phi_array(a, self.activation_code)
            layers.append((a, y))
        return layers

    def _slopes(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``phi'(a)`` of a layer, elementwise (:func:`~glianet.agents.functions.dphi`)."""
        return np.vectorize(dphi, otypes=[np.float64])(a, y, self.activation_code)

    #: Gradient (and spread of outputs) below which learning counts as stopped (see
    #: :meth:`saturation`).
    SATURATION_GRADIENT = 1e-10

    def output_gradients(self) -> np.ndarray:
        """``delta = dE/da`` of every output neuron on every pattern of the task, under the
        output rule (:func:`~glianet.agents.functions.output_delta`): ``(y - t) phi'(a)`` for
        ``"sigmoid-mse"``, ``y - t`` for ``"softmax-ce"``. Backpropagation starts from these;
        every other gradient is proportional to them."""
        a, y = self._forward()[-1]
        slope = 0.0 if self.output_code == SOFTMAX_CE else self._slopes(a, y)
        return output_delta(y, self.task.targets, slope, self.output_code)

    def saturation(self) -> str | None:
        """Why learning can no longer correct the network's wrong outputs, or None (it can).

        Backpropagation moves a weight by ``eta`` times a product of deltas, and every delta
        of a layer is its slope ``phi'(a)`` times what comes from above. With the error rate
        above 0, the network is saturated when, on every pattern of the task (tolerance
        :attr:`SATURATION_GRADIENT`):

        - every output delta (:meth:`output_gradients`) is 0: no weight moves (a sigmoid or
          tanh output stuck at a bound, a ReLU output dead; a ``"softmax-ce"`` delta ``y - t``
          vanishes only where the output is right, so this case is ``"sigmoid-mse"``'s); or
        - a hidden layer's slopes are all 0 and its outputs are the same on every pattern:
          nothing at or below it learns again, so the network answers every input alike, and
          the targets differ (either output rule).

        A network that is right everywhere is never saturated.
        """
        if self.error == 0.0:
            return None
        cause = None
        gradient = float(np.abs(self.output_gradients()).max())
        if gradient <= self.SATURATION_GRADIENT:
            cause = f"the largest output gradient is {gradient:.3g}"
        elif np.ptp(self.task.targets, axis=0).max() > 0:
            cause = self._collapsed_layer()
        if cause is None:
            return None
        return (
            f"saturated in epoch {self.epoch}: error rate {self.error:g} and {cause}, so learning "
            f"cannot correct it; lower eta={self.eta} or change the activation"
        )

    def _collapsed_layer(self) -> str | None:
        """The first hidden layer whose slopes are all 0 and whose outputs are the same on
        every pattern (tolerance :attr:`SATURATION_GRADIENT`), said in words; or None."""
        tolerance = self.SATURATION_GRADIENT
        for layer, (a, y) in enumerate(self._forward()[:-1], start=1):
            if np.ptp(y, axis=0).max() <= tolerance and self._slopes(a, y).max() <= tolerance:
                return (
                    f"hidden layer {layer} is pinned (slopes <= {tolerance:g}) to the same "
                    "outputs on every pattern, so the network answers every input alike"
                )
        return None

    def evaluate(self) -> tuple[float, float]:
        """(error rate at threshold 0.5, MSE) over the task's training patterns."""
        outputs, targets = self.predict(), self.task.targets
        return error_rate(outputs, targets), mean_squared_error(outputs, targets)

    def measure(self) -> dict[str, float]:
        """What is recorded each epoch on the network as it is now (one prediction a split).

        Returns
        -------
        dict
            ``error`` (:func:`error_rate`) and ``mse`` on the training patterns; ``accuracy``
            (:func:`class_accuracy`) if the targets are one-hot; the same with the prefix
            ``test_`` on the task's test split, if it has one.
        """
        task = self.task
        splits = [("", task.inputs, task.targets)]
        if task.has_test:
            splits.append(("test_", task.test_inputs, task.test_targets))
        measured = {}
        for prefix, inputs, targets in splits:
            outputs = self.predict(inputs)
            measured[f"{prefix}error"] = error_rate(outputs, targets)
            measured[f"{prefix}mse"] = mean_squared_error(outputs, targets)
            if task.one_hot:
                measured[f"{prefix}accuracy"] = class_accuracy(outputs, targets)
        return measured

    @staticmethod
    def measure_names(task) -> list[str]:
        """The names :meth:`measure` reports on ``task``, in order."""
        names = ["error", "mse", "accuracy"] if task.one_hot else ["error", "mse"]
        prefixes = ("", "test_") if task.has_test else ("",)
        return [prefix + name for prefix in prefixes for name in names]

    @property
    def synapse_count(self) -> int:
        """Synapses left."""
        return int(self.state.mask.sum())

    def synapse(self, pre: int, post: int) -> SynapseAgent:
        """The Synapse-Agent of the synapse ``pre -> post`` (with ``synapse_agents="lazy"`` it is
        made now if it was not asked for before).

        Raises ``KeyError`` when there is no such synapse (never there, or pruned).
        """
        try:
            return self.grid.G.edges[pre, post]["synapse"]
        except KeyError:
            message = f"there is no synapse {pre} -> {post} (never there, or pruned)"
            raise KeyError(message) from None

    # -- checkpoint hooks ----------------------------------------------------------------------
    #: The arrays a checkpoint saves, with their types.
    CHECKPOINT_ARRAYS = {
        "w": np.float64, "mask": np.bool_, "b": np.float64, "cnt": np.int64, "sig": np.float64,
        "run_mean": np.float64, "run_var": np.float64, "run_n": np.int64,
    }  # fmt: skip
    checkpoint_members = tuple(CHECKPOINT_ARRAYS)

    def _checkpoint_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """What a checkpoint holds beyond the parameters and random states: (meta, arrays)."""
        s = self.state
        if not (s.alive.all() and s.glia_alive.all()):
            raise ValueError(
                "this model has removed neurons or glia agents, which a checkpoint cannot hold"
            )
        meta = {
            "samples_seen": s.samples_seen,
            "prune_orders": self.prune_orders,
            "prune_log": self.prune_log,
        }
        return meta, {name: getattr(s, name) for name in self.CHECKPOINT_ARRAYS}

    @classmethod
    def _checkpoint_arrays(cls, params: dict, meta: dict) -> dict[str, tuple]:
        """The arrays loading must find, from the checked parameters: name -> (dtype, shape)."""
        layers = params["layers"]
        glia_layers = cls.glia_layers_of(layers, params["glia_layers"], params["protect_io"])
        neurons = sum(layers)
        synapses = sum(a * b for a, b in zip(layers, layers[1:], strict=False))
        shapes = {
            "w": synapses, "mask": synapses, "b": neurons, "cnt": neurons,
            "sig": sum(layers[layer] for layer in glia_layers), "run_mean": neurons,
            "run_var": neurons, "run_n": neurons,
        }  # fmt: skip
        return {name: (dtype, (shapes[name],)) for name, dtype in cls.CHECKPOINT_ARRAYS.items()}

    def _restore_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Put back what :meth:`_checkpoint_state` saved, for ``self.epoch`` epochs run (arrays
        already checked by type and shape; their contents are checked here against the model);
        pruned synapses leave the space (in lazy mode, with the mask).

        Raises
        ------
        ValueError
            Naming what does not fit the model.
        """
        self._check_restored(meta, arrays)
        s = self.state
        if self.synapse_agents == "eager":
            for index in np.flatnonzero(s.mask & ~arrays["mask"]):
                self.synapse(int(s.pre[index]), int(s.post[index])).remove()
        for name in self.CHECKPOINT_ARRAYS:
            getattr(s, name)[:] = arrays[name]
        s.samples_seen = int(meta["samples_seen"])
        self.prune_orders = int(meta["prune_orders"])
        self.prune_log = list(meta["prune_log"])

    def _check_running_statistics(
        self, arrays: dict[str, np.ndarray], glia: np.ndarray, seen: int
    ) -> None:
        """The running output statistics of the ``"running"`` reading: kept only for neurons
        with a Glia-Agent and only under that reading, at most one sample a sample seen, the
        untouched ones 0, no negative variance, NaN only in a diverged run."""
        run_mean, run_var, run_n = arrays["run_mean"], arrays["run_var"], arrays["run_n"]
        kept = glia if self.sensing_code == RUNNING else np.zeros_like(glia)
        if (run_n < 0).any() or (run_n > seen).any() or run_n[~kept].any():
            raise ValueError("running sample counts a run of this model cannot have")
        if not self.diverged and (np.isnan(run_mean).any() or np.isnan(run_var).any()):
            raise ValueError("NaN running statistics in a run that did not diverge")
        untouched = run_n == 0
        if run_mean[untouched].any() or run_var[untouched].any() or (run_var < 0).any():
            raise ValueError("running statistics a run of this model cannot have")

    PRUNE_LOG_KEYS = {"epoch", "sample", "layer", "pre", "post", "weight"}

    def _check_restored(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """What a run of this model could have left after ``self.epoch`` epochs, or ValueError."""
        s, mask = self.state, arrays["mask"]
        seen, orders, log = (meta.get(k) for k in ("samples_seen", "prune_orders", "prune_log"))
        if isinstance(seen, bool) or seen != self.epoch * self.samples_per_epoch:
            raise ValueError(f"samples_seen={seen!r} is not {self.epoch} epochs' samples")
        sig = arrays["sig"]
        if not np.all((sig >= 0) & (sig <= 1)):  # NaN fails too
            raise ValueError("sig values outside [0, 1]")
        if not self.diverged and not all(np.isfinite(arrays[n]).all() for n in ("w", "b")):
            raise ValueError("NaN or infinite weights in a run that did not diverge")
        pruned = ~mask
        if (pruned & ~s.prunable).any() or (pruned.any() and not self.pruning):
            raise ValueError("a synapse the model never prunes is missing from the mask")
        if (arrays["w"][pruned] != 0).any():
            raise ValueError("a pruned synapse has a weight")
        incoming = np.bincount(s.post[mask], minlength=len(s.b))
        if self.keep_last_synapse and (incoming[self.layers[0] :] == 0).any():
            raise ValueError("a neuron lost its last incoming synapse, which the guard forbids")
        cnt, glia = arrays["cnt"], np.zeros(len(s.b), dtype=bool)
        glia[s.glia_neuron] = True
        if (cnt < 0).any() or (cnt > seen).any() or cnt[~glia].any():
            raise ValueError("outlier counts a run of this model cannot have")
        self._check_running_statistics(arrays, glia, seen)
        if not isinstance(log, list) or not all(
            isinstance(entry, dict) and set(entry) == self.PRUNE_LOG_KEYS for entry in log
        ):
            raise ValueError("prune_log is not a list of prunes")
        logged = sorted((entry["pre"], entry["post"]) for entry in log)
        if logged != sorted(zip(s.pre[pruned].tolist(), s.post[pruned].tolist(), strict=True)):
            raise ValueError("prune_log does not name the pruned synapses")
        if isinstance(orders, bool) or not isinstance(orders, int) or orders < len(log):
            raise ValueError(f"prune_orders={orders!r} is fewer than the prunes logged")


def error_rate(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Share of patterns with any output on the wrong side of 0.5 (the paper's error)."""
    return float(np.mean(np.any((outputs > 0.5) != (targets > 0.5), axis=1)))


def mean_squared_error(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Mean squared difference of outputs and targets, over patterns and outputs."""
    return float(np.mean((outputs - targets) ** 2))


def class_accuracy(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Share of patterns whose largest output is the target's class (its largest target)."""
    return float(np.mean(np.argmax(outputs, axis=1) == np.argmax(targets, axis=1)))


@uses_table
class MASDAModel(EpochModel):
    """Multi-agent stacked denoising autoencoder (SPEC §2, Kurotaki & Matsuo 2015).

    Constant units hold the data (inputs and teacher labels) and a bias; reward units predict a
    constant or a stable variable unit; variable units learn features. Each epoch, unconnected
    variable units join at a depth, every sample is fed to the constants and the units compute by
    messages, then the summed weight changes are applied, units whose learning has plateaued turn
    stable (and become targets for the next depth), and units that earn little credit die
    stochastically and are replaced. One ``step()`` is one pretraining epoch. Every parameter is a
    keyword (see ``glianet.parameters.MASDA_PARAMETERS``) and an attribute.

    Notes
    -----
    Choices where the paper is silent (SPEC §2 and §4 readings are the defaults above): the
    reward of a reward unit is ``1 - |delta|``; a variable unit's score is its own credit, the
    second-order loss increase its reward units would see without its message
    (:meth:`RewardUnit.credit`), summed over them, per sample, as a running mean over its life;
    stability compares the error of what a unit feeds every ``stable_window`` epochs of its life
    (:meth:`VariableUnit.consider_stability`; ``plateau="weights"``: the change of its own
    weights instead); a unit's prediction ``v = sigmoid(a)``
    and a reward unit's ``delta = v - v_target`` (the cross-entropy gradient of a standard
    denoising autoencoder); the bias unit feeds every variable and reward unit; a new reward unit
    starts with weight 0 from the bias; on digits the summed changes are applied every 32
    samples (``update_every``), not once per epoch as the paper says, which learns too slowly
    there; culling ties (``cull="fraction"``) go to the older slot;
    stochastic culling draws one number per state-A unit old enough, in slot order; weights
    start Glorot-uniform.
    """

    parameters = MASDA_PARAMETERS
    checkpoint_format = "glianet-masda-checkpoint"
    AGENT_REPORTERS = {
        unit: {"agent_type": "agent_type", "name": "name", "depth": "depth", "state": "state",
               "score": "score"}
        for unit in (ConstantUnit, VariableUnit, RewardUnit)
    }  # fmt: skip

    def __init__(self, rng: int | np.random.Generator | None = None, **params) -> None:
        super().__init__(rng=rng, **params)
        self._check_population_memory()
        self.units = UnitPopulation(random=self.random, marks=self.plateau == "weights")
        self.grid = self.units.grid
        self.messages = 0
        self.last_epoch = {"culled": 0, "created": 0, "stabilized": 0}
        # One draw seeds every unit's own corruption noise.
        self.seed_sequence_entropy = int(self.rng.integers(2**63))
        self.scheduler = MASDAScheduler(self, self.engine)
        self._create_constants()
        for k in range(self.n_units):
            VariableUnit(self, f"h{k}")
        self.datacollector = self.make_datacollector()
        self.collect()

    @staticmethod
    def starting_units(task, n_units: int, teacher: bool) -> int:
        """Units a model starts with: a constant per input (and per target, with ``teacher``)
        and a reward unit predicting each, the bias, and ``n_units`` variable units."""
        data = task.n_inputs + (task.n_outputs if teacher else 0)
        return 2 * data + 1 + n_units

    def _check_population_memory(self) -> None:
        """Refuse an ``n_units`` whose starting population (constants, their reward units and
        the variable units) does not fit this machine's free memory."""
        start = self.starting_units(self.task, self.n_units, self.teacher)
        needed = UnitPopulation.bytes_needed(start, marks=self.plateau == "weights")
        available = free_memory()
        if needed > available:
            raise ParameterError(
                "n_units",
                f"n_units={self.n_units:,} makes {start:,} units, which need about "
                f"{needed / 2**30:,.1f} GiB; this machine has {available / 2**30:,.1f} GiB free",
            )

    def _create_constants(self) -> None:
        """Constant units for every input and teacher dimension and the bias, and a reward unit
        predicting each data constant (Algorithm 1's first lines)."""
        n_inputs, n_outputs = self.task.n_inputs, self.task.n_outputs
        inputs = [ConstantUnit(self, self.corruption, f"x{i}") for i in range(n_inputs)]
        n_labels = n_outputs if self.teacher else 0
        labels = [ConstantUnit(self, self.label_corruption, f"t{j}") for j in range(n_labels)]
        self.bias = ConstantUnit(self, 0.0, "bias")
        self.units.bias_slot = self.bias.slot
        self.data_constants = inputs + labels
        self.constants = [*self.data_constants, self.bias]
        for constant in self.data_constants:
            self.units.connect(self.bias, RewardUnit(self, constant), 0.0)

    @property
    def epochs(self) -> int:
        """Steps the model runs: its pretraining epochs."""
        return self.pretrain_epochs

    # -- running -----------------------------------------------------------------------------
    def run_epoch(self) -> None:
        """One pretraining epoch (Algorithm 1's loop body)."""
        self.last_epoch = self.scheduler.run_epoch()

    def learned_arrays(self) -> tuple[np.ndarray, ...]:
        """What learning changes: the weights of the units there are."""
        return (self.units.W[: self.units.size, : self.units.size],)

    # -- data collection ---------------------------------------------------------------------
    @staticmethod
    def units_column(depth: int, stable: bool) -> str:
        """Name of the reporter of the variable units of ``depth`` in state B (or A)."""
        return f"{'B' if stable else 'A'}_d{depth}"

    @staticmethod
    def reconstruction_column(depth: int) -> str:
        """Name of the reporter of the reconstruction error of the reward units of ``depth``."""
        return f"recon_d{depth}"

    @classmethod
    def result_columns(cls, params: dict) -> dict[str, str]:
        """Every model reporter a run with ``params`` (validated) can produce, with its type:
        "int" for counts, "float" for measures."""
        columns = {"epoch": "int", "culled": "int", "created": "int", "stabilized": "int",
                   "unconnected": "int", "mean_score": "float", "messages": "int"}  # fmt: skip
        for d in range(1, params["max_depth"] + 1):
            for stable in (False, True):
                columns[cls.units_column(d, stable)] = "int"
        for d in range(params["max_depth"]):
            columns[cls.reconstruction_column(d)] = "float"
        columns["label_error"] = "float"
        return columns

    def _reporters(self) -> dict:
        reporters = {
            "epoch": "epoch",
            "culled": lambda m: m.last_epoch["culled"],
            "created": lambda m: m.last_epoch["created"],
            "stabilized": lambda m: m.last_epoch["stabilized"],
            "unconnected": lambda m: len(m.units.unconnected_units()),
            "mean_score": lambda m: m.mean_score(),
            "messages": "messages",
        }
        for d in range(1, self.max_depth + 1):
            for stable in (False, True):
                reporters[self.units_column(d, stable)] = lambda m, d=d, stable=stable: (
                    m.count_units(d, stable)
                )
        for d in range(self.max_depth):
            reporters[self.reconstruction_column(d)] = lambda m, d=d: m.reconstruction_error(d)
        reporters["label_error"] = lambda m: m.reconstruction_error(0, labels=True)
        return reporters

    def collect(self) -> None:
        """Let the DataCollector record this epoch."""
        self.datacollector.collect(self)

    # -- measurements ------------------------------------------------------------------------
    def count_units(self, depth: int, stable: bool) -> int:
        """Variable units of ``depth`` in state B (``stable``) or A."""
        u = self.units
        return sum(1 for s in u.connected_variable_slots()
                   if u.depth[s] == depth and bool(u.stable[s]) == stable)  # fmt: skip

    def mean_score(self) -> float:
        """Mean score of the connected variable units (0 before any epoch)."""
        slots = self.units.connected_variable_slots()
        return float(self.units.score[slots].mean()) if slots else 0.0

    def reconstruction_error(self, depth: int, labels: bool = False) -> float:
        """Mean squared error of the reward units of ``depth`` over the last epoch.

        ``labels``: only the reward units of the teacher constants (else they are left out).
        """
        u = self.units
        label_slots = {c.slot for c in self.data_constants[self.task.n_inputs :]}
        slots = [
            r.slot for r in u.reward_units()
            if r.depth == depth and (u.target[r.slot] in label_slots) == labels
        ]  # fmt: skip
        if not slots or self.epoch == 0:
            return 0.0
        return float(u.error_sum[slots].mean() / self.task.n_patterns)

    # -- checkpoint hooks ----------------------------------------------------------------------
    def _checkpoint_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The whole population: unit arrays, weights, edges, names, each unit's noise state."""
        u, size = self.units, self.units.size
        arrays = {name: getattr(u, name)[:size] for name in u.PER_UNIT}
        arrays["W"] = u.W[:size, :size]
        if u.W_mark is not None:
            arrays["W_mark"] = u.W_mark[:size, :size]
        arrays["edges"] = np.array(list(self.grid.G.edges), dtype=np.int64).reshape(-1, 2)
        meta = {
            "size": size,
            "names": {str(s): unit.name for s, unit in u.unit_by_slot.items()},
            "noise": {str(s): unit.noise.bit_generator.state for s, unit in u.unit_by_slot.items()},
            "bias": self.bias.slot,
            "data_constants": [unit.slot for unit in self.data_constants],
            "messages": self.messages,
            "last_epoch": self.last_epoch,
            "seed_sequence_entropy": self.seed_sequence_entropy,
        }
        return meta, arrays

    checkpoint_members = (*UnitPopulation.PER_UNIT, "W", "W_mark", "edges")

    @classmethod
    def _checkpoint_arrays(cls, params: dict, meta: dict) -> dict[str, tuple]:
        """The arrays loading must find: name -> (dtype, shape), for ``meta["size"]`` units.

        ``size`` must lie between the starting population and the most units a run of these
        parameters can create (each epoch at most ``n_units`` replacements and ``n_units``
        new reward units), and fit this machine's memory.
        """
        size = meta.get("size")
        start = cls.starting_units(get_task(params["task"]), params["n_units"], params["teacher"])
        most = start + 2 * params["n_units"] * params["pretrain_epochs"]
        if isinstance(size, bool) or not isinstance(size, int) or not start <= size <= most:
            raise ValueError(f"unit count {size!r} is outside {start}..{most} for these parameters")
        marks = params["plateau"] == "weights"
        if UnitPopulation.bytes_needed(size, marks) > free_memory():
            raise ValueError(f"{size:,} units do not fit this machine's free memory")
        expected = {name: (dtype, (size,)) for name, (dtype, _) in UnitPopulation.PER_UNIT.items()}
        expected["W"] = (np.float64, (size, size))
        if marks:
            expected["W_mark"] = (np.float64, (size, size))
        expected["edges"] = (np.int64, (None, 2))
        return expected

    def _restore_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Replace the constructor's population with the saved one, slot by slot, after
        checking it is one a run of this model could have left.

        Raises
        ------
        ValueError
            Naming what does not fit the model.
        """
        size = meta["size"]
        edges = arrays["edges"]
        self._check_population(meta, arrays)
        for unit in list(self.units.unit_by_slot.values()):
            unit.remove()
        self.units = UnitPopulation(
            random=self.random, capacity=max(size, 1), marks=self.plateau == "weights"
        )
        self.grid = self.units.grid
        self.seed_sequence_entropy = int(meta["seed_sequence_entropy"])
        kinds, alive, targets = arrays["kind"], arrays["alive"], arrays["target"]
        for slot in range(size):
            name = meta["names"].get(str(slot))
            if not alive[slot] or name is None:
                self.units.allocate(int(kinds[slot]), -1, 0.0)  # a culled unit's slot
            elif kinds[slot] == CONSTANT:
                ConstantUnit(self, 0.0, name)
            elif kinds[slot] == VARIABLE:
                VariableUnit(self, name)
            elif kinds[slot] == REWARD:
                RewardUnit(self, self.units[int(targets[slot])])
            else:
                raise ValueError(f"unit {slot} has an unknown kind {kinds[slot]}")
        for name in UnitPopulation.PER_UNIT:
            getattr(self.units, name)[:size] = arrays[name]
        for pre, post in edges:
            self.units.connect(self.units[pre], self.units[post], 0.0)
        self.units.W[:size, :size] = arrays["W"]
        if self.units.W_mark is not None:
            self.units.W_mark[:size, :size] = arrays["W_mark"]
        for slot, state in meta["noise"].items():
            self.units[int(slot)].noise.bit_generator.state = state
        self.bias = self.units[int(meta["bias"])]
        self.units.bias_slot = self.bias.slot
        self.data_constants = [self.units[int(s)] for s in meta["data_constants"]]
        self.constants = [*self.data_constants, self.bias]
        self.messages = int(meta["messages"])
        self.last_epoch = dict(meta["last_epoch"])

    def _check_population(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """What a run of this model could have left after ``self.epoch`` epochs, or ValueError."""
        size, edges = meta["size"], arrays["edges"]
        kind, alive, depth = arrays["kind"], arrays["alive"], arrays["depth"]
        living = np.flatnonzero(alive)
        names = meta.get("names")
        if (
            not isinstance(names, dict)
            or set(names) != {str(s) for s in living}
            or not all(isinstance(name, str) for name in names.values())
        ):
            raise ValueError("the units' names do not match the living units")
        noise = meta.get("noise")
        if not isinstance(noise, dict) or set(noise) != set(names):
            raise ValueError("the units' noise states do not match the living units")
        if not np.isin(kind, (CONSTANT, VARIABLE, REWARD)).all():
            raise ValueError("a unit has an unknown kind")
        variables = living[kind[living] == VARIABLE]
        if len(variables) != self.n_units:
            raise ValueError(f"{len(variables)} variable units; n_units={self.n_units}")
        joined = depth[variables]
        if not ((joined == -1) | ((joined >= 1) & (joined <= self.max_depth))).all():
            raise ValueError("a variable unit has a depth outside 1..max_depth")
        constants = [int(s) for s in living[kind[living] == CONSTANT]]
        data, bias = meta.get("data_constants"), meta.get("bias")
        n_data = self.task.n_inputs + (self.task.n_outputs if self.teacher else 0)
        if not isinstance(data, list) or len(data) != n_data or sorted([*data, bias]) != constants:
            raise ValueError("the constant units do not match the task's inputs (and targets)")
        for slot in living[kind[living] == REWARD]:
            target = arrays["target"][slot]
            if not (0 <= target < slot and alive[target] and arrays["stable"][target]):
                raise ValueError(f"reward unit {slot} predicts no stable unit before it")
        if edges.size and (
            edges.min() < 0 or edges.max() >= size
            or not alive[edges].all() or (edges[:, 0] == edges[:, 1]).any()
        ):  # fmt: skip
            raise ValueError("an edge joins units that do not exist")
        on_edge = np.zeros((size, size), dtype=bool)
        on_edge[edges[:, 1], edges[:, 0]] = True
        for name in ("W", "W_mark"):
            if name not in arrays:
                continue
            if arrays[name][~on_edge].any():
                raise ValueError(f"{name}: a weight where no edge is")
            if not self.diverged and not np.isfinite(arrays[name]).all():
                raise ValueError(f"{name}: NaN or infinite weights in a run that did not diverge")
        if not ((arrays["corruption"] >= 0) & (arrays["corruption"] <= 1)).all():  # NaN fails
            raise ValueError("a unit's corruption rate is outside [0, 1]")
        # A score is a running mean of credit, of either sign; a reward is 1 - |delta| <= 1.
        if not self.diverged and not (
            np.isfinite(arrays["score"]).all() and (arrays["reward"] <= 1).all()
        ):
            raise ValueError("a unit's score is not finite or its reward is above 1")
        if (arrays["born"] > self.epoch).any() or (arrays["born"] < 0).any():
            raise ValueError("a unit born after the epoch saved")
        messages, last = meta.get("messages"), meta.get("last_epoch")
        if isinstance(messages, bool) or not isinstance(messages, int) or messages < 0:
            raise ValueError(f"messages={messages!r} is not a count")
        if (
            not isinstance(last, dict)
            or set(last) != {"culled", "created", "stabilized"}
            or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in last.values()
            )
        ):
            raise ValueError("last_epoch is not the counts of an epoch")
        entropy = meta.get("seed_sequence_entropy")
        if isinstance(entropy, bool) or not isinstance(entropy, int) or not 0 <= entropy < 2**63:
            raise ValueError("seed_sequence_entropy is not a 63-bit seed")
