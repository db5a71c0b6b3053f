"""An EMA Workbench design run through glianet's sweep runner.

EMA Workbench (3.0) makes the design, here a Latin hypercube of its ``LHSSampler`` over an
NG model's learning rate, glia rate and mini-batch size; the design is written as a table of
parameter values, and a sweep spec's ``points = "design.csv"`` runs it: each run in a worker
process, written at once to Parquet, an interrupted sweep resumed by running it again (EMA's
own file callback overwrites its file)::

    python -m glianet.experiments.ema_design --out ema-sweep --n 8

The folder then holds ``design.csv``, ``sweep.toml`` and ``runs/`` (one Parquet file a run).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from glianet.sweeps import run_sweep


def ema_design(n: int, seed: int) -> pd.DataFrame:
    """``n`` points of EMA Workbench's Latin hypercube over ``eta``, ``alpha`` and
    ``mini_batch_size``: one row a point, one column a parameter."""
    from ema_workbench.em_framework import IntegerParameter, LHSSampler, RealParameter

    parameters = [
        RealParameter("eta", 0.1, 1.0),
        RealParameter("alpha", 0.001, 0.05),
        IntegerParameter("mini_batch_size", 50, 200),
    ]
    samples = LHSSampler().generate_samples(parameters, n, rng=seed)
    return pd.DataFrame([dict(sample) for sample in samples])


def run(
    out: Path, n: int = 8, seed: int = 0, epochs: int = 5, samples_per_epoch: int = 1000,
    workers: int | None = None, progress: bool = True,
) -> pd.DataFrame:  # fmt: skip
    """Write EMA's design and a spec that reads it into ``out``, then run (or resume) the sweep.

    Returns
    -------
    DataFrame
        The summary row of every run (``run_sweep``).
    """
    out.mkdir(parents=True, exist_ok=True)
    design = out / "design.csv"
    if not design.exists():  # a resumed sweep keeps its design
        ema_design(n, seed).to_csv(design, index=False)
    spec = out / "sweep.toml"
    spec.write_text(
        f'model = "ng"\nepochs = {epochs}\nseeds = 1\npoints = "{design.name}"\n\n'
        f"[fixed]\nsamples_per_epoch = {samples_per_epoch}\n"
    )
    return run_sweep(spec, out / "runs", workers=workers, progress=progress)


def main() -> None:
    """Command line: ``--out``, ``--n``, ``--seed``, ``--epochs``, ``--workers``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--out", type=Path, required=True, help="folder of the design and runs")
    parser.add_argument("--n", type=int, default=8, help="points of the design")
    parser.add_argument("--seed", type=int, default=0, help="seed of EMA's sampler")
    parser.add_argument("--epochs", type=int, default=5, help="epochs a run")
    parser.add_argument("--workers", type=int, default=None, help="worker processes")
    args = parser.parse_args()
    summary = run(args.out, args.n, args.seed, args.epochs, workers=args.workers)
    print(summary[["eta", "alpha", "mini_batch_size", "synapses", "error"]].to_string())


if __name__ == "__main__":
    main()
