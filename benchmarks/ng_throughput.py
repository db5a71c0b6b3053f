"""NG training throughput from the paper's network to 10^6 synapses, beside the compiled bound.

Samples/s of per-sample online SGD (sigmoid layers), measured in one run, side by side:

- glianet ``engine="vectorized"``, pruning on (an epoch's training and pruning rounds, without
  the end-of-epoch evaluation);
- the bound: a plain dense per-layer Numba loop of the same network (2-D weight matrices, no
  masks, no outlier count, no pruning; Numba's default flags, so sums keep their order as
  glianet's do); and the same loop compiled with ``fastmath=True`` (sums reordered into SIMD),
  for reference;
- PyTorch, CPU, one thread, per-sample SGD of the same masked network.

At the paper's size the per-agent engine and a plain NumPy loop are measured too. Each rate is
the best of ``--repeats`` timings after a warm-up. Then the pruned-synapse check: an epoch of the
300k network with 60 % of its synapses pruned, against the same network unpruned. Run:

    python benchmarks/ng_throughput.py [--repeats 3] [--quick]

PyTorch is optional. If ``import torch`` fails here, the reference runs in the interpreter named
by ``GLIANET_TORCH_PYTHON``, or in ``.venv-torch/bin/python`` of the repository root (on these
machines: a Python 3.11 venv with ``pip install torch==2.13.0 numpy``, which takes the CPU build
on disk; under 3.12 pip would download a multi-GB CUDA build).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from glianet import NGModel
from glianet.agents import SynapseAgent
from glianet.tasks import Task

HERE = Path(__file__).resolve().parent

#: The curve: (name, layer sizes, task, samples per timing).
SIZES = [
    ("paper", (6, 8, 8, 8, 1), "any-upper-3", 200_000),
    ("15k", (40, 100, 100, 10), "random-40", 20_000),
    ("300k", (64, 512, 512, 10), "digits", 2_000),
    ("1M", (64, 960, 960, 10), "digits", 600),
]


def get_task(name: str) -> Task | str:
    """The named task; ``"random-40"`` is 256 random patterns of 40 inputs and 10 outputs."""
    if name != "random-40":
        return name
    rng = np.random.default_rng(0)
    return Task(name, rng.random((256, 40)), rng.integers(0, 2, (256, 10)))


def best_rate(run, samples: int, repeats: int) -> float:
    """samples/s of the fastest of ``repeats`` calls of ``run()`` (each doing ``samples``)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return samples / min(times)


def glianet_rate(layers, task, samples: int, repeats: int, engine: str = "vectorized") -> float:
    """samples/s of an epoch's training and pruning rounds, after a warm-up epoch."""
    model = NGModel(layers=layers, task=get_task(task), engine=engine, rng=0,
                    samples_per_epoch=samples, epochs=repeats + 1)  # fmt: skip
    model.scheduler.run_epoch()  # compilation, caches
    return best_rate(model.scheduler.run_epoch, samples, repeats)


def dense_loop(samples, inputs, targets, weights, biases, outputs, deltas, eta):
    """Per-sample SGD of a dense sigmoid MLP, the plain way: per-layer loops over 2-D weights."""
    n = len(weights)
    for sample in samples:
        outputs[0][:] = inputs[sample]
        for layer in range(n):
            w, b, x, y = weights[layer], biases[layer], outputs[layer], outputs[layer + 1]
            for j in range(w.shape[0]):
                net = 0.0
                for k in range(w.shape[1]):
                    net += w[j, k] * x[k]
                y[j] = 1.0 / (1.0 + math.exp(-(net + b[j])))
        y, d = outputs[n], deltas[n - 1]
        for j in range(y.shape[0]):
            d[j] = (y[j] - targets[sample, j]) * y[j] * (1.0 - y[j])
        for layer in range(n - 1, 0, -1):
            w, d, x, back = weights[layer], deltas[layer], outputs[layer], deltas[layer - 1]
            back[:] = 0.0
            for j in range(w.shape[0]):
                for k in range(w.shape[1]):
                    back[k] += w[j, k] * d[j]
            for k in range(back.shape[0]):
                back[k] *= x[k] * (1.0 - x[k])
        for layer in range(n):
            w, b, d, x = weights[layer], biases[layer], deltas[layer], outputs[layer]
            for j in range(w.shape[0]):
                step = eta * d[j]
                for k in range(w.shape[1]):
                    w[j, k] -= step * x[k]
                b[j] -= step


