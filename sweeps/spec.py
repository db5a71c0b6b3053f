"""The sweep spec: which model, which parameters, which seeds; validated before any run.

A spec file is TOML::

    model = "ng"            # a name in MODELS
    epochs = 20             # steps per run
    seeds = 3               # 0, 1, 2; or a list: seeds = [4, 7]

    [fixed]                 # the same in every run
    samples_per_epoch = 1000

    [grid]                  # every combination of these lists
    z = [2.0, 2.3]
    alpha = [0.01, 0.02]

    [random]                # n points drawn uniformly (log = true: log-uniform) from ranges
    n = 4
    seed = 0
    A = { low = 0.0, high = 0.05 }
    mini_batch_size = { low = 50, high = 200, integer = true }

Instead of ``[random]``, one other design (see :mod:`glianet.sweeps.design`)::

    [lhs]                   # a Latin hypercube of n points over the same kind of ranges
    n = 16
    seed = 0
    eta = { low = 0.1, high = 1.0, log = true }

    [sobol]                 # Saltelli's sample for Sobol' indices: n * (2k + 2) points
    n = 8                   # base points, a power of 2
    seed = 0
    second_order = true     # false: n * (k + 2) points, first and total order only
    A = { low = 0.0, high = 0.05 }

    points = "design.csv"   # a table of points (CSV or Parquet; relative to the spec's folder)

Runs are the product grid x design points x seeds, counted before any is made: a spec of more
than ``MAX_RUNS`` runs is refused, naming the field that makes it so large. A value listed twice
in a grid is refused (it would be one run counted twice); design points that coincide (an
integer range, a row twice) run once. Each run gets a stable id: a hash of the model, its
parameters and its seed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from glianet.model import MASDAModel, NGModel
from glianet.parameters import ParameterError
from glianet.sweeps import design as designs

#: Models a sweep can run, by the name a spec uses.
MODELS: dict[str, type] = {"ng": NGModel, "masda": MASDAModel}
#: The keyword that sets a model's number of steps (the spec's ``epochs``).
EPOCHS_KEYWORD = {"ng": "epochs", "masda": "pretrain_epochs"}

TOP_LEVEL = {"model", "epochs", "seeds", "fixed", "grid", "points", *designs.RANGED}
#: Most runs a sweep may have. The main process holds each run, its future and its summary row:
#: about 2 KB for a run and its future alone (measured), some 300 MB in all at this size.
MAX_RUNS = 100_000
#: Column types of the parameters whose table kind is "other" (checked by a function of their
#: own): see :func:`column_type`.
OTHER_TYPES = {"layers": "json", "glia_layers": "json", "task": "string", "z": "float",
               "glia_topology": "string"}  # fmt: skip


class SpecError(ValueError):
    """A sweep spec is malformed; the message names the field."""


@dataclass(frozen=True)
class Run:
    """One run of a sweep: a model, its keyword parameters and a seed."""

    model: str
    params: dict[str, Any]
    seed: int
    epochs: int
    run_id: str = field(init=False)

    def __post_init__(self) -> None:
        key = json.dumps(
            {"model": self.model, "params": self.params, "seed": self.seed, "epochs": self.epochs},
            sort_keys=True,
        )
        object.__setattr__(self, "run_id", hashlib.sha256(key.encode()).hexdigest()[:16])

    def build(self):
        """The model of this run, ready to step."""
        steps = {EPOCHS_KEYWORD[self.model]: self.epochs}
        return MODELS[self.model](rng=self.seed, **steps, **self.params)


@dataclass
class SweepSpec:
    """A validated sweep spec (see the module docstring for the file format).

    ``design`` is the block that makes points beside the grid: "random", "lhs", "sobol" (over
    ``ranges``, ``n`` points or base points, ``design_seed``) or "points" (the rows of
    ``table``, read from ``source``); None for a grid alone.
    """

    model: str
    epochs: int
    seeds: list[int]
    fixed: dict[str, Any]
    grid: dict[str, list[Any]]
    design: str | None = None
    ranges: dict[str, dict[str, Any]] = field(default_factory=dict)
    n: int = 0
    design_seed: int = 0
    second_order: bool = True
    table: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""

    @property
    def swept(self) -> list[str]:
        """Names of the parameters that vary between runs."""
        table_columns = dict.fromkeys(name for point in self.table for name in point)
        return list(self.grid) + list(self.ranges) + list(table_columns)

    def design_points(self) -> list[dict[str, Any]]:
        """The points of the design block, in its order ([{}] without one)."""
        if self.design == "random":
            rng = np.random.default_rng(self.design_seed)
            return [{name: draw(rng, r) for name, r in self.ranges.items()} for _ in range(self.n)]
        if self.design == "lhs":
            return designs.latin_hypercube(self.ranges, self.n, self.design_seed)
        if self.design == "sobol":
            return designs.saltelli(self.ranges, self.n, self.design_seed, self.second_order)
        if self.design == "points":
            return self.table
        return [{}]

    def points(self) -> list[dict[str, Any]]:
        """Every parameter set of the sweep (without seeds), in a stable order."""
        grid_points = [
            dict(zip(self.grid, values, strict=True))
            for values in itertools.product(*self.grid.values())
        ]
        draws = self.design_points()
        table = MODELS[self.model].parameters
        points = (
            {name: normalize(table[name], v) for name, v in {**self.fixed, **g, **d}.items()}
            for g in grid_points
            for d in draws
        )
        # a design can make one point twice (integer ranges, a row twice): it is one run
        return list({json.dumps(p, sort_keys=True): p for p in points}.values())

    def canonical(self) -> dict[str, Any]:
        """Everything that makes this spec the sweep it is, as plain data (a points table by
        its file name and a hash of its values, so an edited table is another sweep)."""
        spec = {"model": self.model, "epochs": self.epochs, "seeds": self.seeds,
                "fixed": self.fixed, "grid": self.grid}  # fmt: skip
        if self.design == "points":
            values = json.dumps(self.table, sort_keys=True).encode()
            spec["points"] = {"file": self.source, "sha256": hashlib.sha256(values).hexdigest()}
        elif self.design is not None:
            block = {"n": self.n, "seed": self.design_seed, **self.ranges}
            if self.design == "sobol":
                block["second_order"] = self.second_order
            spec[self.design] = block
        return spec

    def runs(self) -> list[Run]:
        """Every run of the sweep: each parameter set with each seed."""
        return [
            Run(self.model, params, seed, self.epochs)
            for params in self.points()
            for seed in self.seeds
        ]


def column_type(parameter) -> str:
    """The type of a parameter's column in the results: "float", "int", "bool", "string" or
    "json" (a list, as JSON text)."""
    if parameter.kind == "real":
        return "float"
    if parameter.kind in ("int", "bool"):
        return parameter.kind
    if parameter.kind == "choice":
        return "string" if all(isinstance(c, str) for c in parameter.choices) else "int"
    try:
        return OTHER_TYPES[parameter.name]
    except KeyError:
        raise TypeError(f"parameter {parameter.name!r} has no column type in OTHER_TYPES") from None


def normalize(parameter, value: Any) -> Any:
    """A real parameter's integer value as a float: ``z = 2`` and ``z = 2.0`` are one run."""
    if column_type(parameter) == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def draw(rng: np.random.Generator, r: dict[str, Any]) -> float | int:
    """One value from a random range ``{low, high, log, integer}``."""
    low, high = r["low"], r["high"]
    if r.get("log"):
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    else:
        value = rng.uniform(low, high)
    return int(round(value)) if r.get("integer") else float(value)


