"""Sweep designs beyond the grid: Latin hypercube, Saltelli's Sobol' sample, a table of points.

A design draws ``n`` points over parameter ranges ``{low, high, log, integer}`` (a log range is
drawn uniformly in ``log``; an integer range is rounded), or reads them from a table. Each design
is a function of the spec alone, so running a spec again makes the same points, the same run
ids, and resumes.

- ``[lhs]``: :class:`scipy.stats.qmc.LatinHypercube`, ``n`` points, ``seed``.
- ``[sobol]``: Saltelli's extension of the Sobol' sequence (:func:`SALib.sample.sobol.sample`),
  ``n`` base points (a power of 2) giving ``n * (2k + 2)`` points for ``k`` parameters
  (``n * (k + 2)`` without ``second_order``), in SALib's order, so that
  :func:`sobol_indices` hands the results to :func:`SALib.analyze.sobol.analyze`.
- ``points = "design.csv"``: a CSV or Parquet table, one row a point, one column a parameter,
  as written by EMA Workbench, SALib or by hand.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: The blocks that draw points over ranges, and the file of explicit points.
RANGED = ("random", "lhs", "sobol")
TABLE_SUFFIXES = (".csv", ".parquet")


def scale(unit: np.ndarray, ranges: dict[str, dict]) -> list[dict[str, Any]]:
    """Points of the unit cube (one row a point, one column a range) onto ``ranges``."""
    points = []
    for row in unit:
        point = {}
        for u, (name, r) in zip(row, ranges.items(), strict=True):
            low, high = (math.log(r["low"]), math.log(r["high"])) if r.get("log") else (
                r["low"], r["high"],
            )  # fmt: skip
            value = low + float(u) * (high - low)
            value = math.exp(value) if r.get("log") else value
            point[name] = int(round(value)) if r.get("integer") else float(value)
        points.append(point)
    return points


def latin_hypercube(ranges: dict[str, dict], n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` points of a Latin hypercube over ``ranges`` (scipy's ``qmc.LatinHypercube``)."""
    from scipy.stats import qmc

    return scale(qmc.LatinHypercube(d=len(ranges), rng=seed).random(n), ranges)


def sobol_problem(ranges: dict[str, dict]) -> dict:
    """SALib's problem over ``ranges``: a log range is sampled as its logarithm, on the unit
    interval here, so every range is ``[0, 1]`` and :func:`scale` maps it back."""
    return {"num_vars": len(ranges), "names": list(ranges), "bounds": [[0.0, 1.0]] * len(ranges)}


def saltelli(ranges: dict[str, dict], n: int, seed: int, second_order: bool) -> list[dict]:
    """Saltelli's sample of ``n`` base points over ``ranges`` (SALib), in SALib's order."""
    from SALib.sample import sobol

    unit = sobol.sample(sobol_problem(ranges), n, calc_second_order=second_order, seed=seed)
    return scale(unit, ranges)


def design_size(kind: str, n: int, k: int, second_order: bool) -> int:
    """How many points a ranged design makes, counted without making them."""
    if kind == "sobol":
        return n * (2 * k + 2 if second_order else k + 2)
    return n


def read_points(
    path: Path, parameters, fail: Callable[[str, str], Exception]
) -> list[dict[str, Any]]:
    """The points of a table file: one row a point, each column a parameter of ``parameters``
    (a :class:`~glianet.parameters.ParameterTable` less what the sweep sets itself).

    Values are converted by the parameter's kind: integers (``50.0`` is 50), reals, switches
    (``true`` / ``false``), text; a list (``layers``) is JSON text ``[6, 8, 1]``.

    Raises
    ------
    SpecError
        Through ``fail("points", ...)``: the file is missing, unreadable, empty, has a column
        that is no parameter, an empty cell or a value of the wrong kind, named with its row.
    """
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise fail("points", f"{path}: a table must be a {' or '.join(TABLE_SUFFIXES)} file")
    try:
        table = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    except FileNotFoundError:
        raise fail("points", f"{path}: no such file") from None
    except (OSError, ValueError, UnicodeDecodeError) as error:  # pandas' parse errors too
        raise fail("points", f"{path} cannot be read as a table: {error}") from None
    if table.empty:
        raise fail("points", f"{path} holds no points (no rows or no columns)")
    by_name = {p.name: p for p in parameters}
    for column in table.columns:
        if column not in by_name:
            raise fail(
                "points",
                f"{path}: column {column!r} is not a parameter the sweep can set; drop it or "
                f"rename it to one of {sorted(by_name)}",
            )
    points = []
    for row, values in enumerate(table.to_dict("records"), start=1):
        point = {}
        for name, value in values.items():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                raise fail("points", f"{path}: row {row}, column {name!r} is empty")
            try:
                point[name] = convert(by_name[name], value)
            except ValueError as error:
                raise fail("points", f"{path}: row {row}, column {name!r}: {error}") from None
        points.append(point)
    return points


def convert(parameter, value: Any) -> Any:
    """A table cell as a value of ``parameter``'s kind (checked fully by the model later)."""
    value = value.item() if isinstance(value, np.generic) else value
    if parameter.kind == "int":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValueError(f"{value!r} is not an integer")
    if parameter.kind == "real":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ValueError(f"{value!r} is not a number")
    if parameter.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        raise ValueError(f"{value!r} is not true or false")
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError(f"{value!r} is not a JSON list: {error}") from None
    return value


def sobol_indices(spec, results: pd.DataFrame, output: str, **analyze) -> dict:
    """Sobol' indices of ``output`` from a ``[sobol]`` sweep's results (SALib).

    Parameters
    ----------
    spec : SweepSpec
        The sweep, with a ``[sobol]`` block and no ``[grid]``.
    results : DataFrame
        Its summary rows (``run_sweep``'s return, or the ``kind == "summary"`` rows of the
        folder); ``output`` is averaged over seeds.
    output : str
        The column to analyse (``"error"``, ``"synapses"``, ...).
    **analyze
        Passed to :func:`SALib.analyze.sobol.analyze` (``num_resamples``, ``seed``, ...).

    Returns
    -------
    dict
        SALib's result (``S1``, ``ST``, their confidence intervals, ``S2`` with
        ``second_order``), indexable by parameter through ``.to_df()``.

    Raises
    ------
    ValueError
        The spec is not a Sobol' design, or a point of it has no result.
    """
    from SALib.analyze import sobol

    if spec.design != "sobol" or spec.grid:
        raise ValueError("sobol_indices needs a spec with a [sobol] block and no [grid]")
    names = list(spec.ranges)
    means = results.groupby(names)[output].mean()
    sample = saltelli(spec.ranges, spec.n, spec.design_seed, spec.second_order)
    try:
        y = np.array([means.loc[key(point, names)] for point in sample])
    except KeyError as error:
        raise ValueError(f"the point {error} of the design has no result") from None
    return sobol.analyze(
        sobol_problem(spec.ranges), y.reshape(-1), calc_second_order=spec.second_order, **analyze
    )


def key(point: dict[str, Any], names: list[str]) -> Any:
    """The index of ``point`` in a frame grouped by ``names`` (a tuple for several)."""
    return tuple(point[name] for name in names) if len(names) > 1 else point[names[0]]
