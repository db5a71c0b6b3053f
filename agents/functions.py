"""Scalar functions the agents' rules are written with.

Each is plain Python on floats, so a rule reads like the paper; the vectorized engine compiles
these very functions with Numba (``schedules/kernels.py``, which also registers the sensing
functions so compiled code can call them and each other), so both engines share one definition.
This module imports only NumPy.
"""

from __future__ import annotations

import math

import numpy as np

#: Activation codes (the compiled kernels take an int, not a string).
ACTIVATIONS = {"sigmoid": 0, "tanh": 1, "relu": 2}

#: Output rules (codes for the compiled kernels): the paper's output neurons (``phi``, squared
#: error), or a softmax output layer with the cross-entropy loss, for classification.
OUTPUTS = {"sigmoid-mse": 0, "softmax-ce": 1}
SOFTMAX_CE = OUTPUTS["softmax-ce"]

#: The three readings of the paper's sig update (SPEC §1, pruning step 1).
SIG_RULES = ("logistic", "printed", "logistic-flipped")

#: The readings of "an outlier compared with its adjacent NAs" (SPEC §1, pruning step 1; §4),
#: with their codes: the same layer with the population std (the literal reading) or the
#: sample std; the neuron's synaptic neighbours; the neuron's own running mean and spread;
#: "off", no outlier ever (f = 0: sensing switched off).
LAYER, LAYER_SAMPLE, SYNAPTIC, RUNNING, OFF = range(5)
SENSINGS = {
    "layer": LAYER, "layer-sample": LAYER_SAMPLE, "synaptic": SYNAPTIC, "running": RUNNING,
    "off": OFF,
}  # fmt: skip

#: Default ``z`` of each reading, measured on the paper's task (see :class:`glianet.model.NGModel`
#: and the README); "off" needs none.
SENSING_Z = {"layer": 1.5, "layer-sample": 1.5, "synaptic": 1.5, "running": 3.0, "off": math.inf}


def phi(a: float, kind: int) -> float:
    """Activation ``phi(a)`` of a Neuro-Agent (paper eq. 2.1)."""
    if kind == 0:
        if a >= 0.0:
            return 1.0 / (1.0 + math.exp(-a))
        e = math.exp(a)
        return e / (1.0 + e)
    if kind == 1:
        return math.tanh(a)
    return a if a > 0.0 else 0.0


