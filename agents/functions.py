"""Scalar functions the agents' rules are written with.

Each is plain Python on floats, so a rule reads like the paper; the vectorized engine compiles
these very functions with Numba (``schedules/kernels.py``), so both engines share one definition.
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


def is_outlier(values, i: int, z: float) -> bool:
    """Is ``values[i]`` an outlier among ``values``: ``|v_i - mean| > z * std`` (population std)?"""
    n = len(values)
    mean = 0.0
    for k in range(n):
        mean += values[k]
    mean /= n
    var = 0.0
    for k in range(n):
        var += (values[k] - mean) ** 2
    std = math.sqrt(var / n)
    return abs(values[i] - mean) > z * std
