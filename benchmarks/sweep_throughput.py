"""Sweep throughput: runs/s for 40 short NG runs on each backend, beside mesa.batch_run.

Run: ``python benchmarks/sweep_throughput.py`` (prints a table; not a test). Times include
starting the workers, as a user would see them.
"""

from __future__ import annotations

import tempfile
import time

import pandas as pd
from mesa.batchrunner import batch_run

from glianet.model import NGModel
from glianet.sweeps import run_sweep

EPOCHS = 10
SPEC = {
    "model": "ng",
    "epochs": EPOCHS,
    "seeds": 10,
    "fixed": {"samples_per_epoch": 2000},
    "grid": {"z": [2.0, 2.3], "alpha": [0.01, 0.02]},
}
RUNS = 40


def timed(label: str, fn) -> dict:
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    return {"backend": label, "runs": RUNS, "seconds": seconds, "runs/s": RUNS / seconds}


def sweep(**kwargs):
    with tempfile.TemporaryDirectory() as out:
        run_sweep(SPEC, out, progress=False, **kwargs)


def mesa_batch_run():
    batch_run(
        NGModel,
        parameters={
            "z": [2.0, 2.3],
            "alpha": [0.01, 0.02],
            "epochs": EPOCHS,
            "samples_per_epoch": 2000,
        },  # fmt: skip
        rng=list(range(10)),
        number_processes=2,
        max_steps=EPOCHS + 1,
        data_collection_period=1,
        display_progress=False,
    )


def main() -> None:
    rows = [
        timed("glianet local, 1 worker", lambda: sweep(workers=1)),
        timed("glianet local, 2 workers", lambda: sweep(workers=2)),
        timed("glianet Dask LocalCluster, 2 workers", lambda: sweep(backend="dask", workers=2)),
        timed("mesa.batch_run, 2 processes", mesa_batch_run),
    ]
    table = pd.DataFrame(rows).set_index("backend")
    print(f"{RUNS} NG runs of {EPOCHS} epochs x 2000 samples (vectorized engine)")
    print(table.to_string(float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