def sigmoid(a: np.ndarray) -> np.ndarray:
    """Logistic function over an array (tanh form: no overflow)."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def phi_array(a: np.ndarray, kind: int) -> np.ndarray:
    """:func:`phi` over an array (for evaluating a whole layer at once)."""
    if kind == 0:
        return sigmoid(a)
    if kind == 1:
        return np.tanh(a)
    return np.maximum(a, 0.0)


def softmax_at(a, i: int) -> float:
    """Output ``i`` of a softmax layer with activations ``a``: ``exp(a_i) / sum_k exp(a_k)``.

    The largest activation is subtracted first, so no exponential overflows.
    """
    top = a[0]
    for k in range(1, len(a)):
        top = max(top, a[k])
    total = 0.0
    for k in range(len(a)):
        total += math.exp(a[k] - top)
    return math.exp(a[i] - top) / total


def softmax_array(a: np.ndarray) -> np.ndarray:
    """:func:`softmax_at` over the rows of an array (a layer's activations per pattern)."""
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def output_delta(y: float, target: float, slope: float, output: int) -> float:
    """An output neuron's responsibility ``dE/da`` for the loss of the output rule.

    ``"sigmoid-mse"``: ``E = (y - t)^2 / 2`` per output, so ``(y - t) phi'(a)``, with
    ``slope = phi'(a)``. ``"softmax-ce"``: ``E = -sum_k t_k log y_k`` over a softmax layer;
    with targets summing to 1 its gradient with respect to ``a_i`` is ``y_i - t_i`` (``slope``
    is not used).
    """
    if output == SOFTMAX_CE:
        return y - target
    return (y - target) * slope


def dphi(a: float, y: float, kind: int) -> float:
    """Derivative ``phi'(a)``, written with the output ``y = phi(a)`` where that is exact."""
    if kind == 0:
        return y * (1.0 - y)
    if kind == 1:
        return 1.0 - y * y
    return 1.0 if a > 0.0 else 0.0


def sig_step(f, rule: str, beta: float):
    """The bracket ``g(f)`` of paper eq. 2.4: ``sig <- sig - alpha * g(f)``.

    Parameters
    ----------
    f : float or array
        Activity frequency of the Neuro-Agent: outlier count / mini-batch size (eq. 2.3).
    rule : {"logistic", "printed", "logistic-flipped"}
        ``"printed"`` is eq. 2.4 exactly as printed, ``2 / (1 - beta exp(f - 0.01)) - 1``; it is
        below -1 for every f >= 0, so sig only rises. ``"logistic"`` (default) reads the
        denominator as a logistic, ``2 / (1 + exp(beta (f - 0.01))) - 1``, which falls with f, so a
        busy neuron suppresses pruning as the text says. ``"logistic-flipped"`` is its mirror image.
    beta : float
        Steepness (the paper's 6 ln 3).

    Returns
    -------
    float or array
        ``g(f)``, same shape as ``f``.
    """
    shifted = np.asarray(f, dtype=np.float64) - 0.01
    if rule == "logistic":
        g = 2.0 / (1.0 + np.exp(beta * shifted)) - 1.0
    elif rule == "printed":
        g = 2.0 / (1.0 - beta * np.exp(shifted)) - 1.0
    elif rule == "logistic-flipped":
        g = 2.0 / (1.0 + np.exp(-beta * shifted)) - 1.0
    else:
        raise ValueError(f"sig_rule={rule!r} is not one of {SIG_RULES}")
    return g[()] if g.ndim == 0 else g


def mean_std(values, ddof: int) -> tuple[float, float]:
    """Mean and standard deviation of ``values`` (the outlier test's scale); the std divides by
    ``n - ddof``: ``ddof = 0`` the population std, ``ddof = 1`` the sample std."""
    n = len(values)
    mean = 0.0
    for k in range(n):
        mean += values[k]
    mean /= n
    var = 0.0
    for k in range(n):
        var += (values[k] - mean) ** 2
    return mean, math.sqrt(var / (n - ddof)) if n > ddof else 0.0


def deviates(value: float, mean: float, std: float, z: float) -> bool:
    """Does ``value`` lie more than ``z`` standard deviations from ``mean``?"""
    return abs(value - mean) > z * std


def is_outlier(values, i: int, z: float, ddof: int) -> bool:
    """Is ``values[i]`` an outlier among ``values``: ``|v_i - mean| > z * std``?

    ``std`` divides by ``n - ddof``: ``ddof = 0`` the population std, ``ddof = 1`` the sample
    std. With the population std no value of ``n`` values can lie more than ``sqrt(n - 1)``
    std from their mean (2.65 for 8), with the sample std no more than ``(n - 1) / sqrt(n)``
    (2.47 for 8): a ``z`` above that bound makes every answer False. The vectorized engine
    takes :func:`mean_std` once per layer and sample, then :func:`deviates` per neuron: the
    same arithmetic, so the same counts.
    """
    mean, std = mean_std(values, ddof)
    return deviates(values[i], mean, std, z)


def synaptic_sum(i, layer, y, sizes, n_off, w_off, mask, centre: float, power: int):
    """``sum (y_k - centre) ** power`` and the count over neuron ``i`` and every neuron joined
    to it by a synapse that is still there (its pre neurons in ``layer - 1``, its post neurons
    in ``layer + 1``)."""
    total = (y[i] - centre) ** power
    count = 1
    j = i - n_off[layer]
    fan_in = sizes[layer - 1]
    row = w_off[layer] + j * fan_in
    for k in range(fan_in):
        if mask[row + k]:
            total += (y[n_off[layer - 1] + k] - centre) ** power
            count += 1
    if layer + 1 < len(sizes):
        for j_post in range(sizes[layer + 1]):
            if mask[w_off[layer + 1] + j_post * sizes[layer] + j]:
                total += (y[n_off[layer + 1] + j_post] - centre) ** power
                count += 1
    return total, count


def is_synaptic_outlier(i, layer, y, sizes, n_off, w_off, mask, z: float) -> bool:
    """Is ``y[i]`` an outlier among the neuron and its synaptic neighbours (population std)?"""
    total, count = synaptic_sum(i, layer, y, sizes, n_off, w_off, mask, 0.0, 1)
    mean = total / count
    squares, count = synaptic_sum(i, layer, y, sizes, n_off, w_off, mask, mean, 2)
    return abs(y[i] - mean) > z * math.sqrt(squares / count)


def is_running_outlier(i, y, run_mean, run_var, run_n, z: float, window: int) -> bool:
    """Is ``y[i]`` an outlier against the neuron's own recent outputs? Then remember ``y[i]``.

    The running mean and variance are exact over the first ``window`` samples, then
    exponential moving averages with rate ``1 / window``. A neuron counts outliers only once it
    has seen ``window`` samples: ``|y - running mean| > z * running std``, tested before the
    sample is added.
    """
    value, n = y[i], run_n[i]
    outlier = n >= window and abs(value - run_mean[i]) > z * math.sqrt(run_var[i])
    rate = 1.0 / (n + 1) if n + 1 < window else 1.0 / window
    diff = value - run_mean[i]
    run_mean[i] += rate * diff
    run_var[i] = (1.0 - rate) * (run_var[i] + rate * diff * diff)
    run_n[i] = n + 1
    return outlier


def senses_outlier(
    sensing: int, i, layer, y, sizes, n_off, w_off, mask, run_mean, run_var, run_n, z, window
) -> bool:
    """Is neuron ``i``'s output ``y[i]`` an outlier "compared with its adjacent NAs" (paper
    §2.2.2) under the reading ``sensing`` (a code of :data:`SENSINGS`)? The rule of
    :meth:`glianet.agents.NeuroAgent.count_outlier`; ``y`` holds the outputs of the sample."""
    if sensing in (LAYER, LAYER_SAMPLE):
        lo, hi = n_off[layer], n_off[layer + 1]
        return is_outlier(y[lo:hi], i - lo, z, 0 if sensing == LAYER else 1)
    if sensing == SYNAPTIC:
        return is_synaptic_outlier(i, layer, y, sizes, n_off, w_off, mask, z)
    if sensing == RUNNING:
        return is_running_outlier(i, y, run_mean, run_var, run_n, z, window)
    return False
