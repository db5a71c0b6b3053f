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


def plot_synapses_and_error(epochs: pd.DataFrame) -> Figure:
    """Synapse count and error per epoch, pruning vs no pruning (the paper's Figure 3.2).

    Parameters
    ----------
    epochs : DataFrame
        One row per (seed, pruning, epoch) with columns ``synapses`` and ``error``.

    Returns
    -------
    matplotlib Figure
        Two panels; lines are the mean over seeds, bands the range.
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
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
    top.set_title(f"mean over {epochs['seed'].nunique()} seeds, band = range")
    fig.tight_layout()
    return fig


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
    for slot in sorted(model.unit_by_slot):
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
    ax.set_xlabel("depth")
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax.set_title(f"epoch {model.epoch}: {len(pos)} units")
    return ax
