"""The pruning study on held-out digits: glia pruning against the usual methods, matched sparsity.

For each seed, the glia prune in four configurations (sensing on and off, ``protect_io`` on and
off); each glia run sets a sparsity, and global magnitude pruning (one-shot and gradual) and
random pruning, run from the same initial network, prune to the same synapse count from the same
pool of synapses. A run without pruning and scikit-learn's ``MLPClassifier`` of the same hidden
sizes tell whether the base network is sane. Everything is measured on the fixed digits test
split (``test_size=0.25, random_state=0``), never trained on.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from glianet.experiments.baselines import train_pruned
from glianet.model import NGModel
from glianet.outputs import check_outputs, write_atomic
from glianet.tasks import get_task

OUTPUTS = ("prune_study.csv", "prune_study.png")

#: The network and training of the study (any can be overridden). 64-32-32-10 with a softmax
#: output learns the 8x8 digits to ~97 % test accuracy in 20 passes over the 1347 training
#: digits. The glia keep the paper's rules and constants but act every 10 samples (the paper's
#: 100 is for 64 patterns; at 100 they remove ~5 % of the synapses in 20 epochs).
STUDY = {
    "task": "digits",
    "layers": (64, 32, 32, 10),
    "output": "softmax-ce",
    "eta": 0.1,
    "samples_per_epoch": 1347,
    "mini_batch_size": 10,
}

#: The matched baselines, as :func:`glianet.experiments.baselines.train_pruned` names them.
BASELINES = ("magnitude one-shot", "magnitude gradual", "random")


def sensing_off() -> dict:
    """NGModel parameters under which no neuron is ever an outlier: the glia sense nothing.

    Their sig then only drifts and is reset by bursts, so what pruning remains is the part that
    does not depend on activity.
    """
    return {"z": 1e9}


def glia_configurations() -> list[dict]:
    """The four glia runs: sensing on and off, each with ``protect_io`` on and off."""
    return [
        {"sensing": sensing, "protect_io": protect_io}
        for protect_io in (True, False)
        for sensing in (True, False)
    ]


def run_row(epochs: pd.DataFrame, model: NGModel, **labels) -> dict:
    """One row of the study: the labels, and the final synapses and accuracies of a run."""
    last = epochs.iloc[-1]
    return {
        **labels,
        "synapses": model.synapse_count,
        "fraction_left": model.synapse_count / int(epochs["synapses"].iloc[0]),
        "train_accuracy": float(last["accuracy"]),
        "test_accuracy": float(last["test_accuracy"]),
        "best_test_accuracy": float(epochs["test_accuracy"].max()),
    }


def mlp_reference(seed: int, hidden: tuple[int, ...], max_iter: int = 300) -> float:
    """Test accuracy of scikit-learn's MLPClassifier (its defaults: ReLU, Adam) with the given
    hidden layer sizes, trained on the same training digits."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    task = get_task("digits")
    classifier = MLPClassifier(hidden_layer_sizes=hidden, max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(task.inputs, task.labels)
    return float(classifier.score(task.test_inputs, task.test_labels))


def run_study(seeds: int = 5, epochs: int = 20, progress: bool = True, **params) -> pd.DataFrame:
    """Run every method for every seed; one row per run.

    Parameters
    ----------
    seeds : int
        Seeds 0..seeds-1; a seed fixes the initial network (the same for every method).
    epochs : int
        Training epochs of every run. Magnitude one-shot prunes after ``epochs // 2``, gradual
        prunes a share after each of the first ``epochs // 2``; random prunes before training.
    progress : bool
        Show a progress bar.
    **params
        NGModel parameters over :data:`STUDY` (not ``pruning``, ``protect_io`` or ``rng``).

    Returns
    -------
    DataFrame
        Columns ``seed``, ``method``, ``sensing``, ``protect_io``, ``synapses``,
        ``fraction_left``, ``train_accuracy``, ``test_accuracy``, ``best_test_accuracy``,
        ``seconds``. A baseline's ``sensing`` and ``protect_io`` are those of the glia run it
        is matched to; "none" and "MLPClassifier" rows have neither.
    """
    params = {**STUDY, **params}
    hidden = tuple(params["layers"][1:-1])
    rows = []
    runs = seeds * (1 + len(glia_configurations()) * (1 + len(BASELINES)))
    bar = tqdm(total=runs, desc="prune study", disable=not progress, unit="run")

    def timed(strategy: str, seed: int, target: int = 0, **changes) -> tuple:
        start = time.perf_counter()
        result = train_pruned(strategy, seed, target, epochs=epochs, ramp=max(1, epochs // 2),
                              **{**params, **changes})  # fmt: skip
        bar.update()
        return (*result, time.perf_counter() - start)

    # One BLAS thread: the evaluation's small matrix products are slower with more.
    with threadpool_limits(1):
        for seed in range(seeds):
            frame, model, seconds = timed("none", seed)
            rows.append(run_row(frame, model, seed=seed, method="none", seconds=seconds))
            for config in glia_configurations():
                changes = {"protect_io": config["protect_io"]}
                if not config["sensing"]:
                    changes.update(sensing_off())
                frame, glia, seconds = timed("glia", seed, **changes)
                rows.append(run_row(frame, glia, seed=seed, method="glia", **config,
                                    seconds=seconds))  # fmt: skip
                for strategy in BASELINES:
                    frame, model, seconds = timed(strategy, seed, glia.synapse_count,
                                                  protect_io=config["protect_io"])  # fmt: skip
                    rows.append(run_row(frame, model, seed=seed, method=strategy, **config,
                                        seconds=seconds))  # fmt: skip
            start = time.perf_counter()
            accuracy = mlp_reference(seed, hidden)
            rows.append({"seed": seed, "method": "MLPClassifier", "fraction_left": 1.0,
                         "test_accuracy": accuracy,
                         "seconds": time.perf_counter() - start})  # fmt: skip
    bar.close()
    return pd.DataFrame(rows)


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd over seeds of the synapses left and the test accuracy, per method and glia
    configuration (the rows :func:`run_study` returns)."""
    keys = ["protect_io", "sensing", "method"]
    grouped = runs.fillna({"protect_io": "-", "sensing": "-"}).groupby(keys, sort=False)
    table = grouped.agg(
        seeds=("seed", "nunique"),
        synapses=("synapses", "mean"),
        fraction_left=("fraction_left", "mean"),
        fraction_left_sd=("fraction_left", "std"),
        test_accuracy=("test_accuracy", "mean"),
        test_accuracy_sd=("test_accuracy", "std"),
    )
    return table.reset_index()


STYLE = {
    "glia": ("o", "C3"),
    "magnitude one-shot": ("s", "C0"),
    "magnitude gradual": ("D", "C2"),
    "random": ("v", "C7"),
}


def plot_study(runs: pd.DataFrame) -> Figure:
    """Test accuracy against the fraction of synapses left, mean +- sd over seeds.

    One panel per ``protect_io``; filled markers: the glia sense activity (and the baselines
    matched to them), open: sensing off. The methods matched to one glia run share its fraction
    of synapses (its sd is the horizontal bar); they are drawn side by side around it.
    """
    table = summarize(runs)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), sharey=True)
    plain = table[table["method"] == "none"].iloc[0]
    mlp = table[table["method"] == "MLPClassifier"]
    for ax, protect_io in zip(axes, (True, False), strict=True):
        ax.axhspan(plain["test_accuracy"] - plain["test_accuracy_sd"],
                   plain["test_accuracy"] + plain["test_accuracy_sd"], color="0.88",
                   label="no pruning (mean ± sd)")  # fmt: skip
        if len(mlp):
            ax.axhline(mlp["test_accuracy"].iloc[0], color="k", ls="--", lw=1,
                       label="sklearn MLPClassifier")  # fmt: skip
        part = table[table["protect_io"] == protect_io]
        low, high = part["fraction_left"].min(), part["fraction_left"].max()
        step = max(high - low, 0.02) / 40
        for k, (method, (marker, color)) in enumerate(STYLE.items()):
            for sensing in (True, False):
                row = part[(part["method"] == method) & (part["sensing"] == sensing)]
                if not len(row):
                    continue
                row = row.iloc[0]
                ax.errorbar(
                    row["fraction_left"] + (k - 1.5) * step, row["test_accuracy"],
                    xerr=row["fraction_left_sd"] if method == "glia" else None,
                    yerr=row["test_accuracy_sd"], marker=marker, color=color, capsize=3,
                    ls="none", markerfacecolor=color if sensing else "white",
                    label=method + ("" if sensing else " (sensing off)"),
                )  # fmt: skip
        ax.set_xlabel("fraction of synapses left")
        ax.set_title(f"protect_io={protect_io}")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy (held-out digits)")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
    seeds = runs["seed"].nunique()
    fig.suptitle(f"Pruning on 8x8 digits at the glia's sparsities ({seeds} seeds, mean ± sd)")
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig


def prune_study(
    out: str | Path,
    seeds: int = 5,
    epochs: int = 20,
    force: bool = False,
    progress: bool = True,
    **params,
) -> pd.DataFrame:
    """Run the study and write ``prune_study.csv`` (one row per run) and ``prune_study.png``.

    Parameters
    ----------
    out : path
        Output directory (created if missing).
    seeds, epochs, progress, **params
        As :func:`run_study`.
    force : bool
        Overwrite existing outputs.

    Returns
    -------
    DataFrame
        The summary table (:func:`summarize`).
    """
    out = Path(out)
    if seeds < 1:
        raise ValueError(f"seeds={seeds} is invalid: it must be >= 1")
    for reserved in ("pruning", "protect_io", "rng"):
        if reserved in params:
            raise ValueError(f"{reserved} is set by the prune study itself; do not pass it")
    check_outputs(out, OUTPUTS, force)
    NGModel(**{**STUDY, **params, "epochs": epochs})  # validate every parameter first
    runs = run_study(seeds, epochs, progress, **params)
    write_atomic(out / OUTPUTS[0], lambda p: runs.to_csv(p, index=False))
    fig = plot_study(runs)
    write_atomic(out / OUTPUTS[1], lambda p: fig.savefig(p, dpi=120, format="png"))
    plt.close(fig)
    return summarize(runs)
