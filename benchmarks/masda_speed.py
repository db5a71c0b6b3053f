"""MASDA on digits: messages per second and time per pretraining epoch, both engines.

The message engine (``engine="agents"``) puts every message on the model's event list; a digits
epoch has ~30 million of them, so it is timed on the first samples of an epoch and scaled to the
epoch. The vectorized engine is timed on a whole epoch (the second; the first compiles).

Run: ``python benchmarks/masda_speed.py [--against REV] [--repeats N] [--samples N]``. With
``--against`` the glianet of git revision ``REV`` (e.g. ``main``, or a commit before a change) is
measured in the same run, each repeat alternating between it and this tree, every measurement
in a fresh process, so both see the same machine load; the best repeat of each counts. Besides
wall-clock time the table gives CPU time, which a busy shared machine inflates less.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]  # the repository root is the package


def measure(samples: int) -> list[dict]:
    """Time both engines on digits (1347 samples, 100 variable units) in this process."""
    from glianet.model import MASDAModel
    from glianet.tasks import Digits

    train = Digits("train")
    rows = []
    model = MASDAModel(task=train, n_units=100, eta=0.0005, rng=0)
    model.step()  # connect, compile
    start, cpu, before = time.perf_counter(), time.process_time(), model.messages
    model.step()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    rows.append({"engine": "vectorized", "samples timed": train.n_patterns,
                 "messages": model.messages - before, "s": seconds, "cpu s": cpu,
                 "scale": 1.0})  # fmt: skip

    model = MASDAModel(task=train, n_units=100, eta=0.0005, rng=0, engine="agents")
    for unit in model.units.unconnected_units():
        unit.connect()
    order = model.rng.permutation(train.n_patterns)[:samples]
    feed = model.rng.random((len(order), len(model.data_constants))).argsort(axis=1)
    start, cpu = time.perf_counter(), time.process_time()
    model.scheduler.present_by_messages(order, feed)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    rows.append({"engine": "agents (message events)", "samples timed": len(order),
                 "messages": model.messages, "s": seconds, "cpu s": cpu,
                 "scale": train.n_patterns / len(order)})  # fmt: skip
    return rows


def measure_in_subprocess(samples: int, tree: Path | None) -> list[dict]:
    """:func:`measure` in a fresh Python, importing glianet from ``tree`` (a directory holding
    a ``glianet`` package) or, when None, the installed one."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
    out = subprocess.run(
        [sys.executable, __file__, "--measure", "--samples", str(samples)],
        env=env, cwd=tempfile.gettempdir(), check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def export(revision: str, into: Path) -> Path:
    """Write git revision ``revision`` of this repository as ``into/glianet``; returns ``into``."""
    package = into / "glianet"
    package.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision],
                             check=True, capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(package)], input=archive, check=True)
    return into


def table(runs: dict[str, list[list[dict]]]) -> pd.DataFrame:
    """Best repeat per version and engine: messages/s and seconds per digits epoch."""
    rows = []
    for version, repeats in runs.items():
        for engine_rows in zip(*repeats, strict=True):
            best = min(engine_rows, key=lambda r: r["s"])
            fastest_cpu = min(r["cpu s"] for r in engine_rows)
            rows.append({"engine": best["engine"], "version": version,
                         "samples timed": best["samples timed"], "messages": best["messages"],
                         "messages/s": best["messages"] / best["s"],
                         "s/epoch": best["s"] * best["scale"],
                         "CPU s/epoch": fastest_cpu * best["scale"]})  # fmt: skip
    return pd.DataFrame(rows).set_index(["engine", "version"]).sort_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", help="git revision to measure beside this tree")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=20, help="samples the agents engine runs")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.samples)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": None}
        if args.against:
            trees = {args.against: export(args.against, Path(tmp)), **trees}
        runs = {version: [] for version in trees}
        for _ in range(args.repeats):
            for version, tree in trees.items():
                runs[version].append(measure_in_subprocess(args.samples, tree))
    result = table(runs)
    print("MASDA pretraining on digits (1347 samples, 100 variable units, 75 constants), "
          f"best of {args.repeats}")  # fmt: skip
    with pd.option_context("display.width", 200):
        print(result.to_string(float_format=lambda v: f"{v:,.2f}"))
    if args.against:
        for engine in result.index.get_level_values("engine").unique():
            before, after = result.loc[(engine, args.against)], result.loc[(engine, "this tree")]
            print(f"{engine}: {before['s/epoch'] / after['s/epoch']:.1f}x faster per epoch "
                  f"(CPU time: {before['CPU s/epoch'] / after['CPU s/epoch']:.1f}x) "
                  f"than {args.against}")  # fmt: skip
    epoch = result.loc[("vectorized", "this tree"), "s/epoch"]
    print(f"goal vectorized epoch < 2 s: {epoch:.3f} s, {'met' if epoch < 2 else 'missed'}")


if __name__ == "__main__":
    main()
