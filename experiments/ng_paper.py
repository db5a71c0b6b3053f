"""The NG paper's experiment: training with and without glia pruning, several seeds, and the
ablations that show which of its numbers are built into the setup."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from glianet.agents.functions import SENSING_Z, SENSINGS
from glianet.experiments.figures import draw_network, plot_synapses_and_error
from glianet.model import NGModel
from glianet.outputs import staged_outputs, write_atomic
from glianet.parameters import NG_PARAMETERS

#: The paper's reported result (Figure 3.2 and its text).
PAPER = {
    "initial synapses": "182",
    "final synapses": "72",
    "synapses removed": "~60%",
    "epoch of 90% of pruning": "~40",
    "final error, pruning": "= no pruning",
    "final error, no pruning": "(not given)",
    "input/output synapses kept (built in when protect_io=True)": "all",
    "floor: fewest synapses the setup allows (built in)": "",
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


def spread(values: Iterable[float], fmt: str = "{:.0f}") -> str:
    """``mean [min, max]`` of ``values`` (just the mean when min and max print the same).
    NaN values (a quantity that was not measured, e.g. ``f`` in a run without pruning rounds)
    are left out; ``"-"`` when none is left."""
    values = np.asarray(list(values), dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return "-"
    low, high = fmt.format(values.min()), fmt.format(values.max())
    middle = fmt.format(values.mean())
    return middle if low == high else f"{middle} [{low}, {high}]"


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
        "input/output synapses kept (built in when protect_io=True)": (
            f"{int(io_kept.sum())} of {len(io_kept)} seeds"
        ),
    }
    if "floor" in pruned:
        ours["floor: fewest synapses the setup allows (built in)"] = spread(last["floor"])
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
    epoch; ``floor`` is :func:`synapse_floor`), ``fig_3_1_pruned_network.png`` (the pruned
    network of the first seed) and ``fig_3_2_synapses_and_error.png``.

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
        frames.append(epochs.assign(seed=seed, pruning=pruning, floor=synapse_floor(model)))
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


# -- ablations ------------------------------------------------------------------------------
def synapse_floor(model: NGModel) -> int:
    """The fewest synapses pruning can leave in ``model``: every synapse no prune order may
    delete, plus, with ``keep_last_synapse``, one incoming synapse of each neuron whose incoming
    synapses are all prunable. For the paper's net with ``protect_io=True`` it is 56 + 16 = 72;
    without pruning, every synapse there is."""
    s, floor = model.state, 0
    if not model.pruning:
        return int(s.mask.sum())
    for layer in range(1, s.n_layers):
        prunable = s.prunable[s.synapses(layer)].reshape(s.sizes[layer], s.sizes[layer - 1])
        fixed = (~prunable).sum(axis=1)
        floor += int(np.where(fixed > 0, fixed, int(model.keep_last_synapse)).sum())
    return floor


def ablation_variants() -> dict[str, dict]:
    """The runs the reproduction table shows beside the paper: name -> NGModel parameters.

    The default model; sensing switched off; ``protect_io=False`` with sensing on and off; each
    other reading of the outlier test at its default ``z``; the literal reading at ``z = 2.3``
    (the default before sensing was measured); no pruning.
    """
    default = NG_PARAMETERS["sensing"].default

    def label(reading: str) -> str:
        return f"sensing={reading!r} (z={SENSING_Z[reading]:g})"

    variants = {
        f"default: {label(default)}": {},
        "sensing='off'": {"sensing": "off"},
        "protect_io=False": {"protect_io": False},
        "protect_io=False, sensing='off'": {"protect_io": False, "sensing": "off"},
    }
    for reading in SENSINGS:
        if reading not in (default, "off"):
            variants[label(reading)] = {"sensing": reading}
    variants["sensing='layer' (z=2.3), the earlier default"] = {"sensing": "layer", "z": 2.3}
    variants["no pruning"] = {"pruning": False}
    return variants


def ablations(
    seeds: int = 5,
    epochs: int = 100,
    variants: dict[str, dict] | None = None,
    progress: bool = True,
    **params,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the paper's experiment under each variant, ``seeds`` seeds each.

    Parameters
    ----------
    seeds : int
        Seeds 0..seeds-1 for every variant (the same initial networks across variants).
    epochs : int
        Epochs per run.
    variants : dict, optional
        Name -> NGModel parameters (default: :func:`ablation_variants`).
    progress : bool
        Show a progress bar.
    **params
        NGModel parameters shared by every variant (a variant's own values win).

    Returns
    -------
    (DataFrame, DataFrame)
        The table (:func:`ablation_table`) and the per-epoch rows of every run, with columns
        ``variant``, ``seed`` and ``floor`` (:func:`synapse_floor`) added.
    """
    if seeds < 1:
        raise ValueError(f"seeds={seeds} is invalid: it must be >= 1")
    variants = ablation_variants() if variants is None else variants
    for changes in variants.values():
        NGModel(**{**params, **changes, "epochs": epochs})  # every parameter checked up front
    runs = [(name, seed) for name in variants for seed in range(seeds)]
    frames = []
    for name, seed in tqdm(runs, desc="NG ablations", disable=not progress, unit="run"):
        data, model = run_ng(seed, **{**params, **variants[name], "epochs": epochs})
        frames.append(data.assign(variant=name, seed=seed, floor=synapse_floor(model)))
    epochs_data = pd.concat(frames, ignore_index=True)
    return ablation_table(epochs_data), epochs_data


