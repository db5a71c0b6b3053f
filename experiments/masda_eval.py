"""MASDA on real data (the paper's future work): pretrain + fine-tune against baselines."""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from tqdm.auto import tqdm

from glianet.agents.functions import sigmoid
from glianet.experiments.figures import plot_population
from glianet.experiments.finetune import MaskedMLP, glorot, pretrain_dae_stack
from glianet.model import MASDAModel
from glianet.outputs import staged_outputs, write_atomic
from glianet.tasks import Digits, Task, get_task

OUTPUTS = ("masda_eval.csv", "masda_population.png", "masda_population.csv")
DATASETS = ("digits", "any-upper-3")


def stable_network(model: MASDAModel) -> tuple[list, list, list]:
    """MASDA's stable network as feed-forward layers (SPEC §2, fine-tuning).

    Layer 0 is the input constants, layer d the stable variable units of depth d (up to the
    first depth without any); reward units and teacher constants are dropped.

    Returns
    -------
    (weights, biases, masks)
        Per hidden layer: ``(n_d, n_{d-1})`` weights, ``(n_d,)`` biases, bool masks of the edges.
    """
    u = model.units
    edges = model.units.edge_mask()
    layers = [[c.slot for c in model.data_constants[: model.task.n_inputs]]]
    for depth in range(1, model.max_depth + 1):
        slots = [unit.slot for unit in model.units.stable_units(depth)]
        if not slots:
            break
        layers.append(slots)
    weights, biases, masks = [], [], []
    for below, here in zip(layers, layers[1:], strict=False):
        weights.append(u.W[np.ix_(here, below)].copy())
        masks.append(edges[np.ix_(here, below)])
        biases.append(u.W[here, model.bias.slot].copy())
    return weights, biases, masks


def reconstruct(model: MASDAModel, x: np.ndarray) -> np.ndarray:
    """What the depth-0 reward units predict for inputs ``x`` (no corruption, labels hidden).

    Returns an array shaped like ``x``: the reconstruction of each input feature through the
    connected depth-1 units.
    """
    u = model.units
    inputs = [c.slot for c in model.data_constants[: model.task.n_inputs]]
    hidden = [s for s in model.units.connected_variable_slots() if u.depth[s] == 1]
    rewards = [int(u.reward_node[s]) for s in inputs]
    h = sigmoid(x @ u.W[np.ix_(hidden, inputs)].T + u.W[hidden, model.bias.slot])
    return sigmoid(h @ u.W[np.ix_(rewards, hidden)].T + u.W[rewards, model.bias.slot])


def split(dataset: str) -> tuple[Task, Task]:
    """Train and test tasks: the fixed digits split, or the 64 patterns for both."""
    if dataset == "digits":
        return Digits("train"), Digits("test")
    task = get_task(dataset)
    return task, task


def class_labels(task: Task) -> np.ndarray:
    """Class of each pattern: the largest target, or target > 0.5 for a single output."""
    if task.n_outputs == 1:
        return (task.targets[:, 0] > 0.5).astype(np.int64)
    return task.targets.argmax(axis=1)


