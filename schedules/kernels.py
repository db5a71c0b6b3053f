"""Compiled loops of the vectorized engine.

The per-sample phases (forward, outlier count, backward, learning) of all neurons and synapses
run here in one Numba-compiled loop over the samples between two pruning rounds. The loop applies
the same functions as the agents (``agents/functions.py``, compiled from the same source), in the
same order: each neuron sums its synapses in the order of their pre neurons, and each pre neuron
sums what its synapses send back in the order of their post neurons, so both engines follow one
trajectory.

Each layer is run one of two ways, chosen by :class:`PresentRows` after each pruning round:

- dense: the whole weight block, pruned slots included. A pruned weight is exactly 0, so it adds
  exactly 0 to a sum and the sums need no mask; only learning masks (a pruned weight stays 0).
  No branch in the inner loops, so the compiler can vectorize them.
- packed: only the present synapses, row by row (their pre neurons and a packed copy of their
  weights), so a pruned synapse costs nothing. The packed weights are gathered from the model's
  ``w`` before the samples and written back after them.

Compiled code is cached on disk in a directory named by a hash of this file's and the rules'
source (as Brian2 caches its generated code), so an edited rule is always recompiled.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import numba
import numpy as np
from numba.extending import register_jitable

from glianet.agents import functions
from glianet.agents.functions import (
    LAYER,
    LAYER_SAMPLE,
    deviates,
    mean_std,
    senses_outlier,
)

#: The source files compiled here: a change to any of them means new compiled code.
SOURCES = (Path(__file__), Path(functions.__file__))

#: A layer runs packed when at most this share of its synapses is present. A packed synapse
#: costs 2 to 2.5 dense slots (it reaches its pre neuron through an index, which the compiler
#: cannot vectorize); on a 512 x 512 layer the two break even between 50 and 60 % pruned.
PACKED_DENSITY = 0.4
SOFTMAX_CE = functions.SOFTMAX_CE


def cache_dir() -> Path | None:
    """The on-disk cache of the compiled kernels: a directory named by the hash of :data:`SOURCES`.

    It lies in ``NUMBA_CACHE_DIR`` if that is set, else in this package's ``__pycache__``.
    Returns None (compile in memory only) when the directory cannot be written.
    """
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in SOURCES)).hexdigest()[:16]
    base = Path(numba.config.CACHE_DIR or Path(__file__).parent / "__pycache__")
    path = base / f"glianet-kernels-{digest}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return None
    return path


CACHE_DIR = cache_dir()


def jit(func):
    """``numba.njit`` with the on-disk cache in :data:`CACHE_DIR`.

    Numba's cache locator reads ``numba.config.CACHE_DIR`` when a function is decorated, so it
    is set for that moment only, leaving other Numba users of the process alone.
    """
    previous = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = str(CACHE_DIR) if CACHE_DIR else previous
    try:
        return numba.njit(cache=CACHE_DIR is not None)(func)
    finally:
        numba.config.CACHE_DIR = previous


phi = jit(functions.phi)
dphi = jit(functions.dphi)
softmax_at = jit(functions.softmax_at)
output_delta = jit(functions.output_delta)
# The sensing rules call each other; compiled code calls them as they are (their source is in
# SOURCES, so an edit to any of them recompiles the kernels).
for rule in (
    functions.deviation, functions.mean_std, functions.deviates, functions.is_outlier,
    functions.synaptic_sum, functions.is_synaptic_outlier, functions.is_running_outlier,
    functions.senses_outlier,
):  # fmt: skip
    register_jitable(rule)


@jit
def count_outliers(
    layer, sensing, y, cnt, alive, everyone_alive, sizes, n_off, w_off, mask, run_mean, run_var,
    run_n, z, window,
) -> None:  # fmt: skip
    """NA -> GA for the neurons of ``layer``: each counts the sample if its output is an
    outlier under the reading ``sensing`` (:func:`glianet.agents.functions.senses_outlier`).
    A removed neuron (``alive`` False) takes no part; ``everyone_alive`` spares the check.

    For the same-layer readings the layer's scale is taken once (:func:`mean_std`), then each
    neuron is tested (:func:`deviates`): the arithmetic of :func:`is_outlier`, in O(n).
    """
    lo, hi = n_off[layer], n_off[layer + 1]
    if sensing in (LAYER, LAYER_SAMPLE):
        ddof = 0 if sensing == LAYER else 1
        if everyone_alive:
            mean, std = mean_std(y[lo:hi], ddof)
        else:
            mean, std = mean_std(y[lo:hi][alive[lo:hi]], ddof)
        for i in range(lo, hi):
            if alive[i] and deviates(y[i], mean, std, z):
                cnt[i] += 1
        return
    for i in range(lo, hi):
        if alive[i] and senses_outlier(
            sensing, i, layer, y, sizes, n_off, w_off, mask, run_mean, run_var, run_n, z, window
        ):
            cnt[i] += 1


class PresentRows:
    """The layout the kernels run a network in: which layers are packed, and their present rows.

    Topology changes only in pruning rounds, so the scheduler rebuilds this after each round
    that pruned. For neuron ``i`` of a packed layer, its present synapses are
    ``slots[starts[i]:starts[i + 1]]`` (indices into the synapse arrays, in the order of their
    pre neurons), ``cols[...]`` their pre neurons' positions in the layer below and ``wp[...]``
    the packed weights. Neurons of dense layers have empty ranges.

    Parameters
    ----------
    state : LayeredState
        The network's arrays (``mask`` says which synapses are present).
    packed_density : float, optional
        Layers with at most this share of present synapses are packed (default
        :data:`PACKED_DENSITY`).
    """

    def __init__(self, state, packed_density: float | None = None) -> None:
        if packed_density is None:
            packed_density = PACKED_DENSITY
        fan = state.sizes[1:] * state.sizes[:-1]
        present = np.add.reduceat(state.mask, state.w_off[1:])
        self.packed = np.concatenate(([False], present <= packed_density * fan))
        self.starts = np.zeros(len(state.b) + 1, dtype=np.int64)
        slots, cols = [], []
        for layer in np.flatnonzero(self.packed):
            block = state.synapses(layer)
            kept = np.flatnonzero(state.mask[block])
            fan_in = state.sizes[layer - 1]
            rows = np.bincount(kept // fan_in, minlength=state.sizes[layer])
            self.starts[state.neurons(layer)] = rows
            slots.append(block.start + kept)
            cols.append(kept % fan_in)
        # starts held each row's count at the slot of its neuron; shift and sum to row starts
        self.starts = np.concatenate(([0], np.cumsum(self.starts[:-1])))
        self.slots = np.concatenate(slots) if slots else np.zeros(0, dtype=np.int64)
        self.cols = (np.concatenate(cols) if cols else np.zeros(0)).astype(np.uint32)
        self.wp = np.zeros(len(self.slots))


@jit
def transmit_dense(w, x, net):
    """``net[j] = sum_k w[j, k] x[k]`` over a dense row-major block, each sum in ``k`` order.

    Four rows at a time: four independent sums keep the FPU busy while each stays in order.
    """
    n = x.shape[0]
    rows = net.shape[0]
    j = 0
    while j + 4 <= rows:
        w0, w1 = w[j * n : (j + 1) * n], w[(j + 1) * n : (j + 2) * n]
        w2, w3 = w[(j + 2) * n : (j + 3) * n], w[(j + 3) * n : (j + 4) * n]
        s0 = s1 = s2 = s3 = 0.0
        for k in range(n):
            xk = x[k]
            s0 += w0[k] * xk
            s1 += w1[k] * xk
            s2 += w2[k] * xk
            s3 += w3[k] * xk
        net[j], net[j + 1], net[j + 2], net[j + 3] = s0, s1, s2, s3
        j += 4
    while j < rows:
        s = 0.0
        row = w[j * n : (j + 1) * n]
        for k in range(n):
            s += row[k] * x[k]
        net[j] = s
        j += 1


@jit
def transmit_packed(wp, cols, starts, x, net):
    """``net[j] = sum w x`` over the present synapses of each row, in the order of their pre.

    Four rows at a time, as in :func:`transmit_dense`, over the length they share; each row's
    remaining synapses are added after, still in order. (Rows are taken as slices, so that the
    compiler knows their indices are not negative.)
    """
    rows = net.shape[0]
    j = 0
    while j + 4 <= rows:
        w0, c0 = wp[starts[j] : starts[j + 1]], cols[starts[j] : starts[j + 1]]
        w1, c1 = wp[starts[j + 1] : starts[j + 2]], cols[starts[j + 1] : starts[j + 2]]
        w2, c2 = wp[starts[j + 2] : starts[j + 3]], cols[starts[j + 2] : starts[j + 3]]
        w3, c3 = wp[starts[j + 3] : starts[j + 4]], cols[starts[j + 3] : starts[j + 4]]
        shared = min(w0.shape[0], w1.shape[0], w2.shape[0], w3.shape[0])
        s0 = s1 = s2 = s3 = 0.0
        for t in range(shared):
            s0 += w0[t] * x[c0[t]]
            s1 += w1[t] * x[c1[t]]
            s2 += w2[t] * x[c2[t]]
            s3 += w3[t] * x[c3[t]]
        net[j] = row_sum(w0, c0, x, s0, shared)
        net[j + 1] = row_sum(w1, c1, x, s1, shared)
        net[j + 2] = row_sum(w2, c2, x, s2, shared)
        net[j + 3] = row_sum(w3, c3, x, s3, shared)
        j += 4
    while j < rows:
        net[j] = row_sum(wp[starts[j] : starts[j + 1]], cols[starts[j] : starts[j + 1]], x, 0.0, 0)
        j += 1


@jit
def row_sum(weights, cols, x, s, start):
    """``s`` plus ``weights[t] x[cols[t]]`` for ``t`` from ``start`` on, in order."""
    for t in range(start, weights.shape[0]):
        s += weights[t] * x[cols[t]]
    return s


@jit
def send_back_dense(w, delta, back):
    """``back[k] += sum_j w[j, k] delta[j]`` over a dense block, each sum in ``j`` order."""
    n = back.shape[0]
    for j in range(delta.shape[0]):
        d = delta[j]
        row = w[j * n : (j + 1) * n]
        for k in range(n):
            back[k] += row[k] * d


@jit
def send_back_packed(wp, cols, starts, delta, back):
    """:func:`send_back_dense` over the present synapses of a packed layer."""
    for j in range(delta.shape[0]):
        d = delta[j]
        row, pre = wp[starts[j] : starts[j + 1]], cols[starts[j] : starts[j + 1]]
        for t in range(row.shape[0]):
            back[pre[t]] += row[t] * d


@jit
def learn_dense(w, present, delta, x, eta):
    """``w[j, k] -= eta delta[j] x[k]`` where present: a pruned weight stays exactly 0."""
    n = x.shape[0]
    for j in range(delta.shape[0]):
        step = eta * delta[j]
        row, kept = w[j * n : (j + 1) * n], present[j * n : (j + 1) * n]
        for k in range(n):
            row[k] -= step * x[k] * kept[k]


@jit
def learn_packed(wp, cols, starts, delta, x, eta):
    """``w -= eta delta_post y_pre`` on the present synapses of a packed layer."""
    for j in range(delta.shape[0]):
        step = eta * delta[j]
        row, pre = wp[starts[j] : starts[j + 1]], cols[starts[j] : starts[j + 1]]
        for t in range(row.shape[0]):
            row[t] -= step * x[pre[t]]


@jit
def bounds(n_off, w_off, layer):
    """Where ``layer`` lies: first neuron of the layer below, its own first and end neuron,
    and the slice of its weight block."""
    below, lo, hi = n_off[layer - 1], n_off[layer], n_off[layer + 1]
    return below, lo, hi, slice(w_off[layer], w_off[layer] + (hi - lo) * (lo - below))


@jit
def train_samples(
    samples: np.ndarray,
    inputs: np.ndarray,
    targets: np.ndarray,
    sizes: np.ndarray,
    n_off: np.ndarray,
    w_off: np.ndarray,
    w: np.ndarray,
    mask: np.ndarray,
    b: np.ndarray,
    a: np.ndarray,
    y: np.ndarray,
    back: np.ndarray,
    delta: np.ndarray,
    cnt: np.ndarray,
    alive: np.ndarray,
    counts_outliers: np.ndarray,
    eta: float,
    z: float,
    kind: int,
    output: int,
    sensing: int,
    run_mean: np.ndarray,
    run_var: np.ndarray,
    run_n: np.ndarray,
    window: int,
    packed: np.ndarray,
    slots: np.ndarray,
    starts: np.ndarray,
    cols: np.ndarray,
    wp: np.ndarray,
) -> None:
    """Online backpropagation on ``samples`` (pattern indices), counting outliers on the way.

    Arrays are the model's (``LayeredState``) and are updated in place. ``counts_outliers[l]``
    says whether the neurons of layer ``l`` count outliers (they have glia); ``output`` is the
    code of the output rule (``functions.OUTPUTS``); ``sensing`` (a code of
    :data:`glianet.agents.functions.SENSINGS`), ``run_*`` and ``window`` are what the outlier
    readings need; a neuron whose ``alive`` is False (removed) outputs 0 and takes no part in
    the outlier readings. ``packed``, ``slots``, ``starts``, ``cols`` and ``wp`` are a
    :class:`PresentRows`.
    """
    n_layers = sizes.shape[0]
    last = n_layers - 1
    everyone_alive = alive.all()
    for p in range(slots.shape[0]):
        wp[p] = w[slots[p]]
    for sample in samples:
        # forward
        for k in range(sizes[0]):
            y[k] = inputs[sample, k]
        for layer in range(1, n_layers):
            below, lo, hi, block = bounds(n_off, w_off, layer)
            if packed[layer]:
                transmit_packed(wp, cols, starts[lo:], y[below:lo], a[lo:hi])
            else:
                transmit_dense(w[block], y[below:lo], a[lo:hi])
            for i in range(lo, hi):
                a[i] = a[i] + b[i]
                y[i] = phi(a[i], kind) if alive[i] else 0.0
        if output == SOFTMAX_CE:
            lo, hi = n_off[last], n_off[n_layers]
            for i in range(lo, hi):
                y[i] = softmax_at(a[lo:hi], i - lo)
        # NA -> GA: outliers, under the reading ``sensing``
        for layer in range(1, n_layers):
            if counts_outliers[layer]:
                count_outliers(
                    layer, sensing, y, cnt, alive, everyone_alive, sizes, n_off, w_off, mask,
                    run_mean, run_var, run_n, z, window,
                )  # fmt: skip
        # backward: deltas first, with the weights of the forward pass
        for j in range(sizes[last]):
            i = n_off[last] + j
            delta[i] = output_delta(y[i], targets[sample, j], dphi(a[i], y[i], kind), output)
        for layer in range(last, 1, -1):
            below, lo, hi, block = bounds(n_off, w_off, layer)
            if packed[layer]:
                send_back_packed(wp, cols, starts[lo:], delta[lo:hi], back[below:lo])
            else:
                send_back_dense(w[block], delta[lo:hi], back[below:lo])
            for i in range(below, lo):
                delta[i] = back[i] * dphi(a[i], y[i], kind)
                back[i] = 0.0
        # learn
        for layer in range(1, n_layers):
            below, lo, hi, block = bounds(n_off, w_off, layer)
            if packed[layer]:
                learn_packed(wp, cols, starts[lo:], delta[lo:hi], y[below:lo], eta)
            else:
                learn_dense(w[block], mask[block], delta[lo:hi], y[below:lo], eta)
            for i in range(lo, hi):
                b[i] -= eta * delta[i]
    for p in range(slots.shape[0]):
        w[slots[p]] = wp[p]
