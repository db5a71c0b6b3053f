"""What the phases read in bulk, owned by the model: NG's :class:`LayeredState` and MASDA's
:class:`UnitPopulation`.

Agents are handles onto slots of these arrays: a Synapse-Agent owns ``w[i]``, a Neuro-Agent
``b[j]``, ``y[j]``, ..., a Glia-Agent ``sig[g]``, a MASDA unit its row of ``W`` and its entries
of the per-unit arrays. The vectorized engines work on the arrays directly; the per-agent
engines go through each agent. NG agents reach their slots through ``memoryview``s of the same
buffers (scalar access to a memoryview is several times faster than to a NumPy array, and both
see the same memory).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import psutil

from glianet.space import DirectedNetwork

if TYPE_CHECKING:
    from random import Random

    from glianet.agents.masda import Unit

def free_memory() -> int:
    """Bytes of memory this machine has available now (free and reclaimable): what the
    models' and checkpoints' size checks compare with."""
    return psutil.virtual_memory().available


#: Arrays with one slot per neuron, per synapse and per glia agent.
NEURON_ARRAYS = (
    "b", "a", "y", "net", "back", "delta", "cnt", "alive", "run_mean", "run_var", "run_n",
)  # fmt: skip
SYNAPSE_ARRAYS = ("w", "mask", "prunable", "pre", "post")
GLIA_ARRAYS = ("sig", "f", "glia_neuron", "glia_alive")


@dataclass
class LayeredState:
    """Flat arrays of a fully connected layered network, with per-layer views.

    Neuron ``k`` of layer ``l`` has index ``n_off[l] + k``; the synapse from neuron ``k`` of layer
    ``l - 1`` to neuron ``j`` of layer ``l`` has index ``w_off[l] + j * sizes[l - 1] + k``, so
    ``weights(l)`` is the usual ``(sizes[l], sizes[l - 1])`` matrix, as a view.
    ``samples_seen`` counts the samples trained on since the start (pruning rounds fall on its
    multiples of ``mini_batch_size``). ``alive`` / ``glia_alive`` are False for a neuron / glia
    agent that was removed (``agent.remove()``): it no longer computes in either engine.
    """

    sizes: np.ndarray
    n_glia: int
    n_off: np.ndarray = field(init=False)
    w_off: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        sizes = self.sizes = np.asarray(self.sizes, dtype=np.int64)
        self.n_off = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        fan = sizes[1:] * sizes[:-1]
        self.w_off = np.concatenate(([0, 0], np.cumsum(fan))).astype(np.int64)[:-1]
        n_neurons, n_synapses = int(self.n_off[-1]), int(fan.sum())
        self.b = np.zeros(n_neurons)
        self.a = np.zeros(n_neurons)
        self.y = np.zeros(n_neurons)
        self.net = np.zeros(n_neurons)
        self.back = np.zeros(n_neurons)
        self.delta = np.zeros(n_neurons)
        self.cnt = np.zeros(n_neurons, dtype=np.int64)
        self.alive = np.ones(n_neurons, dtype=np.bool_)
        # A neuron's memory of its own outputs, for the "running" outlier reading.
        self.run_mean = np.zeros(n_neurons)
        self.run_var = np.zeros(n_neurons)
        self.run_n = np.zeros(n_neurons, dtype=np.int64)
        self.w = np.zeros(n_synapses)
        self.mask = np.ones(n_synapses, dtype=np.bool_)
        self.prunable = np.zeros(n_synapses, dtype=np.bool_)
        self.pre = np.empty(n_synapses, dtype=np.int64)
        self.post = np.empty(n_synapses, dtype=np.int64)
        index = np.arange(n_neurons)
        for layer in range(1, len(sizes)):
            post, pre = np.meshgrid(
                index[self.neurons(layer)], index[self.neurons(layer - 1)], indexing="ij"
            )
            self.pre[self.synapses(layer)] = pre.ravel()
            self.post[self.synapses(layer)] = post.ravel()
        self.samples_seen = 0
        self.sig = np.zeros(self.n_glia)
        self.glia_neuron = np.zeros(self.n_glia, dtype=np.int64)
        self.glia_alive = np.ones(self.n_glia, dtype=np.bool_)
        self.f = np.zeros(self.n_glia)  # the activity each GA sensed in the last round
        self.slot = SimpleNamespace(
            **{
                name: memoryview(getattr(self, name))
                for name in NEURON_ARRAYS + SYNAPSE_ARRAYS + GLIA_ARRAYS
            }
        )

    @property
    def n_layers(self) -> int:
        """Number of layers, input and output included."""
        return len(self.sizes)

    def neurons(self, layer: int) -> slice:
        """Slice of the neuron arrays that holds ``layer``."""
        return slice(int(self.n_off[layer]), int(self.n_off[layer + 1]))

    def synapses(self, layer: int) -> slice:
        """Slice of the synapse arrays that holds the synapses into ``layer`` (``layer >= 1``)."""
        start = int(self.w_off[layer])
        return slice(start, start + int(self.sizes[layer] * self.sizes[layer - 1]))

    def weights(self, layer: int) -> np.ndarray:
        """Weight matrix into ``layer``, shape ``(sizes[layer], sizes[layer - 1])``, a view."""
        return self.w[self.synapses(layer)].reshape(self.sizes[layer], self.sizes[layer - 1])

    def present(self, layer: int) -> np.ndarray:
        """Mask of the synapses into ``layer`` that have not been pruned, a view."""
        return self.mask[self.synapses(layer)].reshape(self.sizes[layer], self.sizes[layer - 1])

    def biases(self, layer: int) -> np.ndarray:
        """Biases of ``layer``, a view."""
        return self.b[self.neurons(layer)]

    # -- one neuron's synapses, from the arrays (what the network space of lazy mode reads) ----
    def layer_of(self, neuron: int) -> int:
        """Layer of ``neuron``; raises ``KeyError`` for an index that is not a neuron."""
        if not 0 <= neuron < self.n_off[-1]:
            raise KeyError(neuron)
        return int(np.searchsorted(self.n_off, neuron, side="right")) - 1

    def into(self, neuron: int) -> slice:
        """Slots of every synapse into ``neuron``, present or pruned, in the order of their pre
        neurons (empty for an input neuron)."""
        layer = self.layer_of(neuron)
        if layer == 0:
            return slice(0, 0)
        fan_in = int(self.sizes[layer - 1])
        start = int(self.w_off[layer]) + (neuron - int(self.n_off[layer])) * fan_in
        return slice(start, start + fan_in)

    def incoming(self, neuron: int) -> np.ndarray:
        """Slots of the present synapses into ``neuron``, in the order of their pre neurons."""
        rows = self.into(neuron)
        return rows.start + np.flatnonzero(self.mask[rows])

    def outgoing(self, neuron: int) -> np.ndarray:
        """Slots of the present synapses out of ``neuron``, in the order of their post neurons."""
        layer = self.layer_of(neuron)
        if layer == self.n_layers - 1:
            return np.empty(0, dtype=np.int64)
        block = self.synapses(layer + 1)
        slots = np.arange(block.start + neuron - int(self.n_off[layer]), block.stop,
                          int(self.sizes[layer]))  # fmt: skip
        return slots[self.mask[slots]]

    def synapse_index(self, pre: int, post: int) -> int:
        """Slot of the synapse ``pre -> post`` (present or pruned); ``KeyError`` when the layout
        has no such synapse (the two are not neurons of consecutive layers)."""
        layer = self.layer_of(post)
        if layer == 0 or self.layer_of(pre) != layer - 1:
            raise KeyError((pre, post))
        return self.into(post).start + pre - int(self.n_off[layer - 1])




#: Kinds of MASDA unit (``UnitPopulation.kind``).
CONSTANT, VARIABLE, REWARD = 0, 1, 2


class Neighbours(NamedTuple):
    """A MASDA unit's place in the unit graph, each part in slot order."""

    prev: tuple[Unit, ...]  #: units whose forward messages it waits for
    next: tuple[Unit, ...]  #: units it sends its forward messages to
    rewards: tuple[Unit, ...]  #: the reward units among ``next`` (they answer backward)
    prev_slots: np.ndarray  #: the slots of ``prev`` (for reading its row of ``W``)