def evaluate_seed(
    dataset: str, seed: int, pretrain_epochs: int, finetune_epochs: int, engine: str, **params
) -> tuple[list[dict], pd.DataFrame]:
    """Train every method once on ``seed``; returns result rows and MASDA's per-epoch data."""
    train, test = split(dataset)
    x, y = train.inputs, class_labels(train)
    tx, ty = test.inputs, class_labels(test)
    n_classes = max(train.n_outputs, 2)
    rows = []

    def record(method: str, seconds: float, accuracy: float, sizes: list[int]) -> None:
        rows.append({"method": method, "seed": seed, "test_accuracy": accuracy,
                     "train_seconds": seconds, "hidden_sizes": str(sizes)})  # fmt: skip

    start = time.perf_counter()
    model = MASDAModel(task=train, pretrain_epochs=pretrain_epochs, engine=engine, rng=seed,
                       **params)  # fmt: skip
    while model.running:
        model.step()
    weights, biases, masks = stable_network(model)
    net = MaskedMLP(x.shape[1], weights, biases, n_classes, np.random.default_rng(seed), masks)
    net.fit(x, y, epochs=finetune_epochs)
    sizes = [len(b) for b in biases]
    record("MASDA pretrain + fine-tune", time.perf_counter() - start, net.accuracy(tx, ty), sizes)

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    corruption = [model.corruption, *[model.hidden_corruption] * len(sizes)][: len(sizes)]
    w, b = pretrain_dae_stack(x, sizes, corruption, rng, epochs=pretrain_epochs)
    net = MaskedMLP(x.shape[1], w, b, n_classes, rng).fit(x, y, epochs=finetune_epochs)
    record("layered SDA + fine-tune", time.perf_counter() - start, net.accuracy(tx, ty), sizes)

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    fan_in = [x.shape[1], *sizes][: len(sizes)]
    w = [glorot(rng, n, m) for n, m in zip(sizes, fan_in, strict=True)]
    net = MaskedMLP(x.shape[1], w, [np.zeros(n) for n in sizes], n_classes, rng)
    net.fit(x, y, epochs=finetune_epochs)
    record("same net, no pretraining", time.perf_counter() - start, net.accuracy(tx, ty), sizes)

    start = time.perf_counter()
    logistic = LogisticRegression(max_iter=2000).fit(x, y)
    record("logistic regression", time.perf_counter() - start,
           float(logistic.score(tx, ty)), [])  # fmt: skip
    epochs = model.datacollector.get_model_vars_dataframe().assign(seed=seed)
    return rows, epochs


def evaluate(
    out: str | Path, dataset: str = "digits", seeds: int = 3, pretrain_epochs: int = 30,
    finetune_epochs: int = 60, engine: str = "vectorized", force: bool = False,
    progress: bool = True, **params,
) -> pd.DataFrame:  # fmt: skip
    """Compare MASDA with a layered SDA, the same net unpretrained and logistic regression.

    Writes ``masda_eval.csv`` (method, seed, test_accuracy, train_seconds, hidden_sizes),
    ``masda_population.csv`` (MASDA's per-epoch data) and ``masda_population.png``.

    Returns
    -------
    DataFrame
        Mean and standard deviation of test accuracy and training time per method.
    """
    out = Path(out)
    if dataset not in DATASETS:
        raise ValueError(f"dataset={dataset!r} is invalid: it must be one of {DATASETS}")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds={seeds!r} is invalid: it must be an integer >= 1")
    # validates every parameter before the first run; per-task defaults come from the table
    max_depth = MASDAModel(
        task=split(dataset)[0], pretrain_epochs=pretrain_epochs, engine=engine, **params
    ).max_depth
    with staged_outputs(out, OUTPUTS, force) as staging:
        results = run_and_write(
            staging, dataset, seeds, pretrain_epochs, finetune_epochs, engine, max_depth,
            progress, **params,
        )  # fmt: skip
    table = results.groupby("method", sort=False)[["test_accuracy", "train_seconds"]].agg(
        ["mean", "std"]
    )
    table.columns = [f"{a} {b}" for a, b in table.columns]
    return table


def run_and_write(
    folder: Path, dataset: str, seeds: int, pretrain_epochs: int, finetune_epochs: int,
    engine: str, max_depth: int, progress: bool, **params,
) -> pd.DataFrame:  # fmt: skip
    """Evaluate every seed and write the outputs into ``folder``; returns the result rows."""
    rows, populations = [], []
    for seed in tqdm(range(seeds), desc=f"MASDA on {dataset}", disable=not progress,
                     unit="seed"):  # fmt: skip
        seed_rows, epochs = evaluate_seed(
            dataset, seed, pretrain_epochs, finetune_epochs, engine, **params
        )
        rows += seed_rows
        populations.append(epochs)
    results = pd.DataFrame(rows)
    population = pd.concat(populations, ignore_index=True)
    write_atomic(folder / OUTPUTS[0], lambda p: results.to_csv(p, index=False))
    write_atomic(folder / OUTPUTS[2], lambda p: population.to_csv(p, index=False))
    fig = plot_population(population, max_depth).figure
    fig.tight_layout()
    write_atomic(folder / OUTPUTS[1], lambda p: fig.savefig(p, dpi=120, format="png"))
    plt.close(fig)
    return results
