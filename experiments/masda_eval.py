"""MASDA on real data (the paper's future work): pretrain + fine-tune against baselines."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from tqdm.auto import tqdm

from glianet.agents.functions import sigmoid
from glianet.experiments.figures import plot_population
from glianet.experiments.finetune import MaskedMLP, glorot, pretrain_dae_stack, stacked
from glianet.model import MASDAModel
from glianet.outputs import staged_outputs, write_atomic
from glianet.tasks import Digits, Task, get_task

OUTPUTS = (
    "masda_eval.csv", "masda_features.csv", "masda_few_labels.csv", "masda_few_labels.png",
    "masda_population.png", "masda_population.csv",
)  # fmt: skip
DATASETS = ("digits", "any-upper-3")
#: Shares of the training labels the few-label fine-tuning sees.
LABEL_FRACTIONS = (0.05, 0.1, 0.25, 1.0)
#: Selection ablated: no unit dies, under either culling rule (the stochastic draws are still
#: made, so a run differs from the default one only in who dies).
NO_CULLING = {"cull_rate": 0.0, "cull_fraction": 0.0}


def stable_network(model: MASDAModel) -> tuple[list, list, list]:
    """MASDA's stable network as :class:`MaskedMLP` layers (SPEC §2, fine-tuning).

    Layer 0 is the input constants, layer d the stable variable units of depth d (up to the
    first depth without any); reward units and teacher constants are dropped. Layer d's weights
    span every layer below it, masked by the edges there are: stacked MASDA fills only the block
    of depth d - 1, the layer-free one any lower depth.

    Returns
    -------
    (weights, biases, masks)
        Per hidden layer: ``(n_d, n_0 + ... + n_{d-1})`` weights, ``(n_d,)`` biases and the bool
        masks of the edges.
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
    for d in range(1, len(layers)):
        below = [s for layer in layers[:d] for s in layer]
        weights.append(u.W[np.ix_(layers[d], below)].copy())
        masks.append(edges[np.ix_(layers[d], below)])
        biases.append(u.W[layers[d], model.bias.slot].copy())
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


def pretrain(task: Task, seed: int, engine: str, **params) -> MASDAModel:
    """A MASDA model pretrained on ``task`` for its ``pretrain_epochs``."""
    model = MASDAModel(task=task, engine=engine, rng=seed, **params)
    while model.running:
        model.step()
    return model


def depth1_features(model: MASDAModel) -> tuple[np.ndarray, np.ndarray]:
    """Weights and biases of the stable depth-1 units (over the input constants)."""
    u = model.units
    inputs = [c.slot for c in model.data_constants[: model.task.n_inputs]]
    slots = [unit.slot for unit in model.units.stable_units(1)]
    return u.W[np.ix_(slots, inputs)], u.W[slots, model.bias.slot]


def probe(w: np.ndarray, b: np.ndarray, x, y, tx, ty) -> float:
    """Test accuracy of logistic regression on frozen features ``sigmoid(x w^T + b)``."""
    features = LogisticRegression(max_iter=2000).fit(sigmoid(x @ w.T + b), y)
    return float(features.score(sigmoid(tx @ w.T + b), ty))


def dae_reconstruction(x, tx, size: int, corruption: float, epochs: int, seed: int):
    """Test reconstruction MSE and encoder of a one-hidden-layer denoising autoencoder."""
    rng = np.random.default_rng(seed)
    (w,), (b,), (w_dec,), (b_dec,) = pretrain_dae_stack(
        x, [size], [corruption], rng, epochs=epochs, decoders=True
    )
    recon = sigmoid(sigmoid(tx @ w.T + b) @ w_dec.T + b_dec)
    return float(np.mean((recon - tx) ** 2)), w, b


