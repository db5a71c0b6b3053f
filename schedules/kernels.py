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
from numba.extending import register_jitable

from glianet.agents import functions
from glianet.agents.functions import senses_outlier

phi = numba.njit(cache=True)(functions.phi)
dphi = numba.njit(cache=True)(functions.dphi)
# Compiled code may call the sensing rules, which call each other; they stay plain Python.
for rule in (
    functions.is_outlier, functions.synaptic_sum, functions.is_synaptic_outlier,
    functions.is_running_outlier, functions.senses_outlier,
):  # fmt: skip
    register_jitable(rule)


@numba.njit(cache=True)
def count_outliers(
    layer, sensing, y, cnt, sizes, n_off, w_off, mask, run_mean, run_var, run_n, z, window
) -> None:
    """NA -> GA for the neurons of ``layer``: each counts the sample if its output is an
    outlier under the reading ``sensing`` (:func:`glianet.agents.functions.senses_outlier`)."""
    for i in range(n_off[layer], n_off[layer + 1]):
        if senses_outlier(
            sensing, i, layer, y, sizes, n_off, w_off, mask, run_mean, run_var, run_n, z, window
        ):
            cnt[i] += 1


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
    counts_outliers: np.ndarray,
    eta: float,
    z: float,
    kind: int,
    sensing: int,
    run_mean: np.ndarray,
    run_var: np.ndarray,
    run_n: np.ndarray,
    window: int,
) -> None:
    """Online backpropagation on ``samples`` (pattern indices), counting outliers on the way.

    Arrays are the model's (``LayeredState``) and are updated in place. ``counts_outliers[l]``
    says whether the neurons of layer ``l`` count outliers (they have glia); ``sensing`` (a code
    of :data:`glianet.agents.functions.SENSINGS`), ``run_*`` and ``window`` are what the
    outlier readings need.
    """
    n_layers = sizes.shape[0]
    for sample in samples:
        # forward
        for k in range(sizes[0]):
            y[n_off[0] + k] = inputs[sample, k]
        for layer in range(1, n_layers):
            fan_in = sizes[layer - 1]
            for j in range(sizes[layer]):
                i = n_off[layer] + j
                row = w_off[layer] + j * fan_in
                net = 0.0
                for k in range(fan_in):
                    if mask[row + k]:
                        net += w[row + k] * y[n_off[layer - 1] + k]
                a[i] = net + b[i]
                y[i] = phi(a[i], kind)
        # NA -> GA: outliers, under the reading ``sensing``
        for layer in range(1, n_layers):
            if counts_outliers[layer]:
                count_outliers(
                    layer, sensing, y, cnt, sizes, n_off, w_off, mask, run_mean, run_var, run_n,
                    z, window,
                )  # fmt: skip
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
