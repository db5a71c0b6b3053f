"""Scalar functions the agents' rules are written with.

Each is plain Python on floats, so a rule reads like the paper; the vectorized engine compiles
these very functions with Numba (``schedules/kernels.py``), so both engines share one definition.
"""

from __future__ import annotations

import math

import numpy as np

#: Activation codes (the compiled kernels take an int, not a string).
ACTIVATIONS = {"sigmoid": 0, "tanh": 1, "relu": 2}

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


def dphi(a: float, y: float, kind: int) -> float:
    """Derivative ``phi'(a)``, written with the output ``y = phi(a)`` where that is exact."""
    if kind == 0:
        return y * (1.0 - y)
    if kind == 1:
        return 1.0 - y * y
    return 1.0 if a > 0.0 else 0.0


def dphi_array(a: np.ndarray, y: np.ndarray, kind: int) -> np.ndarray:
    """:func:`dphi` over arrays."""
    if kind == 0:
        return y * (1.0 - y)
    if kind == 1:
        return 1.0 - y * y
    return (a > 0.0).astype(np.float64)


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
        # d * d, not d ** 2: Python's float power raises OverflowError where the compiled
        # engine gives inf, and both engines must see the same run.
        d = values[k] - mean
        var += d * d
    std = math.sqrt(var / n)
    return abs(values[i] - mean) > z * std