class UnitPopulation:
    """MASDA's units: their arrays, their graph (the model's space) and the queries of
    Algorithm 1, one slot per unit ever created (slots are never reused).

    ``W[j, i]`` is the weight of the edge from unit ``i`` to unit ``j`` (a prev weight of ``j``;
    0 where there is no edge), ``dW`` the changes accumulated since they were last applied
    (:meth:`apply_changes`), ``W_mark`` (with ``marks``) each unit's prev weights at its last
    plateau mark (:meth:`weight_change`); the
    per-unit arrays are named in ``PER_UNIT``. The arrays grow by doubling. ``grid`` is a
    :class:`~glianet.space.DirectedNetwork` with a node per living unit (its slot) and an edge
    per route of forward messages.

    Parameters
    ----------
    random : random.Random
        Mesa's random generator of the model (for the space).
    capacity : int
        Slots to allocate at first.
    marks : bool
        Keep ``W_mark`` (the model's ``plateau="weights"``).
    """

    PER_UNIT = {
        "kind": (np.int8, -1), "depth": (np.int64, -1), "stable": (np.bool_, False),
        "alive": (np.bool_, False), "corruption": (np.float64, 0.0),
        "target": (np.int64, -1), "reward_node": (np.int64, -1), "born": (np.int64, 0),
        "score": (np.float64, 0.0), "reward_sum": (np.float64, 0.0),
        "credit_sum": (np.float64, 0.0), "reward": (np.float64, 0.0),
        "error_mark": (np.float64, 0.0), "error_sum": (np.float64, 0.0), "v": (np.float64, 0.0),
    }  # fmt: skip
    #: The slot-by-slot arrays (``W_mark`` is None without ``marks``).
    MATRICES = ("W", "dW", "W_mark")

    #: Memory of one unit beyond its rows of ``W`` and ``dW``: its agent, node and edges
    #: (measured with tracemalloc: about 2,200 bytes at 2,000 units).
    BYTES_PER_UNIT = 3000

    @classmethod
    def bytes_needed(cls, units: int, marks: bool = False) -> int:
        """Memory a population of ``units`` takes: ``W``, ``dW`` (and ``W_mark``) at the
        capacity the doubling reaches, plus the agents."""
        capacity = 64
        while capacity < units:
            capacity *= 2
        return (24 if marks else 16) * capacity * capacity + cls.BYTES_PER_UNIT * units

    def __init__(
        self, random: Random | None = None, capacity: int = 64, marks: bool = False
    ) -> None:
        self.size = 0
        self.capacity = capacity
        for name, (dtype, fill) in self.PER_UNIT.items():
            setattr(self, name, np.full(capacity, fill, dtype=dtype))
        self.W = np.zeros((capacity, capacity))
        self.dW = np.zeros((capacity, capacity))
        self.W_mark = np.zeros((capacity, capacity)) if marks else None
        self.grid = DirectedNetwork(random=random)
        self.unit_by_slot: dict[int, Unit] = {}
        self.bias_slot = -1
        self._edges: tuple | None = None  # edge_mask() cache: ((graph version, size), mask)
        # neighbours() cache: Neighbours by slot, for the graph version _wired_version
        self._wiring: dict[int, Neighbours] = {}
        self._wired_version = -1

    # -- units coming and going ----------------------------------------------------------------
    def allocate(self, kind: int, depth: int, corruption: float) -> int:
        """A new slot in the arrays; grows them when they are full."""
        if self.size == self.capacity:
            self._grow(2 * self.capacity)
        slot = self.size
        self.size += 1
        self.kind[slot], self.depth[slot], self.alive[slot] = kind, depth, True
        self.corruption[slot] = corruption
        return slot

    def add(self, unit: Unit, depth: int, corruption: float):
        """A slot and a node (cell) of the graph for a new ``unit``; returns ``(slot, cell)``."""
        slot = self.allocate(unit.kind, depth, corruption)
        self.unit_by_slot[slot] = unit
        return slot, self.grid.add_node(slot)

    def connect(self, pre: Unit, post: Unit, weight: float) -> None:
        """An edge ``pre -> post`` with ``post``'s prev weight ``weight``."""
        self.grid.connect(pre.slot, post.slot)
        self.W[post.slot, pre.slot] = weight

    def remove(self, unit: Unit) -> None:
        """Take a unit out: its edges, weights and node go with it (the agent stays to the
        caller to remove)."""
        slot = unit.slot
        for matrix in self.matrices():
            matrix[slot, :] = 0.0
            matrix[:, slot] = 0.0
        self.alive[slot] = False
        self.grid.remove_node(slot)
        del self.unit_by_slot[slot]

    def _grow(self, capacity: int) -> None:
        for name, (dtype, fill) in self.PER_UNIT.items():
            grown = np.full(capacity, fill, dtype=dtype)
            grown[: self.capacity] = getattr(self, name)
            setattr(self, name, grown)
        for name in self.MATRICES:
            if getattr(self, name) is not None:
                grown = np.zeros((capacity, capacity))
                grown[: self.capacity, : self.capacity] = getattr(self, name)
                setattr(self, name, grown)
        self.capacity = capacity

    def matrices(self) -> list[np.ndarray]:
        """The slot-by-slot arrays there are."""
        return [m for m in (getattr(self, name) for name in self.MATRICES) if m is not None]

    def weight_change(self, slot: int) -> float | None:
        """Relative change ``|w - w_mark| / |w_mark|`` of ``slot``'s prev weights since its last
        mark, and mark them now; None at the first mark (nothing to compare with)."""
        size = self.size
        now, mark = self.W[slot, :size], self.W_mark[slot, :size]
        before = float(np.linalg.norm(mark))
        change = float(np.linalg.norm(now - mark)) / before if before > 0.0 else None
        self.W_mark[slot, :size] = now
        return change

    # -- queries ---------------------------------------------------------------------------------
    def __getitem__(self, slot: int) -> Unit:
        """The unit in ``slot``."""
        return self.unit_by_slot[int(slot)]

    def neighbours(self, unit: Unit) -> Neighbours:
        """``unit``'s place in the graph (see :class:`Neighbours`), which a unit asks on every
        message it receives: cached until the graph changes, so it is built once per unit and
        topology, not per message. Callers must not modify it."""
        if self._wired_version == self.grid.version:
            found = self._wiring.get(unit.slot)
            if found is not None:
                return found
        else:
            self._wiring, self._wired_version = {}, self.grid.version
        by_slot = self.unit_by_slot
        prev_slots = np.array(self.grid.upstream(unit.slot), dtype=np.int64)
        nxt = tuple(by_slot[s] for s in self.grid.downstream(unit.slot))
        found = self._wiring[unit.slot] = Neighbours(
            prev=tuple(by_slot[s] for s in prev_slots.tolist()), next=nxt,
            rewards=tuple(n for n in nxt if self.kind[n.slot] == REWARD), prev_slots=prev_slots,
        )  # fmt: skip
        return found

    def successors(self, unit: Unit) -> tuple[Unit, ...]:
        """Next nodes of ``unit`` in slot order."""
        return self.neighbours(unit).next

    def predecessors(self, unit: Unit) -> tuple[Unit, ...]:
        """Prev nodes of ``unit`` in slot order."""
        return self.neighbours(unit).prev

    def in_degree(self, unit: Unit) -> int:
        """How many prev nodes ``unit`` waits for."""
        return len(self.neighbours(unit).prev)

    def reward_successors(self, unit: Unit) -> tuple[Unit, ...]:
        """The reward units among ``unit``'s next nodes (the ones that answer backward)."""
        return self.neighbours(unit).rewards

    def slots(self, kind: int) -> np.ndarray:
        """Slots of the living units of ``kind``, in order."""
        return np.flatnonzero(self.alive[: self.size] & (self.kind[: self.size] == kind))

    def reward_units(self, max_depth: int | None = None) -> list[Unit]:
        """Reward units in slot order, up to ``max_depth``."""
        return [
            self.unit_by_slot[s]
            for s in self.slots(REWARD)
            if max_depth is None or self.depth[s] <= max_depth
        ]

    def stable_units(self, depth: int) -> list[Unit]:
        """Stable data constants (depth 0) or stable variable units of ``depth``, in slot order
        (the bias is not among them)."""
        return [
            self.unit_by_slot[s]
            for s in range(self.size)
            if self.alive[s] and self.stable[s] and self.depth[s] == depth
            and self.kind[s] != REWARD and s != self.bias_slot
        ]  # fmt: skip

    def unconnected_units(self) -> list[Unit]:
        """Variable units that have not joined yet, in slot order."""
        return [self.unit_by_slot[s] for s in self.slots(VARIABLE) if self.depth[s] < 0]

    def connected_variable_slots(self) -> list[int]:
        """Slots of the connected variable units."""
        return [int(s) for s in self.slots(VARIABLE) if self.depth[s] > 0]

    def apply_changes(self, learners: list[int]) -> None:
        """Add the accumulated changes of the ``learners``' prev weights (on existing edges) to
        ``W``, then start summing anew (``dW`` back to 0).

        Parameters
        ----------
        learners : list of int
            Slots whose prev weights learn (state-A variable units and reward units).
        """
        size, edges = self.size, self.edge_mask()
        self.W[learners, :size] += self.dW[learners, :size] * edges[learners]
        self.dW[:size, :size] = 0.0

    def edge_mask(self) -> np.ndarray:
        """``E[j, i]`` True where the edge ``i -> j`` exists (built again only when the graph
        changed; callers must not modify it)."""
        key = (self.grid.version, self.size)
        if self._edges is None or self._edges[0] != key:
            mask = np.zeros((self.size, self.size), dtype=bool)
            edges = np.array(list(self.grid.G.edges), dtype=np.int64).reshape(-1, 2)
            mask[edges[:, 1], edges[:, 0]] = True
            self._edges = (key, mask)
        return self._edges[1]
