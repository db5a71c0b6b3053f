"""The models: NG, the neuro-glia pruning network, and MASDA, the multi-agent autoencoder."""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import Cell, Network
from mesa.time import Priority

from glianet import checkpoint
from glianet.agents import GliaAgent, NeuroAgent, SynapseAgent
from glianet.agents.functions import ACTIVATIONS, SIG_RULES, phi_array
from glianet.agents.masda import (
    REWARD,
    VARIABLE,
    ConstantUnit,
    Message,
    RewardUnit,
    Unit,
    VariableUnit,
)
from glianet.schedules import ENGINES, NGStagedScheduler
from glianet.schedules.masda import ENGINES as MASDA_ENGINES
from glianet.schedules.masda import MASDAScheduler
from glianet.state import LayeredState, UnitState
from glianet.tasks import Task, get_task
from glianet.validation import check_bool, check_choice, check_int, check_real

GLIA_TOPOLOGIES = ("synaptic", "ring", "complete", "none")


class EpochModel(mesa.Model):
    """What both models share: one ``step()`` is one epoch, a run stops itself after ``epochs``
    or when its weights diverge, and it saves and loads as a checkpoint.

    Subclasses provide ``epochs``, ``run_epoch()``, ``collect()`` and ``learned_arrays()``.
    """

    def step(self) -> None:
        """One epoch, then data collection; stop at the end or if the weights diverge."""
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
            warnings.warn(
                f"{type(self).__name__} stopped: {self.diverged}", RuntimeWarning, stacklevel=2
            )
            self.running = False
        if self.epoch >= self.epochs:
            self.running = False

    def save(self, path: str | Path) -> None:
        """Write a checkpoint of the model as it is now."""
        checkpoint.save(self, path)

    @classmethod
    def load(cls, path: str | Path):
        """Rebuild a model from a checkpoint; it continues exactly as the saved one would have.

        Raises :class:`glianet.checkpoint.CheckpointError` for a file that cannot be loaded.
        """
        return checkpoint.load(cls, path)


