"""The arrays an NG network's phases read in bulk, owned by the model.

Agents are handles onto slots of these arrays: a Synapse-Agent owns ``w[i]``, a Neuro-Agent
``b[j]``, ``y[j]``, ..., a Glia-Agent ``sig[g]``. The vectorized engine works on the arrays
directly; the per-agent engine goes through each agent, which reads and writes its own slots
through ``memoryview``s of the same buffers (scalar access to a memoryview is several times
faster than to a NumPy array, and both see the same memory).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

#: Arrays with one slot per neuron, per synapse and per glia agent.
NEURON_ARRAYS = ("b", "a", "y", "net", "back", "delta", "cnt")
SYNAPSE_ARRAYS = ("w", "mask", "prunable", "pre", "post")
GLIA_ARRAYS = ("sig", "glia_neuron")


@dataclass
class LayeredState:
    """Flat arrays of a fully connected layered network, with per-layer views.

    Neuron ``k`` of layer ``l`` has index ``n_off[l] + k``; the synapse from neuron ``k`` of layer
    ``l - 1`` to neuron ``j`` of layer ``l`` has index ``w_off[l] + j * sizes[l - 1] + k``, so
    ``weights(l)`` is the usual ``(sizes[l], sizes[l - 1])`` matrix, as a view.
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
        self.sig = np.zeros(self.n_glia)
        self.glia_neuron = np.zeros(self.n_glia, dtype=np.int64)
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


class UnitState:
    """Arrays of the MASDA units, one slot per unit ever created (slots are never reused).

    ``W[j, i]`` is the weight of the edge from unit ``i`` to unit ``j`` (a prev weight of ``j``;
    0 where there is no edge), ``dW`` the changes accumulated over the current epoch. The per-sample
    value ``v`` serves the per-agent engine. The arrays grow by doubling.
    """

    PER_UNIT = {
        "kind": (np.int8, -1), "depth": (np.int64, -1), "stable": (np.bool_, False),
        "alive": (np.bool_, False), "corruption": (np.float64, 0.0),
        "target": (np.int64, -1), "reward_node": (np.int64, -1), "born": (np.int64, 0),
        "score": (np.float64, 0.0), "reward_sum": (np.float64, 0.0),
        "error_sum": (np.float64, 0.0), "v": (np.float64, 0.0),
    }  # fmt: skip

    def __init__(self, capacity: int = 64) -> None:
        self.size = 0
        self.capacity = capacity
        for name, (dtype, fill) in self.PER_UNIT.items():
            setattr(self, name, np.full(capacity, fill, dtype=dtype))
        self.W = np.zeros((capacity, capacity))
        self.dW = np.zeros((capacity, capacity))

    def allocate(self, kind: int, depth: int, corruption: float) -> int:
        """A new slot for a unit; grows the arrays when they are full."""
        if self.size == self.capacity:
            self._grow(2 * self.capacity)
        slot = self.size
        self.size += 1
        self.kind[slot], self.depth[slot], self.alive[slot] = kind, depth, True
        self.corruption[slot] = corruption
        return slot

    def _grow(self, capacity: int) -> None:
        for name, (dtype, fill) in self.PER_UNIT.items():
            grown = np.full(capacity, fill, dtype=dtype)
            grown[: self.capacity] = getattr(self, name)
            setattr(self, name, grown)
        for name in ("W", "dW"):
            grown = np.zeros((capacity, capacity))
            grown[: self.capacity, : self.capacity] = getattr(self, name)
            setattr(self, name, grown)
        self.capacity = capacity