DENSE = {"plain": numba.njit(dense_loop), "fastmath": numba.njit(fastmath=True)(dense_loop)}


def dense_rate(layers, task, samples: int, repeats: int, flavour: str) -> float:
    """samples/s of :func:`dense_loop` compiled the ``flavour`` way, on the same network."""
    task = NGModel(layers=layers, task=get_task(task), pruning=False, rng=0).task
    rng = np.random.default_rng(0)
    weights = tuple(
        rng.uniform(-1, 1, (n, m)) * math.sqrt(6 / (n + m))
        for m, n in zip(layers[:-1], layers[1:], strict=True)
    )
    biases = tuple(np.zeros(n) for n in layers[1:])
    outputs = tuple(np.zeros(n) for n in layers)
    deltas = tuple(np.zeros(n) for n in layers[1:])
    order = rng.integers(0, task.n_patterns, samples)
    loop = DENSE[flavour]

    def run():
        loop(order, task.inputs, task.targets, weights, biases, outputs, deltas, 0.1)

    loop(order[:10], task.inputs, task.targets, weights, biases, outputs, deltas, 0.1)  # compile
    return best_rate(run, samples, repeats)


def numpy_rate(samples: int) -> float:
    """A plain NumPy per-sample loop on the paper network: masked matrices, backprop, SGD."""
    model = NGModel(rng=0, pruning=False)
    s = model.state
    W = [s.weights(layer).copy() for layer in range(1, 5)]
    M = [s.present(layer).astype(float) for layer in range(1, 5)]
    B = [s.biases(layer).copy() for layer in range(1, 5)]
    X, T = model.task.inputs, model.task.targets
    order = np.random.default_rng(0).integers(0, 64, samples)
    start = time.process_time()
    for i in order:
        ys = [X[i]]
        for w, m, b in zip(W, M, B, strict=True):
            ys.append(1.0 / (1.0 + np.exp(-((w * m) @ ys[-1] + b))))
        delta = (ys[-1] - T[i]) * ys[-1] * (1 - ys[-1])
        for layer in range(3, -1, -1):
            grad_w = np.outer(delta, ys[layer]) * M[layer]
            new_delta = (W[layer].T @ delta) * ys[layer] * (1 - ys[layer])
            W[layer] -= 0.5 * grad_w
            B[layer] -= 0.5 * delta
            delta = new_delta
    return samples / (time.process_time() - start)


def torch_rate(layers, samples: int, repeats: int) -> tuple[float | None, str]:
    """PyTorch's samples/s (best of ``repeats`` runs), and where it ran (or why it did not)."""
    candidates = [sys.executable]
    if os.environ.get("GLIANET_TORCH_PYTHON"):
        candidates.append(os.environ["GLIANET_TORCH_PYTHON"])
    candidates.append(str(HERE.parent / ".venv-torch" / "bin" / "python"))
    sizes = ",".join(map(str, layers))
    for python in candidates:
        if not Path(python).exists():
            continue
        rates = []
        for _ in range(repeats):
            result = subprocess.run(
                [python, str(HERE / "torch_reference.py"), str(samples), sizes],
                capture_output=True, text=True,
            )  # fmt: skip
            if result.returncode != 0:
                break
            info = json.loads(result.stdout.strip().splitlines()[-1])
            rates.append(info["samples_per_s"])
        if rates:
            return max(rates), f"torch {info['torch']} via {python}"
    return None, "PyTorch not found (see this script's docstring)"


def pruned_model(layers, task, samples: int, share: float) -> NGModel:
    """A model with ``share`` of its synapses pruned, warmed up (one epoch run).

    The weakest prunable synapses by ``|w|`` go first, each through its agent (as glia would
    prune them), so the engine sees the topology a long run reaches.
    """
    model = NGModel(layers=layers, task=get_task(task), rng=0, samples_per_epoch=samples)
    s = model.state
    n_prune = int(share * len(s.w))
    if n_prune > s.prunable.sum():
        raise ValueError(f"share={share} needs {n_prune} prunable synapses, there are fewer")
    order = np.argsort(np.where(s.prunable, np.abs(s.w), np.inf), kind="stable")[:n_prune]
    synapses = {agent.index: agent for agent in model.agents_by_type[SynapseAgent]}
    for index in order:
        synapses[int(index)].remove()
    model.scheduler.run_epoch()
    return model


