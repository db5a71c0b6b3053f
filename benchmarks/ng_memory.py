"""NG memory at scale: bytes per synapse with eager and lazy Synapse-Agents, and the peak memory
(max RSS of the whole process) of a run at 10^5, 10^6 and 10^7 synapses.

Networks 64-h-h-10 on the digits task, vectorized engine, pruning on. Each run is its own
process, so its max RSS is its own; the base line (Python + glianet imported, no model) is
measured the same way (with a 64-1-1-10 model built, so the task's data and the libraries
count in the base). A run builds the model, trains one epoch (two pruning rounds), asks for
a few Synapse-Agents (``model.synapse``, a neuron's incoming synapses), saves a checkpoint,
drops the model and loads the checkpoint back. Run:

    python benchmarks/ng_memory.py [--skip-eager-above N] [--sizes 10^5 10^6 10^7]

Prints, per run, the memory after the build above the base (and per synapse), the max RSS of
the whole process, and the times; then the cost of one synapse's agent, edge and cell
connection (eager minus lazy, per synapse, at the largest size both ran). Eager runs at 10^7
synapses need about 10 GB and are skipped by default.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

PROBE = """
import gc, json, os, resource, sys, tempfile, time
import psutil
width, mode, samples = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
from glianet import NGModel
import glianet.tasks
def rss_mb():
    return psutil.Process().memory_info().rss / 2**20
# the base: everything loaded (the task's data, SciPy, ...) by a one-neuron-wide model
NGModel(task="digits", layers=[64, 1, 1, 10], synapse_agents=mode, rng=0)
gc.collect()
base = rss_mb()
if width == 0:
    print(json.dumps({"rss_mb": base, "max_rss_mb": resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss / 1024})); raise SystemExit
start = time.perf_counter()
model = NGModel(task="digits", layers=[64, width, width, 10], engine="vectorized",
                synapse_agents=mode, samples_per_epoch=samples, mini_batch_size=samples // 2,
                epochs=2, rng=0)
build = time.perf_counter() - start
built_mb = rss_mb() - base
synapses = model.synapse_count
start = time.perf_counter()
model.step()
epoch = time.perf_counter() - start
neuron = model.neurons[64 + width + 1]
asked = [model.synapse(64 + width + 1, model.neurons[-1].index), *neuron.incoming]
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "model.npz")
    start = time.perf_counter()
    model.save(path)
    pruned = len(model.prune_log)
    del model, neuron, asked
    gc.collect()
    loaded = NGModel.load(path)
    checkpoint = time.perf_counter() - start
assert len(loaded.prune_log) == pruned
print(json.dumps({"synapses": synapses, "build_s": build, "epoch_s": epoch,
                  "checkpoint_s": checkpoint, "built_mb": built_mb, "pruned": pruned,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

WIDTHS = {"10^5": 280, "10^6": 960, "10^7": 3126}
SAMPLES = 200  # one epoch: two pruning rounds


def probe(width: int, mode: str) -> dict:
    """One run in its own process; its measurements."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(width), mode, str(SAMPLES)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-eager-above", type=int, default=2_000_000,
                        help="no eager run above this many synapses (10^7 eager needs ~10 GB)")
    parser.add_argument("--sizes", nargs="+", choices=list(WIDTHS), default=list(WIDTHS))
    args = parser.parse_args()
    base = probe(0, "lazy")
    print(f"base process (Python, glianet, a 64-1-1-10 model): {base['rss_mb']:.0f} MB RSS, "
          f"{base['max_rss_mb']:.0f} MB max RSS", flush=True)  # fmt: skip
    print(f"{'size':>5} {'mode':>5} {'synapses':>11} {'built MB':>9} {'B/synapse':>9} "
          f"{'max RSS MB':>10} {'build s':>8} {'epoch s':>8} {'ckpt s':>7}")  # fmt: skip
    built = {}
    for size in args.sizes:
        width = WIDTHS[size]
        for mode in ("eager", "lazy"):
            synapses = width * width + 74 * width
            if mode == "eager" and synapses > args.skip_eager_above:
                continue
            row = probe(width, mode)
            per_synapse = row["built_mb"] * 2**20 / row["synapses"]
            built[size, mode] = per_synapse
            print(f"{size:>5} {mode:>5} {row['synapses']:>11,d} {row['built_mb']:>9.0f} "
                  f"{per_synapse:>9.0f} {row['max_rss_mb']:>10.0f} {row['build_s']:>8.1f} "
                  f"{row['epoch_s']:>8.1f} {row['checkpoint_s']:>7.1f}", flush=True)  # fmt: skip
    both = [size for size in args.sizes if (size, "eager") in built and (size, "lazy") in built]
    if both:
        size = both[-1]
        print(f"\none synapse's Synapse-Agent + network edge + cell connection (eager - lazy, at "
              f"{size} synapses): {built[size, 'eager'] - built[size, 'lazy']:.0f} bytes; "
              f"a synapse's array slots (w, mask, prunable, pre, post): 26 bytes")  # fmt: skip


if __name__ == "__main__":
    main()
