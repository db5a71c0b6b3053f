"""Checks for public parameters: each error names the parameter, its value and what is allowed."""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any


def check_int(name: str, value: Any, minimum: int | None = None) -> int:
    """Return ``value`` as int; raise ValueError unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name}={value!r} is invalid: it must be an integer")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}={value!r} is invalid: it must be >= {minimum}")
    return int(value)


def check_real(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as float; raise ValueError unless it is a finite number in the interval."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name}={value!r} is invalid: it must be a finite number")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name}={value!r} is invalid: it must lie in {interval}")
    return float(value)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value``; raise ValueError unless it is one of ``choices``."""
    choices = tuple(choices)
    if not isinstance(value, str | int) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}={value!r} is invalid: it must be one of {allowed}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value``; raise ValueError unless it is a bool."""
    if not isinstance(value, bool):
        raise ValueError(f"{name}={value!r} is invalid: it must be True or False")
    return value