def load_spec(source: str | Path | dict) -> SweepSpec:
    """Read and validate a sweep spec from a TOML file or a dict.

    Every field is checked, and every parameter set is given to the model's constructor once,
    so a bad spec fails here, before any run starts.

    Raises
    ------
    SpecError
        Naming the field that is wrong and what is allowed.
    """
    if isinstance(source, dict):
        raw, where, folder = source, "sweep spec", Path.cwd()
    else:
        path = Path(source)
        where, folder = f"sweep spec {path}", path.parent
        try:
            raw = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise SpecError(f"{where}: no such file") from None
        except OSError as error:  # a folder, no permission
            raise SpecError(f"{where}: cannot be read: {error.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise SpecError(f"{where}: not valid TOML: {error}") from None

    def fail(field_name: str, problem: str) -> SpecError:
        return SpecError(f"{where}: {field_name}: {problem}")

    unknown = set(raw) - TOP_LEVEL
    if unknown:
        raise fail(sorted(unknown)[0], f"unknown field; allowed: {sorted(TOP_LEVEL)}")
    model = raw.get("model")
    if model not in MODELS:
        raise fail("model", f"{model!r} is not a known model; choose one of {sorted(MODELS)}")
    epochs = raw.get("epochs")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise fail("epochs", f"{epochs!r} must be an integer >= 1")
    seeds = raw.get("seeds", 1)  # a count is made a list once the sweep's size is checked
    counted = isinstance(seeds, int) and not isinstance(seeds, bool) and seeds >= 1
    if not counted and not (
        isinstance(seeds, list)
        and seeds
        and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
        and len(set(seeds)) == len(seeds)
    ):
        raise fail("seeds", f"{seeds!r} must be a count >= 1 or a list of distinct integers >= 0")

    # rng and the number of epochs are set by the sweep itself
    allowed = set(MODELS[model].parameters.names) - {EPOCHS_KEYWORD[model]}
    sections = {}
    for section in ("fixed", "grid", *designs.RANGED):
        table = raw.get(section, {})
        if not isinstance(table, dict):
            raise fail(section, "must be a table")
        sections[section] = table
    chosen = [name for name in designs.RANGED if sections[name]] + ["points"] * ("points" in raw)
    if len(chosen) > 1:
        raise fail(chosen[1], f"a spec takes one design; this one has {' and '.join(chosen)}")
    design = chosen[0] if chosen else None
    ranges = dict(sections.get(design, {})) if design in designs.RANGED else {}
    n = ranges.pop("n", None)
    design_seed = ranges.pop("seed", 0)
    second_order = ranges.pop("second_order", True) if design == "sobol" else True
    table = []
    if design == "points":
        table = read_table(raw["points"], folder, MODELS[model].parameters, allowed, fail)
    names_seen: dict[str, str] = {}
    columns = {name: None for point in table for name in point}
    for section, names in [
        ("fixed", sections["fixed"]), ("grid", sections["grid"]), (design, ranges),
        ("points", columns),
    ]:  # fmt: skip
        for name in names:
            if name not in allowed:
                raise fail(
                    f"{section}.{name}",
                    f"{model!r} has no parameter {name!r}; its parameters: {sorted(allowed)}",
                )
            if name in names_seen:
                raise fail(f"{section}.{name}", f"also set in [{names_seen[name]}]")
            names_seen[name] = section
    for name, values in sections["grid"].items():
        if not isinstance(values, list) or not values:
            raise fail(f"grid.{name}", f"{values!r} must be a non-empty list of values")
        kinds = {type(v) for v in values}
        if kinds == {int, float}:  # one type per parameter: [2, 2.5] means [2.0, 2.5]
            values = sections["grid"][name] = [float(v) for v in values]
        elif len(kinds) > 1:
            raise fail(f"grid.{name}", f"{values!r} mixes types; give values of one type")
        seen = set()
        for value in values:  # a value twice would be one run counted twice
            key = json.dumps(value, sort_keys=True, default=str)
            if key in seen:
                raise fail(f"grid.{name}", f"{value!r} is listed twice; give each value once")
            seen.add(key)
    design_count = None
    if design in designs.RANGED:
        check_design(fail, design, ranges, n, design_seed, second_order)
        design_count = designs.design_size(design, n, len(ranges), second_order)
    elif design == "points":
        design_count = len(table)
    check_size(fail, seeds, sections["grid"], design, design_count)
    if isinstance(seeds, int):
        seeds = list(range(seeds))

    parameters = MODELS[model].parameters  # z = 2 and z = 2.0 are one spec
    spec = SweepSpec(
        model=model,
        epochs=epochs,
        seeds=seeds,
        fixed={name: normalize(parameters[name], v) for name, v in sections["fixed"].items()},
        grid={
            name: [normalize(parameters[name], v) for v in values]
            for name, values in sections["grid"].items()
        },
        design=design,
        ranges=ranges,
        n=n or 0,
        design_seed=design_seed,
        second_order=second_order,
        table=table,
        source=str(raw.get("points", "")),
    )
    for params in spec.points():
        try:
            MODELS[model](rng=0, **{EPOCHS_KEYWORD[model]: 0}, **params)
        except ParameterError as error:
            section = names_seen.get(error.name)
            raise fail(f"{section}.{error.name}" if section else "parameters", str(error)) from None
        except ValueError as error:  # e.g. a task whose data cannot be used
            raise fail("parameters", str(error)) from None
    return spec


def read_table(source: Any, folder: Path, parameters, allowed: set[str], fail) -> list[dict]:
    """The points of ``points = "FILE"`` (relative to ``folder``), each column a parameter the
    sweep may set (``allowed``)."""
    if not isinstance(source, str) or not source:
        raise fail("points", f"{source!r} must be the name of a CSV or Parquet file")
    settable = [p for p in parameters if p.name in allowed]
    return designs.read_points(folder / source, settable, fail)


def check_design(fail, design: str, ranges: dict, n: Any, seed: Any, second_order: Any) -> None:
    """A ranged design needs ``n`` (a power of 2 for Sobol'), an integer seed and ranges."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise fail(f"{design}.n", f"{n!r} must be an integer >= 1 (points to make)")
    if design == "sobol" and n & (n - 1):
        raise fail(f"{design}.n", f"{n!r} must be a power of 2 (Saltelli's sample needs one)")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise fail(f"{design}.seed", f"{seed!r} must be an integer")
    if not isinstance(second_order, bool):
        raise fail(f"{design}.second_order", f"{second_order!r} must be true or false")
    if not ranges:
        raise fail(design, "give at least one parameter range, e.g. eta = { low = 0.1, high = 1 }")
    for name, r in ranges.items():
        check_range(fail, f"{design}.{name}", r)


def check_size(
    fail, seeds: int | list[int], grid: dict[str, list], design: str | None, count: int | None
) -> None:
    """Refuse a sweep of more than ``MAX_RUNS`` runs, counting them without making them.

    The error names the field with the most values (seeds, the design or a grid parameter).
    """
    factors = {"seeds": seeds if isinstance(seeds, int) else len(seeds)}
    factors.update({f"grid.{name}": len(values) for name, values in grid.items()})
    if count is not None:
        factors[design if design == "points" else f"{design}.n"] = count
    runs = math.prod(factors.values())
    if runs > MAX_RUNS:
        largest = max(factors, key=factors.get)
        product = " x ".join(f"{count:,} ({name})" for name, count in factors.items())
        raise fail(
            largest,
            f"the sweep would have {product} = {runs:,} runs; at most {MAX_RUNS:,} are allowed",
        )


def check_range(fail, field_name: str, r: Any) -> None:
    """A random range must be ``{low, high}`` with ``low < high`` (both > 0 when ``log``)."""
    if not isinstance(r, dict) or set(r) - {"low", "high", "log", "integer"}:
        raise fail(field_name, f"{r!r} must be a table {{ low = .., high = .. }} (log, integer)")
    low, high = r.get("low"), r.get("high")
    numbers = all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        for v in (low, high)
    )
    if not numbers or not low < high:
        raise fail(field_name, f"low={low!r}, high={high!r} must be finite numbers, low < high")
    if r.get("log") and low <= 0:
        raise fail(field_name, f"low={low!r} must be > 0 for a log-uniform range")
