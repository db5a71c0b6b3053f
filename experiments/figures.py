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
