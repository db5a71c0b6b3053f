"""NG training throughput at the paper's size: samples/s of online SGD with pruning on.

Compares glianet's two engines with what a researcher would write instead: a plain NumPy
per-sample loop of the same masked network, and PyTorch (CPU, one thread). Run:

    python benchmarks/ng_throughput.py

PyTorch is optional. If ``import torch`` fails here, the reference runs in the interpreter named
by ``GLIANET_TORCH_PYTHON``, or in ``.venv-torch/bin/python`` (on these machines: a Python 3.11
venv with ``pip install torch==2.13.0 numpy``, which takes the CPU build on disk; under 3.12 pip
would download a multi-GB CUDA build).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from glianet import NGModel

HERE = Path(__file__).resolve().parent


def engine_rate(engine: str, samples: int) -> float:
    """samples/s of one epoch of ``samples`` after a warm-up epoch (compilation, caches)."""
    model = NGModel(rng=0, engine=engine, samples_per_epoch=samples, epochs=2)
    model.step()
    start = time.perf_counter()
    model.step()
    return samples / (time.perf_counter() - start)


def numpy_rate(samples: int) -> float:
    """A plain NumPy per-sample loop: masked matrices, sigmoid, backprop, SGD."""
    model = NGModel(rng=0, pruning=False)
    s = model.state
    W = [s.weights(layer).copy() for layer in range(1, 5)]
    M = [s.present(layer).astype(float) for layer in range(1, 5)]
    B = [s.biases(layer).copy() for layer in range(1, 5)]
    X, T = model.task.inputs, model.task.targets
    order = np.random.default_rng(0).integers(0, 64, samples)
    start = time.perf_counter()
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
    return samples / (time.perf_counter() - start)


def torch_rate(samples: int) -> tuple[float | None, str]:
    """PyTorch's samples/s, and where it ran (or why it did not)."""
    candidates = [sys.executable]
    if os.environ.get("GLIANET_TORCH_PYTHON"):
        candidates.append(os.environ["GLIANET_TORCH_PYTHON"])
    candidates.append(str(HERE.parent / ".venv-torch" / "bin" / "python"))
    for python in candidates:
        if not Path(python).exists():
            continue
        result = subprocess.run(
            [python, str(HERE / "torch_reference.py"), str(samples)],
            capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode == 0:
            info = json.loads(result.stdout.strip().splitlines()[-1])
            return info["samples_per_s"], f"torch {info['torch']} via {python}"
    return None, "PyTorch not found (see this script's docstring)"


def main() -> None:
    torch, where = torch_rate(5000)
    rows = {
        'glianet engine="agents"': engine_rate("agents", 5000),
        'glianet engine="vectorized"': engine_rate("vectorized", 500_000),
        "plain NumPy per-sample loop": numpy_rate(20_000),
    }
    if torch is not None:
        rows["PyTorch, CPU, 1 thread"] = torch
    table = pd.DataFrame({"samples/s": rows})
    if torch is not None:
        table["x PyTorch"] = table["samples/s"] / torch
    print("NG paper network (6-8-8-8-1, 184 synapses), online SGD, pruning on for glianet")
    print(table.to_string(float_format=lambda v: f"{v:,.1f}"))
    print(f"PyTorch: {where}")
    if torch is not None:
        goals = {'glianet engine="vectorized"': 100.0, 'glianet engine="agents"': 1.0}
        for name, goal in goals.items():
            ratio = rows[name] / torch
            verdict = "met" if ratio >= goal else f"missed by {goal / ratio:.1f}x"
            print(f"goal {name} >= {goal:g}x PyTorch: {ratio:.1f}x, {verdict}")
    agents = rows['glianet engine="agents"']
    print(f"goal agents >= 5,000 samples/s: {agents:,.0f}, "
          f"{'met' if agents >= 5000 else f'missed by {5000 / agents:.1f}x'}")  # fmt: skip


if __name__ == "__main__":
    main()