class Comparison:
    """One seed's train/test split and the nets fine-tuned on it."""

    def __init__(self, dataset: str, seed: int, finetune_epochs: int, engine: str) -> None:
        self.train, self.test = split(dataset)
        self.x, self.y = self.train.inputs, class_labels(self.train)
        self.tx, self.ty = self.test.inputs, class_labels(self.test)
        self.n_classes = max(self.train.n_outputs, 2)
        self.seed, self.epochs, self.engine = seed, finetune_epochs, engine

    def labelled(self, fraction: float) -> np.ndarray:
        """Rows of the training set whose labels fine-tuning sees (stratified by class)."""
        if fraction >= 1.0:
            return np.arange(len(self.y))
        rows, _ = train_test_split(np.arange(len(self.y)), train_size=fraction,
                                   stratify=self.y, random_state=self.seed)  # fmt: skip
        return np.sort(rows)

    def fit(self, weights, biases, masks, fraction: float = 1.0) -> float:
        """Fine-tune a net from these hidden layers on a share of the labels; test accuracy.
        Fewer labels get proportionally more epochs, so every run takes as many steps."""
        rows = self.labelled(fraction)
        rng = np.random.default_rng(self.seed)
        net = MaskedMLP(self.x.shape[1], weights, biases, self.n_classes, rng, masks)
        net.fit(self.x[rows], self.y[rows], epochs=round(self.epochs / fraction))
        return net.accuracy(self.tx, self.ty)

    def masda(self, model: MASDAModel, fraction: float = 1.0) -> float:
        """Fine-tune MASDA's stable network."""
        return self.fit(*stable_network(model), fraction)

    def sda_layers(self, sizes: list[int], model: MASDAModel, epochs: int, labels: bool = False):
        """A layered SDA of these sizes and ``model``'s corruption rates, pretrained on every
        training input, in DAG form. ``labels``: its first layer also learns to predict the
        training labels, as MASDA's depth 1 does with teacher constants."""
        corruption = [model.corruption, *[model.hidden_corruption] * len(sizes)][: len(sizes)]
        rng = np.random.default_rng(self.seed)
        targets = np.eye(self.n_classes)[self.y] if labels else None
        w, b = pretrain_dae_stack(self.x, sizes, corruption, rng, epochs=epochs, labels=targets)
        weights, masks = stacked(self.x.shape[1], w)
        return weights, b, masks

    def random_layers(self, sizes: list[int]):
        """The same stacked net, Glorot-uniform and unpretrained, in DAG form."""
        rng = np.random.default_rng(self.seed)
        fan_in = [self.x.shape[1], *sizes][: len(sizes)]
        w = [glorot(rng, n, m) for n, m in zip(sizes, fan_in, strict=True)]
        weights, masks = stacked(self.x.shape[1], w)
        return weights, [np.zeros(n) for n in sizes], masks


