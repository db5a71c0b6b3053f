"""Compiled loops of the vectorized engine.

The per-sample phases (forward, outlier count, backward) of all neurons and synapses run here in
one Numba-compiled loop over the samples between two pruning rounds. The loop applies the same
functions as the agents (``agents/functions.py``, compiled from the same source), in the same
order: each neuron sums its synapses in the order of their pre neurons, so both engines follow
one trajectory.
"""

from __future__ import annotations

import numba
import numpy as np

from glianet.agents import functions

phi = numba.njit(cache=True)(functions.phi)
dphi = numba.njit(cache=True)(functions.dphi)
is_outlier = numba.njit(cache=True)(functions.is_outlier)


@numba.njit(cache=True)
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
) -> None:
    """Online backpropagation on ``samples`` (pattern indices), counting outliers on the way.

    Arrays are the model's (``LayeredState``) and are updated in place. ``counts_outliers[l]``
    says whether the neurons of layer ``l`` count outliers (they have glia); a neuron whose
    ``alive`` is False (removed) outputs 0 and is left out of its layer's outlier test.
    """
    n_layers = sizes.shape[0]
    everyone_alive = alive.all()
    for sample in samples:
        # forward
        for k in range(sizes[0]):
            y[n_off[0] + k] = inputs[sample, k]
        for layer in range(1, n_layers):
            fan_in = sizes[layer - 1]
            for j in range(sizes[layer]):
                i = n_off[layer] + j
                if not alive[i]:
                    a[i] = 0.0
                    y[i] = 0.0
                    continue
                row = w_off[layer] + j * fan_in
                net = 0.0
                for k in range(fan_in):
                    if mask[row + k]:
                        net += w[row + k] * y[n_off[layer - 1] + k]
                a[i] = net + b[i]
                y[i] = phi(a[i], kind)
        # NA -> GA: outliers among the neurons of the same layer
        for layer in range(1, n_layers):
            if counts_outliers[layer]:
                lo, hi = n_off[layer], n_off[layer + 1]
                if everyone_alive:
                    for i in range(lo, hi):
                        if is_outlier(y[lo:hi], i - lo, z):
                            cnt[i] += 1
                else:
                    living = y[lo:hi][alive[lo:hi]]
                    k = 0
                    for i in range(lo, hi):
                        if alive[i]:
                            if is_outlier(living, k, z):
                                cnt[i] += 1
                            k += 1
        # backward: deltas first, with the weights of the forward pass
        last = n_layers - 1
        for j in range(sizes[last]):
            i = n_off[last] + j
            delta[i] = (y[i] - targets[sample, j]) * dphi(a[i], y[i], kind)
        for layer in range(last, 1, -1):
            fan_in = sizes[layer - 1]
            for j in range(sizes[layer]):
                row = w_off[layer] + j * fan_in
                d = delta[n_off[layer] + j]
                for k in range(fan_in):
                    if mask[row + k]:
                        back[n_off[layer - 1] + k] += w[row + k] * d
            for i in range(n_off[layer - 1], n_off[layer]):
                delta[i] = back[i] * dphi(a[i], y[i], kind)
                back[i] = 0.0
        # learn
        for layer in range(1, n_layers):
            fan_in = sizes[layer - 1]
            for j in range(sizes[layer]):
                i = n_off[layer] + j
                row = w_off[layer] + j * fan_in
                for k in range(fan_in):
                    if mask[row + k]:
                        w[row + k] -= eta * delta[i] * y[n_off[layer - 1] + k]
                b[i] -= eta * delta[i]
