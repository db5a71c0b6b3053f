"""The NG paper's experiment: training with and without glia pruning, several seeds."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from glianet.experiments.figures import draw_network, plot_synapses_and_error
from glianet.model import NGModel
from glianet.outputs import staged_outputs, write_atomic

#: The paper's reported result (Figure 3.2 and its text).
PAPER = {
    "initial synapses": "182",
    "final synapses": "72",
    "synapses removed": "~60%",
    "epoch of 90% of pruning": "~40",
    "final error, pruning": "= no pruning",
    "final error, no pruning": "(not given)",
    "input/output synapses kept": "all",
}

OUTPUTS = ("ng_epochs.csv", "fig_3_1_pruned_network.png", "fig_3_2_synapses_and_error.png")


def run_ng(seed: int, **params) -> tuple[pd.DataFrame, NGModel]:
    """Run one NG model to the end.

    Parameters
    ----------
    seed : int
        The model's ``rng``.
    **params
        Keyword parameters of :class:`~glianet.model.NGModel`.

    Returns
    -------
    (DataFrame, NGModel)
        The per-epoch data (epoch 0 = before training) and the finished model.
    """
    model = NGModel(rng=seed, **params)
    while model.running:
        model.step()
    epochs = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    return epochs, model


def epoch_of_most_pruning(synapses: np.ndarray, share: float = 0.9) -> int:
    """First epoch by which ``share`` of all the run's pruning had happened."""
    removed = synapses[0] - synapses
    if removed[-1] == 0:
        return 0
    return int(np.argmax(removed >= share * removed[-1]))


def summarize(epochs: pd.DataFrame) -> pd.DataFrame:
    """The paper's numbers beside ours: mean [min, max] over seeds.

    Parameters
    ----------
    epochs : DataFrame
        One row per (seed, pruning, epoch), as :func:`reproduce` writes.

    Returns
    -------
    DataFrame
        Indexed by quantity, columns ``paper`` and ``glianet``.
    """

    def spread(values: Iterable[float], fmt: str = "{:.0f}") -> str:
        values = np.asarray(list(values), dtype=float)
        if len(values) == 0:
            return "-"
        low, high = fmt.format(values.min()), fmt.format(values.max())
        middle = fmt.format(values.mean())
        return middle if low == high else f"{middle} [{low}, {high}]"

    pruned = epochs[epochs["pruning"]].sort_values(["seed", "epoch"])
    plain = epochs[~epochs["pruning"]].sort_values(["seed", "epoch"])
    first = pruned.groupby("seed").first()
    last = pruned.groupby("seed").last()
    layer_columns = [
        NGModel.layer_column(layer)
        for layer in range(1, len(epochs.columns))
        if NGModel.layer_column(layer) in epochs.columns
    ]
    io_kept = (first[layer_columns[0]] == last[layer_columns[0]]) & (
        first[layer_columns[-1]] == last[layer_columns[-1]]
    )
    ours = {
        "initial synapses": spread(first["synapses"]),
        "final synapses": spread(last["synapses"]),
        "synapses removed": spread(100 * (1 - last["synapses"] / first["synapses"]), "{:.0f}%"),
        "epoch of 90% of pruning": spread(
            epoch_of_most_pruning(run["synapses"].to_numpy()) for _, run in pruned.groupby("seed")
        ),
        "final error, pruning": spread(last["error"], "{:.3f}"),
        "final error, no pruning": spread(plain.groupby("seed").last()["error"], "{:.3f}"),
        "input/output synapses kept": f"{int(io_kept.sum())} of {len(io_kept)} seeds",
    }
    for layer, column in enumerate(layer_columns, start=1):
        ours[f"synapses left into layer {layer}"] = spread(last[column])
    return pd.DataFrame(
        {"paper": [PAPER.get(k, "") for k in ours], "glianet": list(ours.values())},
        index=pd.Index(list(ours), name="quantity"),
    )


def reproduce(
    out: str | Path,
    seeds: int = 5,
    force: bool = False,
    progress: bool = True,
    **params,
) -> pd.DataFrame:
    """Run the paper's experiment and write its table and figures to ``out``.

    Each seed is run with pruning and without (same seed, so the same initial network and the
    same samples until the first prune). Writes ``ng_epochs.csv`` (one row per seed, pruning,
    epoch), ``fig_3_1_pruned_network.png`` (the pruned network of the first seed) and
    ``fig_3_2_synapses_and_error.png``.

    Parameters
    ----------
    out : path
        Output directory (created if missing).
    seeds : int
        Number of seeds, 0..seeds-1.
    force : bool
        Overwrite existing outputs.
    progress : bool
        Show a progress bar.
    **params
        Keyword parameters of :class:`~glianet.model.NGModel` (``pruning`` and ``rng`` are set
        here).

    Returns
    -------
    DataFrame
        The summary table (see :func:`summarize`).
    """
    out = Path(out)
    if seeds < 1:
        raise ValueError(f"seeds={seeds} is invalid: it must be >= 1")
    for reserved in ("pruning", "rng"):
        if reserved in params:
            raise ValueError(f"{reserved} is set by reproduce() itself; do not pass it")
    NGModel(**params)  # validate every parameter before the first run
    with staged_outputs(out, OUTPUTS, force) as staging:
        epochs = run_and_write(staging, seeds, progress, **params)
    return summarize(epochs)


def run_and_write(folder: Path, seeds: int, progress: bool, **params) -> pd.DataFrame:
    """Run every seed with and without pruning and write the outputs into ``folder``.

    Returns
    -------
    DataFrame
        One row per (seed, pruning, epoch), as written to ``ng_epochs.csv``.
    """
    frames, shown = [], None
    runs = [(seed, pruning) for seed in range(seeds) for pruning in (True, False)]
    for seed, pruning in tqdm(runs, desc="NG reproduction", disable=not progress, unit="run"):
        epochs, model = run_ng(seed, pruning=pruning, **params)
        frames.append(epochs.assign(seed=seed, pruning=pruning))
        if pruning and shown is None:
            shown = model
    epochs = pd.concat(frames, ignore_index=True)
    front = ["seed", "pruning", "epoch", "synapses", "error", "mse"]
    epochs = epochs[front + [c for c in epochs.columns if c not in front]]

    write_atomic(folder / OUTPUTS[0], lambda p: epochs.to_csv(p, index=False))
    ax = draw_network(shown)
    ax.figure.suptitle(f"Figure 3.1 - pruned network, seed 0, epoch {shown.epoch}")
    write_atomic(folder / OUTPUTS[1], lambda p: ax.figure.savefig(p, dpi=120, format="png"))
    plt.close(ax.figure)
    fig = plot_synapses_and_error(epochs)
    write_atomic(folder / OUTPUTS[2], lambda p: fig.savefig(p, dpi=120, format="png"))
    plt.close(fig)
    return epochs
