"""Figures of the NG paper, drawn with matplotlib from a model or from per-epoch results."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def draw_network(model, ax: Axes | None = None, show_sig: bool = True) -> Axes:
    """Draw an NG network in layers, left to right (the paper's Figure 3.1).

    Synapses are red (positive weight) or blue (negative), line width ~ |w|; with ``show_sig``
    each neuron that has a Glia-Agent is shaded by its sig (dark = inhibited, light = about to
    prune).

    Parameters
    ----------
    model : NGModel
        The network to draw, as it is now.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if omitted.
    show_sig : bool
        Shade glia neurons by sig.

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    graph = model.grid.G
    pos = {node: model.grid[node].position for node in graph.nodes}
    weights = np.array([graph.edges[e]["synapse"].weight for e in graph.edges])
    scale = 3.0 / max(np.abs(weights).max(), 1e-12) if len(weights) else 1.0
    for (pre, post), w in zip(graph.edges, weights, strict=True):
        (x0, y0), (x1, y1) = pos[pre], pos[post]
        ax.plot(
            [x0, x1], [y0, y1], color="tab:red" if w > 0 else "tab:blue",
            linewidth=0.2 + abs(w) * scale, alpha=0.75, zorder=1,
        )  # fmt: skip
    xy = np.array([pos[node] for node in graph.nodes])
    colours = []
    for neuron in model.neurons:
        if show_sig and neuron.glia is not None:
            colours.append(plt.cm.Greens(0.25 + 0.75 * neuron.glia.sig))
        else:
            colours.append("white")
    ax.scatter(xy[:, 0], xy[:, 1], s=220, c=colours, edgecolors="black", zorder=2)
    ax.set_xticks(range(len(model.layers)))
    ax.set_xticklabels(["input"] + [f"hidden {i}" for i in range(1, len(model.layers) - 1)]
                       + ["output"])  # fmt: skip
    ax.set_yticks([])
    ax.set_title(f"{model.synapse_count} synapses (red +, blue -, width ~ |w|)")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return ax


def plot_synapses_and_error(epochs: pd.DataFrame, figure: Figure | None = None) -> Figure:
    """Synapse count and error per epoch, pruning vs no pruning (the paper's Figure 3.2).

    Parameters
    ----------
    epochs : DataFrame
        One row per (seed, pruning, epoch) with columns ``synapses`` and ``error``, as
        ``glianet reproduce`` writes, or as :func:`runs_frame` makes of live models.
    figure : matplotlib Figure, optional
        Where to draw; a new one if omitted.

    Returns
    -------
    matplotlib Figure
        Two panels; lines are the mean over seeds, bands the range (with several seeds).
    """
    if figure is None:
        figure = plt.figure(figsize=(7, 6))
    top, bottom = figure.subplots(2, 1, sharex=True)
    for pruning, colour, label in ((True, "tab:red", "pruning"), (False, "tab:blue", "no pruning")):
        runs = epochs[epochs["pruning"] == pruning]
        if runs.empty:
            continue
        for ax, column in ((top, "synapses"), (bottom, "error")):
            stats = runs.groupby("epoch")[column].agg(["mean", "min", "max"])
            ax.plot(stats.index, stats["mean"], color=colour, marker="o", markersize=2.5,
                    label=label)  # fmt: skip
            ax.fill_between(stats.index, stats["min"], stats["max"], color=colour, alpha=0.2)
    top.set_ylabel("synapses")
    bottom.set_ylabel("error rate")
    bottom.set_xlabel("epoch")
    top.legend()
    seeds = epochs["seed"].nunique()
    if seeds > 1:
        top.set_title(f"mean over {seeds} seeds, band = range")
    figure.tight_layout()
    return figure


def runs_frame(models: dict, seed: int = 0) -> pd.DataFrame:
    """The per-epoch data of live NG models as one table, keyed ``{pruning: model}``."""
    return pd.concat(
        [
            model.datacollector.get_model_vars_dataframe().assign(pruning=pruning, seed=seed)
            for pruning, model in models.items()
        ],
        ignore_index=True,
    )


def plot_population(epochs: pd.DataFrame, max_depth: int, ax: Axes | None = None) -> Axes:
    """MASDA's variable units per depth and state over pretraining (mean over seeds).

    Parameters
    ----------
    epochs : DataFrame
        The MASDA DataCollector's per-epoch data, of one run or several (a ``seed`` column).
    max_depth : int
        Depths to show.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if omitted.

    Returns
    -------
    matplotlib Axes
    """
    from glianet.model import MASDAModel

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    mean = epochs.groupby("epoch").mean(numeric_only=True)
    for d in range(1, max_depth + 1):
        for stable, style, state in ((False, "--", "A, learning"), (True, "-", "B, stable")):
            column = MASDAModel.units_column(d, stable)
            ax.plot(mean.index, mean[column], style, label=f"depth {d}, {state}")
    ax.set_xlabel("pretraining epoch")
    ax.set_ylabel("variable units")
    seeds = epochs["seed"].nunique() if "seed" in epochs else 1
    ax.set_title(f"MASDA unit population{f' (mean over {seeds} seeds)' if seeds > 1 else ''}")
    ax.legend(fontsize=7)
    return ax


def plot_reconstruction(epochs: pd.DataFrame, max_depth: int, ax: Axes | None = None) -> Axes:
    """MASDA's reconstruction error per depth, and the label error, per epoch.

    Parameters
    ----------
    epochs : DataFrame
        The MASDA DataCollector's per-epoch data.
    max_depth : int
        Depths to show.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if omitted.

    Returns
    -------
    matplotlib Axes
    """
    from glianet.model import MASDAModel

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    trained = epochs[epochs["epoch"] > 0].groupby("epoch").mean(numeric_only=True)
    for d in range(max_depth):
        column = MASDAModel.reconstruction_column(d)
        ax.plot(trained.index, trained[column], label=f"reconstruction, depth {d}")
    ax.plot(trained.index, trained["label_error"], ":", label="labels")
    ax.set_xlabel("pretraining epoch")
    ax.set_ylabel("squared error")
    ax.legend(fontsize=7)
    return ax


#: Colours of MASDA units by kind and state.
UNIT_COLOURS = {
    "constant": "0.6", "variable A": "tab:orange", "variable B": "tab:green",
    "reward": "tab:purple", "unconnected": "white",
}  # fmt: skip


def unit_category(model, slot: int) -> str:
    """``"constant"``, ``"variable A"``, ``"variable B"``, ``"reward"`` or ``"unconnected"``."""
    from glianet.agents.masda import CONSTANT, REWARD

    u = model.units
    if u.kind[slot] == CONSTANT:
        return "constant"
    if u.kind[slot] == REWARD:
        return "reward"
    if u.depth[slot] < 0:
        return "unconnected"
    return "variable B" if u.stable[slot] else "variable A"


def draw_units(model, ax: Axes | None = None, max_edges: int = 3000) -> Axes:
    """Draw MASDA's units by depth: constants and variable units at their depth, each reward
    unit just left of the depth it predicts, unconnected units floating on the left.

    Parameters
    ----------
    model : MASDAModel
        The population to draw, as it is now.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if omitted.
    max_edges : int
        Edges are drawn (faintly) only up to this many.

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    u = model.units
    columns: dict[float, list[int]] = {}
    category = {}
    for slot in sorted(model.units.unit_by_slot):
        category[slot] = unit_category(model, slot)
        x = {"reward": u.depth[slot] - 0.35, "unconnected": -0.8}.get(
            category[slot], float(max(u.depth[slot], 0))
        )
        columns.setdefault(x, []).append(slot)
    pos = {}
    for x, slots in columns.items():
        for i, slot in enumerate(slots):
            pos[slot] = (x, (len(slots) - 1) / 2 - i)
    edges = list(model.grid.G.edges)
    if len(edges) <= max_edges:
        for pre, post in edges:
            (x0, y0), (x1, y1) = pos[pre], pos[post]
            ax.plot([x0, x1], [y0, y1], color="0.8", linewidth=0.3, zorder=1)
    for name, colour in UNIT_COLOURS.items():
        slots = [s for s in pos if category[s] == name]
        if slots:
            xy = np.array([pos[s] for s in slots])
            ax.scatter(xy[:, 0], xy[:, 1], s=30, c=colour, edgecolors="black",
                       linewidths=0.5, label=f"{name} ({len(slots)})", zorder=2)  # fmt: skip
    ax.set_yticks([])
    ax.set_xticks(range(model.max_depth + 1))  # depths are whole numbers
    ax.set_xlim(-1.2, model.max_depth + 0.5)
    ax.set_xlabel("depth")
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax.set_title(f"epoch {model.epoch}: {len(pos)} units")
    return ax