def ablation_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The paper's numbers, then one row per variant: mean [min, max] over seeds.

    Parameters
    ----------
    runs : DataFrame
        Per-epoch rows with ``variant``, ``seed`` and ``floor`` columns, as :func:`ablations`
        returns them.

    Returns
    -------
    DataFrame
        Indexed by variant. ``floor`` is the fewest synapses the setup allows (built in, not a
        result); ``io kept`` the synapses of the input and output layers left at the end (all of
        them by construction under ``protect_io=True``); ``f > 0`` the share of (glia, round)
        pairs in which a glia sensed activity.
    """
    layers = [layer for layer in range(1, len(runs.columns)) if NGModel.layer_column(layer) in runs]
    io = [NGModel.layer_column(layers[0]), NGModel.layer_column(layers[-1])]
    rows = {
        "paper": {
            "final synapses": PAPER["final synapses"],
            "removed": PAPER["synapses removed"],
            "epoch of 90% of pruning": PAPER["epoch of 90% of pruning"],
            "final error": "= no pruning",
            "io kept": "all",
        }
    }
    for name, variant in runs.groupby("variant", sort=False):
        variant = variant.sort_values(["seed", "epoch"])
        first, last = variant.groupby("seed").first(), variant.groupby("seed").last()
        trained = variant[variant["epoch"] > 0].groupby("seed")
        sensed = trained["f_active"].mean() if "f_active" in variant else ()
        rows[name] = {
            "final synapses": spread(last["synapses"]),
            "removed": spread(100 * (1 - last["synapses"] / first["synapses"]), "{:.0f}%"),
            "epoch of 90% of pruning": spread(
                epoch_of_most_pruning(run["synapses"].to_numpy())
                for _, run in variant.groupby("seed")
            ),
            "final error": spread(last["error"], "{:.3f}"),
            "io kept": f"{spread(last[io].sum(axis=1))} of {int(first[io].sum(axis=1).iloc[0])}",
            "floor": spread(last["floor"]),
            "f > 0": spread(100 * np.asarray(sensed), "{:.1f}%"),
            "orders / prunes": f"{last['prune_orders'].mean():.0f} / {last['pruned'].mean():.0f}",
        }
    return pd.DataFrame.from_dict(rows, orient="index").fillna("").rename_axis("variant")


def sensing_table(runs: pd.DataFrame, pruning_phase: int = 20) -> pd.DataFrame:
    """What the glia sensed under each variant: is the activity ``f`` live, and does it differ
    between neurons? Mean [min, max] over seeds.

    Parameters
    ----------
    runs : DataFrame
        Per-epoch rows with ``variant`` and ``seed`` columns, as :func:`ablations` returns them.
    pruning_phase : int
        The epochs (1..pruning_phase) over which ``f > 0, early`` is measured: the sensing that
        can steer pruning happens while most pruning happens.

    Returns
    -------
    DataFrame
        Indexed by variant: ``f > 0`` the share of (glia, round) pairs with ``f > 0`` over the
        run and over the pruning phase; per glia layer ``L``, ``f mean lL`` the mean of ``f``
        and ``f sd lL`` its standard deviation between the (glia, round) pairs of an epoch,
        averaged over epochs; the final synapse count.
    """
    layers = sorted(int(c.removeprefix("f_mean_l")) for c in runs if c.startswith("f_mean_l"))
    rows = {}
    for name, variant in runs.groupby("variant", sort=False):
        trained = variant[variant["epoch"] > 0]
        per_seed = trained.groupby("seed")
        early = trained[trained["epoch"] <= pruning_phase].groupby("seed")
        row = {
            "f > 0": spread(100 * per_seed["f_active"].mean(), "{:.1f}%"),
            "f > 0, early": spread(100 * early["f_active"].mean(), "{:.1f}%"),
        }
        for layer in layers:
            row[f"f mean l{layer}"] = spread(per_seed[f"f_mean_l{layer}"].mean(), "{:.3f}")
            row[f"f sd l{layer}"] = spread(per_seed[f"f_sd_l{layer}"].mean(), "{:.3f}")
        row["final synapses"] = spread(per_seed["synapses"].last())
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("variant")

