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

Runs are the product grid x random points x seeds, counted before any is made: a spec of more
than ``MAX_RUNS`` runs is refused, naming the field that makes it so large. A value listed twice
in a grid is refused (it would be one run counted twice); random points drawn twice (an integer
range) run once. Each run gets a stable id: a hash of the model, its parameters and its seed.
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

#: Models a sweep can run, by the name a spec uses.
MODELS: dict[str, type] = {"ng": NGModel, "masda": MASDAModel}
#: The keyword that sets a model's number of steps (the spec's ``epochs``).
EPOCHS_KEYWORD = {"ng": "epochs", "masda": "pretrain_epochs"}

TOP_LEVEL = {"model", "epochs", "seeds", "fixed", "grid", "random"}
#: Most runs a sweep may have. The main process holds each run, its future and its summary row:
#: about 2 KB for a run and its future alone (measured), some 300 MB in all at this size.
MAX_RUNS = 100_000


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
    """A validated sweep spec (see the module docstring for the file format)."""

    model: str
    epochs: int
    seeds: list[int]
    fixed: dict[str, Any]
    grid: dict[str, list[Any]]
    random: dict[str, dict[str, Any]]
    random_n: int = 0
    random_seed: int = 0

    @property
    def swept(self) -> list[str]:
        """Names of the parameters that vary between runs."""
        return list(self.grid) + list(self.random)

    def points(self) -> list[dict[str, Any]]:
        """Every parameter set of the sweep (without seeds), in a stable order."""
        grid_points = [
            dict(zip(self.grid, values, strict=True))
            for values in itertools.product(*self.grid.values())
        ]
        draws = [{}]
        if self.random:
            rng = np.random.default_rng(self.random_seed)
            draws = [
                {name: draw(rng, r) for name, r in self.random.items()}
                for _ in range(self.random_n)
            ]
        points = ({**self.fixed, **g, **d} for g in grid_points for d in draws)
        # integer ranges can draw one point twice: it is one run
        return list({json.dumps(p, sort_keys=True): p for p in points}.values())

    def runs(self) -> list[Run]:
        """Every run of the sweep: each parameter set with each seed."""
        return [
            Run(self.model, params, seed, self.epochs)
            for params in self.points()
            for seed in self.seeds
        ]


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
        raw, where = source, "sweep spec"
    else:
        path = Path(source)
        where = f"sweep spec {path}"
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
    for section in ("fixed", "grid", "random"):
        table = raw.get(section, {})
        if not isinstance(table, dict):
            raise fail(section, "must be a table")
        sections[section] = table
    random = dict(sections["random"])
    random_n = random.pop("n", 0 if not random else None)
    random_seed = random.pop("seed", 0)
    names_seen: dict[str, str] = {}
    for section in ("fixed", "grid", "random"):
        table = random if section == "random" else sections[section]
        for name in table:
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
    if random:
        if isinstance(random_n, bool) or not isinstance(random_n, int) or random_n < 1:
            raise fail("random.n", f"{random_n!r} must be an integer >= 1 (points to draw)")
        if isinstance(random_seed, bool) or not isinstance(random_seed, int):
            raise fail("random.seed", f"{random_seed!r} must be an integer")
        for name, r in random.items():
            check_range(fail, f"random.{name}", r)
    check_size(fail, seeds, sections["grid"], random_n if random else None)
    if isinstance(seeds, int):
        seeds = list(range(seeds))

    spec = SweepSpec(
        model=model,
        epochs=epochs,
        seeds=seeds,
        fixed=sections["fixed"],
        grid=sections["grid"],
        random=random,
        random_n=random_n or 0,
        random_seed=random_seed,
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


def check_size(fail, seeds: int | list[int], grid: dict[str, list], random_n: int | None) -> None:
    """Refuse a sweep of more than ``MAX_RUNS`` runs, counting them without making them.

    The error names the field with the most values (seeds, random.n or a grid parameter).
    """
    factors = {"seeds": seeds if isinstance(seeds, int) else len(seeds)}
    factors.update({f"grid.{name}": len(values) for name, values in grid.items()})
    if random_n is not None:
        factors["random.n"] = random_n
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