class NGModel(EpochModel):
    """Neuro-glia pruning network (SPEC §1): a layered net of Neuro-, Synapse- and Glia-Agents.

    The network learns its task by online backpropagation while Glia-Agents prune it: every
    ``mini_batch_size`` samples each GA updates its inhibition signal ``sig`` from its neuron's
    activity, fires with probability ``1 - sig``, orders its neuron to delete the weakest incoming
    synapse, and spreads its burst over the glia network to suppress pruning nearby.
    One ``step()`` is one epoch; the model stops itself (``running = False``) after ``epochs``.

    Parameters
    ----------
    layers : sequence of int
        Neurons per layer, input to output (paper: 6, 8, 8, 8, 1). The first and last must match
        the task's inputs and outputs.
    task : str or Task
        The data (default: the paper's 6-bit "any of the upper 3 bits" task).
    eta : float
        Learning rate (> 0).
    mini_batch_size : int
        Samples between two pruning rounds (paper: 100).
    samples_per_epoch : int
        Samples per epoch, drawn uniformly from the task's patterns. The paper does not define an
        epoch; 2000 (20 pruning rounds) makes the default run reproduce the paper's curve.
    epochs : int
        Steps after which the model stops.
    sig0 : float
        Initial sig of every GA, in [0, 1] (paper: 0.5).
    A : float
        Loss of a burst per hop on the glia network (paper: 0.01).
    alpha : float
        Step of the sig update (paper: 0.01).
    beta : float
        Steepness of the sig update (paper: 6 ln 3).
    z : float
        A neuron's output is an outlier on a sample when it lies more than ``z`` standard
        deviations from the mean of its layer. The paper gives no value; 2.3 reproduces its
        result (with 8 neurons the largest possible deviation is 2.47).
    sig_rule : {"logistic", "printed", "logistic-flipped"}
        Reading of the paper's eq. 2.4 (see :func:`glianet.agents.functions.sig_step`).
    activation : {"sigmoid", "tanh", "relu"}
        phi of the neurons.
    pruning : bool
        Whether the glia prune at all (False: the paper's "no pruning" baseline).
    protect_io : bool
        True (default): synapses of the input and output layers are never pruned, and glia sit on
        the hidden layers with hidden predecessors. False: glia on every hidden layer, any
        incoming synapse prunable.
    glia_layers : sequence of int, optional
        Layers whose neurons get a Glia-Agent, overriding the choice ``protect_io`` implies.
    glia_topology : {"synaptic", "ring", "complete", "none"} or networkx.Graph
        The glia network. "synaptic": GA i ~ GA j when their neurons were joined by a synapse in
        the initial network. A Graph must have the GA indices 0..n-1 as nodes.
    keep_last_synapse : bool
        The guard: a neuron never loses its last incoming synapse.
    engine : {"vectorized", "agents"}
        Which path runs the phases; both give the same trajectory for the same seed.
    rng : int or numpy.random.Generator, optional
        Seed; every random draw of the run comes from ``self.rng``.

    Notes
    -----
    Choices where the papers and SPEC are silent: weights start Glorot-uniform,
    ``U(+-sqrt(6 / (fan_in + fan_out)))``, biases at 0; the error is ``(y - t)^2 / 2``; the
    outlier test uses the population standard deviation of the layer, the neuron itself
    included; ties for the weakest synapse go to the first pre neuron; GAs draw and fire all
    together, then bursts spread.
    """

    def __init__(
        self,
        layers: Sequence[int] = (6, 8, 8, 8, 1),
        task: str | Task = "any-upper-3",
        eta: float = 0.5,
        mini_batch_size: int = 100,
        samples_per_epoch: int = 2000,
        epochs: int = 100,
        sig0: float = 0.5,
        A: float = 0.01,
        alpha: float = 0.01,
        beta: float = 6 * math.log(3),
        z: float = 2.3,
        sig_rule: str = "logistic",
        activation: str = "sigmoid",
        pruning: bool = True,
        protect_io: bool = True,
        glia_layers: Sequence[int] | None = None,
        glia_topology: str | nx.Graph = "synaptic",
        keep_last_synapse: bool = True,
        engine: str = "vectorized",
        rng: int | np.random.Generator | None = None,
    ) -> None:
        #: The constructor's parameters (without ``rng``): what a checkpoint rebuilds it from.
        self.params = {k: v for k, v in locals().items() if k not in ("self", "rng", "__class__")}
        super().__init__(rng=rng)
        self.initial_rng_state = copy.deepcopy(self.rng.bit_generator.state)
        self.task = get_task(task)
        self.layers = self._check_layers(layers)
        self.eta = check_real("eta", eta, 0.0, low_open=True)
        self.mini_batch_size = check_int("mini_batch_size", mini_batch_size, 1)
        self.samples_per_epoch = check_int("samples_per_epoch", samples_per_epoch, 1)
        self.epochs = check_int("epochs", epochs, 0)
        self.sig0 = check_real("sig0", sig0, 0.0, 1.0)
        self.A = check_real("A", A, 0.0)
        self.alpha = check_real("alpha", alpha, 0.0)
        self.beta = check_real("beta", beta)
        self.z = check_real("z", z, 0.0)
        self.sig_rule = check_choice("sig_rule", sig_rule, SIG_RULES)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.activation_code = ACTIVATIONS[activation]
        self.pruning = check_bool("pruning", pruning)
        self.protect_io = check_bool("protect_io", protect_io)
        self.keep_last_synapse = check_bool("keep_last_synapse", keep_last_synapse)
        self.engine = check_choice("engine", engine, ENGINES)
        self.glia_layers = self._check_glia_layers(glia_layers)

        n_layers = len(self.layers)
        self.counts_outliers = np.isin(np.arange(n_layers), self.glia_layers)
        self.state = LayeredState(
            self.layers, n_glia=sum(self.layers[layer] for layer in self.glia_layers)
        )
        self.topology_version = 0
        self.prune_log: list[dict] = []
        self.prune_orders = 0
        self.epoch = 0
        self.diverged: str | None = None

        self._build_network()
        self.glia_graph = self._build_glia_graph(glia_topology)
        self.glia_adjacency = (
            nx.to_scipy_sparse_array(self.glia_graph, nodelist=range(self.state.n_glia))
            if self.state.n_glia
            else None
        )
        self.scheduler = NGStagedScheduler(self, engine)
        self.datacollector = mesa.DataCollector(model_reporters=self._reporters())
        self.collect()

    # -- construction ------------------------------------------------------------------------
    def _check_layers(self, layers: Sequence[int]) -> tuple[int, ...]:
        if isinstance(layers, str | bytes) or not isinstance(layers, Sequence) or len(layers) < 2:
            raise ValueError(
                f"layers={layers!r} is invalid: it must be a sequence of at least 2 layer sizes"
            )
        sizes = tuple(check_int(f"layers[{i}]", n, 1) for i, n in enumerate(layers))
        if sizes[0] != self.task.n_inputs or sizes[-1] != self.task.n_outputs:
            raise ValueError(
                f"layers={list(sizes)} does not fit task {self.task.name!r}: it needs "
                f"{self.task.n_inputs} input and {self.task.n_outputs} output neurons"
            )
        return sizes

    def _check_glia_layers(self, glia_layers: Sequence[int] | None) -> tuple[int, ...]:
        n_layers = len(self.layers)
        if glia_layers is None:
            first = 2 if self.protect_io else 1
            return tuple(range(first, n_layers - 1))
        if isinstance(glia_layers, str) or not isinstance(glia_layers, Sequence):
            raise ValueError(f"glia_layers={glia_layers!r} is invalid: it must be a list of layers")
        for layer in glia_layers:
            check_int("glia_layers", layer, 1)
            if layer >= n_layers:
                raise ValueError(
                    f"glia_layers={list(glia_layers)} is invalid: layer {layer} does not exist "
                    f"(layers are 0..{n_layers - 1}; input layer 0 cannot have glia)"
                )
        return tuple(sorted(set(glia_layers)))

    def _build_network(self) -> None:
        """Neurons on the nodes of a DiGraph space, synapses on its edges, glia on the neurons."""
        s, sizes, last = self.state, self.layers, len(self.layers) - 1
        graph = nx.DiGraph()
        positions = {}
        for layer, size in enumerate(sizes):
            for k in range(size):
                index = s.n_off[layer] + k
                graph.add_node(int(index), layer=layer)
                positions[int(index)] = (float(layer), (size - 1) / 2 - k)
        self.grid = Network(graph, capacity=None, random=self.random, layout=positions)
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
            for index in range(*s.synapses(layer).indices(len(s.w))):
                SynapseAgent(self, index, layer, int(s.pre[index]), int(s.post[index]))
        # Mesa connected the cells when it wrapped the (then edgeless) graph; connect them now.
        for pre, post in graph.edges:
            self.grid[pre].connect(self.grid[post], post)
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
                raise ValueError(
                    f"glia_topology is a graph with nodes {sorted(topology.nodes)[:5]}...; it "
                    f"must have exactly the glia indices 0..{n - 1} as nodes"
                )
            return nx.Graph(topology)
        check_choice("glia_topology", topology, GLIA_TOPOLOGIES)
        if topology == "ring":
            return nx.cycle_graph(n)
        if topology == "complete":
            return nx.complete_graph(n)
        glia_graph = nx.empty_graph(n)
        if topology == "synaptic":
            glia_of = {glia.neuron.index: glia.index for glia in self.glia_agents}
            for pre, post in self.grid.G.edges:
                if pre in glia_of and post in glia_of:
                    glia_graph.add_edge(glia_of[pre], glia_of[post])
        return glia_graph

    def _reporters(self) -> dict:
        reporters = {
            "epoch": "epoch",
            "synapses": lambda m: int(m.state.mask.sum()),
            "error": "error",
            "mse": "mse",
            "prune_orders": "prune_orders",
            "pruned": lambda m: len(m.prune_log),
        }
        if self.state.n_glia:
            reporters["mean_sig"] = lambda m: float(m.state.sig.mean())
        for layer in range(1, len(self.layers)):
            reporters[f"synapses_l{layer}"] = lambda m, layer=layer: int(
                m.state.present(layer).sum()
            )
        return reporters

    # -- running -----------------------------------------------------------------------------
    def collect(self) -> None:
        """Measure error and MSE once, then let the DataCollector record everything."""
        self.error, self.mse = self.evaluate()
        self.datacollector.collect(self)

    def run_epoch(self) -> None:
        """Training and pruning of one epoch."""
        self.scheduler.run_epoch()

    def learned_arrays(self) -> tuple[np.ndarray, ...]:
        """What learning changes: weights and biases."""
        return self.state.w, self.state.b

    def twin(self, **changes) -> NGModel:
        """A new model with this one's parameters (but ``changes``) and the same initial random
        state: e.g. ``model.twin(pruning=False)`` is the no-pruning run of the same seed."""
        rng = np.random.default_rng()
        rng.bit_generator.state = self.initial_rng_state
        return type(self)(**{**self.params, **changes}, rng=rng)

    # -- what the agents call ----------------------------------------------------------------
    def topology_changed(self) -> None:
        """A synapse left the network: the scheduler rebuilds its stage sets."""
        self.topology_version += 1

    def record_prune(self, synapse: SynapseAgent) -> None:
        """Log a pruned synapse with the sample count at which it went."""
        self.prune_log.append(
            {
                "epoch": self.epoch + 1,
                "sample": self.scheduler.samples_seen,
                "layer": synapse.layer,
                "pre": synapse.pre,
                "post": synapse.post,
                "weight": synapse.weight,
            }
        )

    def weakest_prunable_synapse(self, neuron: int) -> SynapseAgent | None:
        """Vectorized twin of :meth:`NeuroAgent.prune_weakest_synapse`'s choice, on the arrays."""
        graph = self.grid.G
        if self.keep_last_synapse and graph.in_degree(neuron) <= 1:
            return None
        s = self.state
        layer = self.neurons[neuron].layer
        row = s.w_off[layer] + (neuron - s.n_off[layer]) * s.sizes[layer - 1]
        rows = slice(int(row), int(row + s.sizes[layer - 1]))
        candidates = np.where(s.mask[rows] & s.prunable[rows], np.abs(s.w[rows]), np.inf)
        k = int(np.argmin(candidates))
        if not np.isfinite(candidates[k]):
            return None
        return graph.edges[int(s.pre[rows.start + k]), neuron]["synapse"]

    # -- measurements ------------------------------------------------------------------------
    def predict(self, inputs: np.ndarray | None = None) -> np.ndarray:
        """Outputs of the network for ``inputs`` (default: all the task's patterns)."""
        s = self.state
        y = self.task.inputs if inputs is None else np.asarray(inputs, dtype=np.float64)
        for layer in range(1, s.n_layers):
            y = phi_array(y @ s.weights(layer).T + s.biases(layer), self.activation_code)
        return y

    def evaluate(self) -> tuple[float, float]:
        """(error rate at threshold 0.5, MSE) over all the task's patterns."""
        outputs, targets = self.predict(), self.task.targets
        wrong = np.any((outputs > 0.5) != (targets > 0.5), axis=1)
        return float(wrong.mean()), float(np.mean((outputs - targets) ** 2))

    @property
    def synapse_count(self) -> int:
        """Synapses left."""
        return int(self.state.mask.sum())