def pruned_epoch_seconds(layers, task, samples: int, shares, repeats: int) -> list[float]:
    """Seconds of an epoch (training and pruning rounds) at each share of synapses pruned; the
    models take turns, so that a busy moment of the machine does not fall on one alone."""
    models = [pruned_model(layers, task, samples, share) for share in shares]
    times = [[] for _ in models]
    for _ in range(repeats):
        for model, taken in zip(models, times, strict=True):
            start = time.process_time()
            model.scheduler.run_epoch()
            taken.append(time.process_time() - start)
    return [min(taken) for taken in times]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a tenth of the samples")
    args = parser.parse_args()
    scale, repeats = (0.1 if args.quick else 1.0), args.repeats
    rows, where = [], ""
    for name, layers, task, samples in SIZES:
        samples = max(100, int(samples * scale))
        synapses = sum(m * n for m, n in zip(layers[:-1], layers[1:], strict=True))
        torch, where = torch_rate(layers, max(200, samples // 20), repeats)
        row = {
            "network": f"{name} {'-'.join(map(str, layers))}",
            "synapses": synapses,
            "glianet": glianet_rate(layers, task, samples, repeats),
            "dense Numba": dense_rate(layers, task, samples, repeats, "plain"),
            "dense Numba fastmath": dense_rate(layers, task, samples, repeats, "fastmath"),
            "PyTorch 1 thread": torch if torch is not None else float("nan"),
        }
        rows.append(row)
        print(f"{row['network']}: glianet {row['glianet']:,.0f}/s, dense {row['dense Numba']:,.0f}"
              f"/s, PyTorch {row['PyTorch 1 thread']:,.0f}/s", flush=True)  # fmt: skip
    table = pd.DataFrame(rows).set_index("network")
    table["glianet / dense"] = table["glianet"] / table["dense Numba"]
    table["glianet / PyTorch"] = table["glianet"] / table["PyTorch 1 thread"]
    print("\nNG online SGD, samples/s (best of", repeats, "), pruning on for glianet")
    print(table.to_string(float_format=lambda v: f"{v:,.2f}" if v < 10 else f"{v:,.0f}"))
    print(f"PyTorch: {where}")

    layers, task = SIZES[2][1], SIZES[2][2]
    samples = max(100, int(1_000 * scale))
    unpruned, pruned = pruned_epoch_seconds(layers, task, samples, (0.0, 0.6), 2 * repeats)
    print(f"\n{'-'.join(map(str, layers))}, {samples} samples: unpruned {unpruned:.3f} s, "
          f"60 % pruned {pruned:.3f} s ({pruned / unpruned:.2f}x)")  # fmt: skip

    paper = {
        'glianet engine="agents"': glianet_rate(SIZES[0][1], SIZES[0][2], 5000, repeats, "agents"),
        "plain NumPy per-sample loop": numpy_rate(20_000),
    }
    print("\npaper network, samples/s: " + ", ".join(f"{k} {v:,.0f}" for k, v in paper.items()))
    for name, goal, reached in [
        ("vectorized >= 1/2 dense Numba (15k, 300k, 1M)", 0.5,
         table["glianet / dense"].iloc[1:].min()),
        ("vectorized >= 100x PyTorch (paper)", 100.0, table["glianet / PyTorch"].iloc[0]),
        ("60 % pruned epoch faster than unpruned", 1.0, unpruned / pruned),
        ('engine="agents" >= 5,000 samples/s (paper)', 5000.0,
         paper['glianet engine="agents"']),
    ]:  # fmt: skip
        verdict = "met" if reached >= goal else f"missed by {goal / reached:.2f}x"
        print(f"goal {name}: {reached:,.2f}, {verdict}")


if __name__ == "__main__":
    main()