def evaluate_seed(
    dataset: str, seed: int, finetune_epochs: int, engine: str, **params
) -> tuple[list[dict], dict, list[dict], pd.DataFrame]:
    """Train every method once on ``seed``.

    Returns
    -------
    (rows, features, few_label_rows, epochs)
        Accuracy rows; the depth-1 feature measures; the few-label rows; MASDA's per-epoch data.
    """
    c = Comparison(dataset, seed, finetune_epochs, engine)
    epochs_pre = params["pretrain_epochs"]
    rows = []

    def record(method: str, start: float, accuracy: float, sizes: list[int]) -> None:
        rows.append({"method": method, "seed": seed, "test_accuracy": accuracy,
                     "train_seconds": time.perf_counter() - start,
                     "hidden_sizes": str(sizes)})  # fmt: skip

    start = time.perf_counter()
    model = pretrain(c.train, seed, engine, **params)
    sizes = [len(b) for b in stable_network(model)[1]]
    record("MASDA pretrain + fine-tune", start, c.masda(model), sizes)

    start = time.perf_counter()
    layer_free = pretrain(c.train, seed, engine, **{**params, "layer_free": True})
    free_sizes = [len(b) for b in stable_network(layer_free)[1]]
    record("MASDA layer-free pretrain + fine-tune", start, c.masda(layer_free), free_sizes)

    start = time.perf_counter()
    no_cull = pretrain(c.train, seed, engine, **{**params, **NO_CULLING})
    record("MASDA without culling + fine-tune", start, c.masda(no_cull),
           [len(b) for b in stable_network(no_cull)[1]])  # fmt: skip

    start = time.perf_counter()
    record("layered SDA + fine-tune", start,
           c.fit(*c.sda_layers(sizes, model, epochs_pre)), sizes)  # fmt: skip
    if model.teacher:
        # MASDA's depth 1 learns to predict the labels too: the SDA given the same data
        start = time.perf_counter()
        record("layered SDA predicting labels + fine-tune", start,
               c.fit(*c.sda_layers(sizes, model, epochs_pre, labels=True)), sizes)  # fmt: skip
    start = time.perf_counter()
    record("same net, no pretraining", start, c.fit(*c.random_layers(sizes)), sizes)
    start = time.perf_counter()
    mlp = MLPClassifier(random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(c.x, c.y)
    record("MLPClassifier() defaults", start, float(mlp.score(c.tx, c.ty)), [100])
    start = time.perf_counter()
    logistic = LogisticRegression(max_iter=2000).fit(c.x, c.y)
    record("logistic regression", start, float(logistic.score(c.tx, c.ty)), [])

    # Depth 1 as a feature learner: reconstruction through every connected depth-1 unit, and a
    # linear probe on the stable ones, against a DAE and random features of the same sizes.
    n_depth1 = sum(1 for s in model.units.connected_variable_slots() if model.units.depth[s] == 1)
    w1, b1 = depth1_features(model)
    dae_mse, dae_w, dae_b = dae_reconstruction(c.x, c.tx, n_depth1, model.corruption,
                                               epochs_pre, seed)  # fmt: skip
    rng = np.random.default_rng(seed)
    random_w = glorot(rng, len(b1), c.x.shape[1])
    features = {
        "seed": seed, "depth1_units": n_depth1, "stable_depth1_units": len(b1),
        "masda_recon_mse": float(np.mean((reconstruct(model, c.tx) - c.tx) ** 2)),
        "dae_recon_mse": dae_mse,
        "masda_probe": probe(w1, b1, c.x, c.y, c.tx, c.ty) if len(b1) else float("nan"),
        "random_probe": probe(random_w, np.zeros(len(b1)), c.x, c.y, c.tx, c.ty)
        if len(b1) else float("nan"),
        "dae_probe": probe(dae_w, dae_b, c.x, c.y, c.tx, c.ty),
    }  # fmt: skip

    # Few labels: pretraining sees every training input but no label (teacher=False).
    unsupervised = pretrain(c.train, seed, engine, **{**params, "teacher": False})
    u_sizes = [len(b) for b in stable_network(unsupervised)[1]]
    sda = c.sda_layers(u_sizes, unsupervised, epochs_pre)
    few = []
    for fraction in LABEL_FRACTIONS:
        for method, accuracy in (
            ("MASDA", c.masda(unsupervised, fraction)),
            ("layered SDA", c.fit(*sda, fraction)),
            ("no pretraining", c.fit(*c.random_layers(u_sizes), fraction)),
        ):
            few.append({"method": method, "seed": seed, "label_fraction": fraction,
                        "labels": len(c.labelled(fraction)), "test_accuracy": accuracy,
                        "hidden_sizes": str(u_sizes)})  # fmt: skip
    epochs = model.datacollector.get_model_vars_dataframe().assign(seed=seed)
    return rows, features, few, epochs


def plot_few_labels(few: pd.DataFrame):
    """Test accuracy against the share of training labels fine-tuning sees (mean ± std)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for method, group in few.groupby("method", sort=False):
        stats = group.groupby("label_fraction")["test_accuracy"].agg(["mean", "std"])
        ax.errorbar(stats.index * 100, stats["mean"], yerr=stats["std"], marker="o",
                    capsize=3, label=method)  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("training labels used in fine-tuning (%)")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"Few labels (pretraining sees every input; {few['seed'].nunique()} seeds)")
    ax.legend()
    fig.tight_layout()
    return fig


def evaluate(
    out: str | Path, dataset: str = "digits", seeds: int = 3, pretrain_epochs: int | None = None,
    finetune_epochs: int = 60, engine: str = "vectorized", force: bool = False,
    progress: bool = True, **params,
) -> pd.DataFrame:  # fmt: skip
    """Compare MASDA (stacked, layer-free, and without culling) with a layered SDA (also one
    whose first layer predicts the labels, as MASDA's does with teacher constants), the same
    net unpretrained, scikit-learn's ``MLPClassifier()`` and logistic regression; measure depth
    1 as a feature learner; fine-tune with few labels.

    ``pretrain_epochs`` None: the parameter table's default for the task (digits 300). Writes
    ``masda_eval.csv``
    (method, seed, test_accuracy, train_seconds, hidden_sizes), ``masda_features.csv``
    (per seed: depth-1 reconstruction MSE against a DAE of the same size, corruption and epochs;
    linear-probe accuracy against random features of the same size), ``masda_few_labels.csv``
    and ``.png`` (accuracy with 5, 10, 25 and 100 % of the labels), ``masda_population.csv``
    (MASDA's per-epoch data) and ``masda_population.png``.

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
    if pretrain_epochs is not None:
        params["pretrain_epochs"] = pretrain_epochs
    # validates every parameter before the first run; per-task defaults come from the table
    first = MASDAModel(task=split(dataset)[0], engine=engine, **params)
    params = {**params, "pretrain_epochs": first.pretrain_epochs}
    with staged_outputs(out, OUTPUTS, force) as staging:
        results = run_and_write(
            staging, dataset, seeds, finetune_epochs, engine, first.max_depth, progress, **params
        )
    table = results.groupby("method", sort=False)[["test_accuracy", "train_seconds"]].agg(
        ["mean", "std"]
    )
    table.columns = [f"{a} {b}" for a, b in table.columns]
    return table


def run_and_write(
    folder: Path, dataset: str, seeds: int, finetune_epochs: int, engine: str, max_depth: int,
    progress: bool, **params,
) -> pd.DataFrame:  # fmt: skip
    """Evaluate every seed and write the outputs into ``folder``; returns the result rows."""
    rows, features, few, populations = [], [], [], []
    for seed in tqdm(range(seeds), desc=f"MASDA on {dataset}", disable=not progress,
                     unit="seed"):  # fmt: skip
        seed_rows, seed_features, seed_few, epochs = evaluate_seed(
            dataset, seed, finetune_epochs, engine, **params
        )
        rows += seed_rows
        features.append(seed_features)
        few += seed_few
        populations.append(epochs)
    results, few = pd.DataFrame(rows), pd.DataFrame(few)
    population = pd.concat(populations, ignore_index=True)
    write_atomic(folder / "masda_eval.csv", lambda p: results.to_csv(p, index=False))
    write_atomic(folder / "masda_features.csv",
                 lambda p: pd.DataFrame(features).to_csv(p, index=False))  # fmt: skip
    write_atomic(folder / "masda_few_labels.csv", lambda p: few.to_csv(p, index=False))
    write_atomic(folder / "masda_population.csv", lambda p: population.to_csv(p, index=False))
    for name, fig in (
        ("masda_population.png", plot_population(population, max_depth).figure),
        ("masda_few_labels.png", plot_few_labels(few)),
    ):
        fig.tight_layout()
        write_atomic(folder / name, lambda p, fig=fig: fig.savefig(p, dpi=120, format="png"))
        plt.close(fig)
    return results