class MASDAModel(EpochModel):
    """Multi-agent stacked denoising autoencoder (SPEC §2, Kurotaki & Matsuo 2015).

    Constant units hold the data (inputs and teacher labels) and a bias; reward units predict a
    constant or a stable variable unit; variable units learn features. Each epoch, unconnected
    variable units join at a depth, every sample is fed to the constants and the units compute by
    messages, then the summed weight changes are applied, units whose score is high and whose
    weights have settled turn stable (and become targets for the next depth), and low scorers
    are culled and replaced. One ``step()`` is one pretraining epoch.

    Parameters
    ----------
    task : str or Task
        The data: inputs become constant units, targets become teacher constant units.
    n_units : int
        Variable units at the start (and the population kept, as culled units are replaced).
    eta : float
        Learning rate; changes are summed over the epoch (batch update, as the paper says).
    corruption : float
        Corruption rate of the input constants, in [0, 1].
    label_corruption : float
        Corruption rate of the teacher constants (1.0: labels are only ever predicted).
    hidden_corruption : float
        Corruption rate of a variable unit once stable (it is then an input of the next depth).
    stable_score, stable_tol : float
        A -> B when the epoch's mean reward >= ``stable_score`` and the relative change of the
        prev weights over the epoch < ``stable_tol``.
    cull_fraction : float
        Share of the state-A units, lowest scores first, culled after each epoch, in [0, 1).
    min_age : int
        Epochs a unit is spared from culling after it connects.
    max_depth : int
        Deepest depth a variable unit may take.
    pretrain_epochs : int
        Epochs of pretraining; then ``running`` becomes False.
    latency : float
        Delivery delay of a message (>= 0; engine "agents"). With latency > 0 each message arrives
        after ``latency`` times 1, 2 or 3 hop times (by sender), so messages interleave as in a
        real discrete-event run; the result is the same.
    engine : {"vectorized", "agents"}
        How the samples' messages are computed; both give the same run.
    rng : int or numpy.random.Generator, optional
        Seed.

    Notes
    -----
    Choices where the paper is silent (SPEC §2 readings are the defaults above): the reward of a
    reward unit is ``1 - |delta|`` and a variable unit's score is the mean, over the epoch's
    samples, of the rewards of the reward units it feeds; a unit's prediction ``v = sigmoid(a)``
    and a reward unit's ``delta = v - v_target`` (the cross-entropy gradient of a standard
    denoising autoencoder); the bias unit feeds every variable and reward unit; a new reward unit
    starts with weight 0 from the bias; culling ties go to the older slot; weights start
    Glorot-uniform.
    """

    def __init__(
        self,
        task: str | Task = "any-upper-3",
        n_units: int = 16,
        eta: float = 0.01,
        corruption: float = 0.2,
        label_corruption: float = 1.0,
        hidden_corruption: float = 0.2,
        stable_score: float = 0.8,
        stable_tol: float = 0.02,
        cull_fraction: float = 0.1,
        min_age: int = 5,
        max_depth: int = 2,
        pretrain_epochs: int = 30,
        latency: float = 0.0,
        engine: str = "vectorized",
        rng: int | np.random.Generator | None = None,
    ) -> None:
        self.params = {k: v for k, v in locals().items() if k not in ("self", "rng", "__class__")}
        super().__init__(rng=rng)
        self.task = get_task(task)
        self.n_units = check_int("n_units", n_units, 1)
        self.eta = check_real("eta", eta, 0.0, low_open=True)
        self.corruption = check_real("corruption", corruption, 0.0, 1.0)
        self.label_corruption = check_real("label_corruption", label_corruption, 0.0, 1.0)
        self.hidden_corruption = check_real("hidden_corruption", hidden_corruption, 0.0, 1.0)
        self.stable_score = check_real("stable_score", stable_score, 0.0, 1.0)
        self.stable_tol = check_real("stable_tol", stable_tol, 0.0)
        self.cull_fraction = check_real("cull_fraction", cull_fraction, 0.0, 1.0, high_open=True)
        self.min_age = check_int("min_age", min_age, 0)
        self.max_depth = check_int("max_depth", max_depth, 1)
        self.pretrain_epochs = check_int("pretrain_epochs", pretrain_epochs, 0)
        self.latency = check_real("latency", latency, 0.0)
        self.engine = check_choice("engine", engine, MASDA_ENGINES)
        if not np.all((self.task.targets >= 0) & (self.task.targets <= 1)):
            raise ValueError(f"task {self.task.name!r}: targets must lie in [0, 1]")

        self.units = UnitState()
        self.grid = Network(nx.DiGraph(), capacity=None, random=self.random, layout=None)
        self.unit_by_slot: dict[int, Unit] = {}
        self.in_flight: set[Message] = set()
        self._hop = 0.0  # model time of one message hop, set per epoch
        self.messages = 0
        self.diverged: str | None = None
        self.epoch = 0
        self.last_epoch = {"culled": 0, "created": 0, "stabilized": 0}
        # One draw seeds every unit's own corruption noise.
        self.seed_sequence_entropy = int(self.rng.integers(2**63))

        inputs = [ConstantUnit(self, self.corruption, f"x{i}") for i in range(self.task.n_inputs)]
        labels = [
            ConstantUnit(self, self.label_corruption, f"t{j}") for j in range(self.task.n_outputs)
        ]
        self.bias = ConstantUnit(self, 0.0, "bias")
        self.data_constants = inputs + labels
        self.constants = [*self.data_constants, self.bias]
        for constant in self.data_constants:
            self.connect_units(self.bias, RewardUnit(self, constant), 0.0)
        for k in range(self.n_units):
            VariableUnit(self, f"h{k}")
        self.scheduler = MASDAScheduler(self, self.engine)
        self.datacollector = mesa.DataCollector(model_reporters=self._reporters())
        self.collect()

    @property
    def epochs(self) -> int:
        """Steps the model runs: its pretraining epochs."""
        return self.pretrain_epochs

    # -- the unit graph ----------------------------------------------------------------------
    def add_unit_node(self, unit: Unit) -> Cell:
        """A new node (and cell) of the unit graph for ``unit``."""
        self.unit_by_slot[unit.slot] = unit
        cell = Cell(unit.slot, capacity=None, random=self.random)
        self.grid.add_cell(cell)
        return cell

    def connect_units(self, pre: Unit, post: Unit, weight: float) -> None:
        """An edge ``pre -> post`` with ``post``'s prev weight ``weight``."""
        self.grid.G.add_edge(pre.slot, post.slot)
        self.grid[pre.slot].connect(self.grid[post.slot], post.slot)
        self.units.W[post.slot, pre.slot] = weight

    def remove_unit(self, unit: Unit) -> None:
        """Take a unit out: its edges, weights and node go with it."""
        slot, u, graph = unit.slot, self.units, self.grid.G
        for pre in list(graph.predecessors(slot)):
            self.grid[pre].disconnect(self.grid[slot])
        u.W[slot, :] = 0.0
        u.W[:, slot] = 0.0
        u.alive[slot] = False
        self.grid.remove_cell(self.grid[slot])
        del self.unit_by_slot[slot]
        unit.remove()

    def unit_at(self, slot: int) -> Unit:
        """The unit in ``slot``."""
        return self.unit_by_slot[int(slot)]

    def unit_successors(self, unit: Unit) -> list[Unit]:
        """Next nodes of ``unit`` in slot order."""
        return [self.unit_by_slot[s] for s in sorted(self.grid.G.successors(unit.slot))]

    def unit_predecessors(self, unit: Unit) -> list[Unit]:
        """Prev nodes of ``unit`` in slot order."""
        return [self.unit_by_slot[s] for s in sorted(self.grid.G.predecessors(unit.slot))]

    def in_degree(self, unit: Unit) -> int:
        """How many prev nodes ``unit`` waits for."""
        return self.grid.G.in_degree(unit.slot)

    def reward_successors(self, unit: Unit) -> list[Unit]:
        """The reward units among ``unit``'s next nodes (the ones that answer backward)."""
        return [n for n in self.unit_successors(unit) if n.kind == REWARD]

    def reward_units(self, max_depth: int | None = None) -> list[RewardUnit]:
        """Reward units in slot order, up to ``max_depth``."""
        u = self.units
        return [
            self.unit_by_slot[s]
            for s in range(u.size)
            if u.alive[s] and u.kind[s] == REWARD and (max_depth is None or u.depth[s] <= max_depth)
        ]

    def stable_units(self, depth: int) -> list[Unit]:
        """Stable data constants (depth 0) or stable variable units of ``depth``, in slot order."""
        u = self.units
        return [
            self.unit_by_slot[s]
            for s in range(u.size)
            if u.alive[s] and u.stable[s] and u.depth[s] == depth and u.kind[s] != REWARD
            and s != self.bias.slot
        ]  # fmt: skip

    def unconnected_units(self) -> list[VariableUnit]:
        """Variable units that have not joined yet, in slot order."""
        u = self.units
        return [
            self.unit_by_slot[s]
            for s in range(u.size)
            if u.alive[s] and u.kind[s] == VARIABLE and u.depth[s] < 0
        ]

    def connected_variable_slots(self) -> list[int]:
        """Slots of the connected variable units."""
        u = self.units
        return [s for s in range(u.size) if u.alive[s] and u.kind[s] == VARIABLE and u.depth[s] > 0]

    def edge_mask(self) -> np.ndarray:
        """``E[j, i]`` True where the edge ``i -> j`` exists."""
        size = self.units.size
        mask = np.zeros((size, size), dtype=bool)
        edges = np.array(list(self.grid.G.edges), dtype=np.int64).reshape(-1, 2)
        mask[edges[:, 1], edges[:, 0]] = True
        return mask

    def data_columns(self, order: np.ndarray) -> list[np.ndarray]:
        """Per data constant, its values on the samples in ``order``."""
        values = np.hstack([self.task.inputs, self.task.targets])[order]
        return list(values.T)

    # -- messages as events ------------------------------------------------------------------
    def post(self, message: Message) -> None:
        """Put a message on the model's event list, due after the sender's delay."""
        self.in_flight.add(message)
        self.messages += 1
        delay = self.latency * self._hop * (1 + message.sender.slot % 3)
        self.schedule_event(message, at=self.time + delay)

    def present_by_messages(self, order: np.ndarray, feed_order: np.ndarray) -> None:
        """Feed the samples one after another; the units compute by message events.

        The epoch's events run within one unit of model time after ``self.time`` (a sample's
        messages take at most ``(2 max_depth + 4) * 3`` hops); the clock is then set back, so
        Mesa's step schedule goes on at whole times.
        """
        start = self.time
        hops = (2 * self.max_depth + 4) * 3 * (len(order) + 1)
        self._hop = 0.5 / hops
        self._columns, self._feed_order, self._next_sample = self.data_columns(order), feed_order, 0
        self.schedule_event(self._feed_next_sample, at=start)
        self.run_until(start + 0.5)
        self.time = start

    def _feed_next_sample(self) -> None:
        """The environment inputs the next sample to the constants, in random order."""
        i = self._next_sample
        if i == len(self._feed_order):
            return
        self._next_sample += 1
        for k in self._feed_order[i]:
            self.data_constants[k].receive_data(self._columns[k][i])
        self.bias.receive_data(1.0)

    def sample_done(self) -> None:
        """No message is in flight: the sample is done; feed the next one."""
        self.schedule_event(self._feed_next_sample, at=self.time, priority=Priority.LOW)

    # -- end of an epoch ---------------------------------------------------------------------
    def end_epoch(self, n_samples: int) -> dict:
        """Apply the summed changes, turn settled units stable, cull and replace low scorers."""
        u, size = self.units, self.units.size
        edges = self.edge_mask()
        variables = self.connected_variable_slots()
        learning = [s for s in variables if not u.stable[s]]
        rewards = [unit.slot for unit in self.reward_units()]
        change = {}
        for s in learning:
            norm = np.linalg.norm(u.W[s, :size])
            change[s] = np.linalg.norm(u.dW[s, :size]) / max(norm, 1e-12)
        for rows in (learning, rewards):
            u.W[rows, :size] += u.dW[rows, :size] * edges[rows]
        u.dW[:size, :size] = 0.0
        u.score[variables] = u.reward_sum[variables] / n_samples

        stabilized = sum(self.unit_at(s).consider_stability(change[s]) for s in learning)
        candidates = [
            s for s in learning
            if not u.stable[s] and self.epoch + 1 - u.born[s] >= self.min_age
        ]  # fmt: skip
        n_cull = min(len(candidates), int(self.cull_fraction * len(learning)))
        culled = sorted(candidates, key=lambda s: (u.score[s], s))[:n_cull]
        for s in culled:
            self.remove_unit(self.unit_at(s))
        for _ in range(n_cull):
            VariableUnit(self, f"h{self.units.size}")
        return {"culled": n_cull, "created": n_cull, "stabilized": stabilized}

    # -- running -----------------------------------------------------------------------------
    def run_epoch(self) -> None:
        """One pretraining epoch (Algorithm 1's loop body)."""
        self.last_epoch = self.scheduler.run_epoch()

    def collect(self) -> None:
        """Let the DataCollector record this epoch."""
        self.datacollector.collect(self)

    def learned_arrays(self) -> tuple[np.ndarray, ...]:
        """What learning changes: the weights of the units there are."""
        return (self.units.W[: self.units.size, : self.units.size],)

    def _reporters(self) -> dict:
        reporters = {
            "epoch": "epoch",
            "culled": lambda m: m.last_epoch["culled"],
            "created": lambda m: m.last_epoch["created"],
            "stabilized": lambda m: m.last_epoch["stabilized"],
            "unconnected": lambda m: len(m.unconnected_units()),
            "mean_score": lambda m: m.mean_score(),
            "messages": "messages",
        }
        for d in range(1, self.max_depth + 1):
            reporters[f"A_d{d}"] = lambda m, d=d: m.count_units(d, stable=False)
            reporters[f"B_d{d}"] = lambda m, d=d: m.count_units(d, stable=True)
        for d in range(self.max_depth):
            reporters[f"recon_d{d}"] = lambda m, d=d: m.reconstruction_error(d)
        reporters["label_error"] = lambda m: m.reconstruction_error(0, labels=True)
        return reporters

    def count_units(self, depth: int, stable: bool) -> int:
        """Variable units of ``depth`` in state B (``stable``) or A."""
        u = self.units
        return sum(1 for s in self.connected_variable_slots()
                   if u.depth[s] == depth and bool(u.stable[s]) == stable)  # fmt: skip

    def mean_score(self) -> float:
        """Mean score of the connected variable units (0 before any epoch)."""
        slots = self.connected_variable_slots()
        return float(self.units.score[slots].mean()) if slots else 0.0

    def reconstruction_error(self, depth: int, labels: bool = False) -> float:
        """Mean squared error of the reward units of ``depth`` over the last epoch.

        ``labels``: only the reward units of the teacher constants (else they are left out).
        """
        u = self.units
        label_slots = {c.slot for c in self.data_constants[self.task.n_inputs :]}
        slots = [
            r.slot for r in self.reward_units()
            if r.depth == depth and (u.target[r.slot] in label_slots) == labels
        ]  # fmt: skip
        if not slots or self.epoch == 0:
            return 0.0
        return float(u.error_sum[slots].mean() / self.task.n_patterns)
