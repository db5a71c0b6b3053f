"""NG scaling: time per sample and peak memory of both engines, 10^2 to 10^6 synapses.

Networks 64-h-h-10 on the digits task (so 10^2 to 10^6 synapses as h grows), pruning on. Each
size runs in its own process, so peak memory (max RSS) is that size's alone; the base line
(Python + glianet imported, no model) is measured the same way and shown. Run:

    python benchmarks/ng_scaling.py [--out DIR]

Prints a table and the growth exponents (slope of log time or log memory against log synapses),
and saves a log-log plot. The per-agent engine is measured on fewer samples, and only up to
~10^5 synapses (beyond that one epoch takes many minutes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

WIDTHS = [1, 10, 40, 130, 280, 600, 960]
AGENTS_MAX_SYNAPSES = 150_000

PROBE = """
import json, resource, sys, time
width, engine, samples = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
from glianet import NGModel
import glianet.tasks
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if width == 0:
    print(json.dumps({"rss_mb": base / 1024})); raise SystemExit
start = time.perf_counter()
model = NGModel(task="digits", layers=[64, width, width, 10], engine=engine,
                samples_per_epoch=samples, mini_batch_size=100, epochs=2, rng=0)
build = time.perf_counter() - start
model.scheduler.train(model.rng.integers(0, model.task.n_patterns, 8))  # compile, warm up
start = time.perf_counter()
model.step()
seconds = time.perf_counter() - start
print(json.dumps({"synapses": model.synapse_count, "build_s": build,
                  "s_per_sample": seconds / samples,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def probe(width: int, engine: str, samples: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(width), engine, str(samples)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def slope(x, y) -> float:
    """Growth exponent: slope of log y against log x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="results/benchmarks")
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    base = probe(0, "vectorized", 0)["rss_mb"]
    rows = []
    for width in WIDTHS:
        synapses = width * width + 74 * width
        for engine in ("vectorized", "agents"):
            if engine == "agents" and synapses > AGENTS_MAX_SYNAPSES:
                continue
            samples = 1347 if engine == "vectorized" else max(20, min(1347, 2_000_000 // synapses))
            row = probe(width, engine, samples)
            row.update(engine=engine, width=width, epoch_s=row["s_per_sample"] * 1347,
                       model_mb=row["rss_mb"] - base)  # fmt: skip
            rows.append(row)
            print(f"{engine:10s} {row['synapses']:>9,d} synapses: {row['epoch_s']:9.3f} s/epoch, "
                  f"{row['model_mb']:8.1f} MB above base", flush=True)  # fmt: skip
    table = pd.DataFrame(rows)
    table.to_csv(out / "ng_scaling.csv", index=False)
    print(f"\nbase process (Python, glianet, no model): {base:.0f} MB max RSS")
    print(table[["engine", "synapses", "build_s", "epoch_s", "model_mb"]].to_string(index=False,
          float_format=lambda v: f"{v:.3f}"))  # fmt: skip

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for engine, runs in table.groupby("engine"):
        big = runs[runs["synapses"] >= 10_000]
        time_exp = slope(big["synapses"], big["epoch_s"])
        mem_exp = slope(big["synapses"], big["model_mb"].clip(lower=1))
        print(f"{engine}: time per epoch ~ synapses^{time_exp:.2f}, "
              f"memory ~ synapses^{mem_exp:.2f} (fitted on >= 10^4 synapses)")  # fmt: skip
        left.loglog(runs["synapses"], runs["epoch_s"], "o-", label=f"{engine} (^{time_exp:.2f})")
        right.loglog(runs["synapses"], runs["model_mb"].clip(lower=0.1), "o-",
                     label=f"{engine} (^{mem_exp:.2f})")  # fmt: skip
    left.set_xlabel("synapses")
    left.set_ylabel("seconds per epoch (1347 samples)")  # noqa: E702
    right.set_xlabel("synapses")
    right.set_ylabel("peak memory above base (MB)")  # noqa: E702
    right.axhline(1024, color="0.5", linestyle=":", label="1 GB")
    left.legend()
    right.legend()  # noqa: E702
    fig.tight_layout()
    fig.savefig(out / "ng_scaling.png", dpi=120)
    largest = table[(table["engine"] == "vectorized")].iloc[-1]
    verdict = "met" if largest["rss_mb"] < 1024 else f"missed by {largest['rss_mb'] / 1024:.1f}x"
    print(f"goal 10^6 synapses in < 1 GB: {largest['synapses']:,} synapses, "
          f"{largest['rss_mb']:.0f} MB max RSS in all, {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
