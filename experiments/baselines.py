"""Pruning baselines on the NG network: what the glia are compared with.

Each baseline trains the paper's network with glia pruning off and removes synapses itself,
through the same Synapse-Agents (``synapse.prune()``), from the same pool the glia may prune.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from glianet.agents import SynapseAgent
from glianet.model import NGModel

STRATEGIES = ("glia", "magnitude one-shot", "magnitude gradual", "random", "none")


def prunable(model: NGModel) -> list[SynapseAgent]:
    """Synapses the glia could prune, that are still there, in slot order (read from the arrays,
    so that lazily made agents are counted too)."""
    s = model.state
    slots = np.flatnonzero(s.mask & s.prunable)
    return [model.synapse(int(s.pre[i]), int(s.post[i])) for i in slots]


def prune_smallest(model: NGModel, count: int) -> None:
    """Remove the ``count`` prunable synapses of smallest |w| (keeping one into each neuron)."""
    for synapse in sorted(prunable(model), key=lambda s: abs(s.weight)):
        if count <= 0:
            return
        if model.grid.G.in_degree(synapse.post) > 1:
            synapse.prune()
            count -= 1


def prune_random(model: NGModel, count: int, rng: np.random.Generator) -> None:
    """Remove ``count`` prunable synapses drawn at random (keeping one into each neuron)."""
    candidates = prunable(model)
    for k in rng.permutation(len(candidates)):
        if count <= 0:
            return
        synapse = candidates[k]
        if model.grid.G.in_degree(synapse.post) > 1:
            synapse.prune()
            count -= 1


def train_pruned(
    strategy: str, seed: int, target: int, epochs: int = 100, ramp: int = 40, **params
) -> tuple[pd.DataFrame, NGModel]:
    """Train with one pruning strategy until ``target`` synapses are left.

    Parameters
    ----------
    strategy : str
        ``"glia"`` (the model's own pruning; ``target`` is then ignored), ``"magnitude one-shot"``
        (train with all synapses for ``epochs // 2``, cut to ``target`` by |w|, train on),
        ``"magnitude gradual"`` (cut by |w| a little after each of the first ``ramp`` epochs),
        ``"random"`` (cut to ``target`` at random before training) or ``"none"``.
    seed : int
        The model's seed (same initial network for every strategy).
    target : int
        Synapses to end with.

    Returns
    -------
    (DataFrame, NGModel)
        Per-epoch data and the trained model.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy={strategy!r} is invalid: it must be one of {STRATEGIES}")
    model = NGModel(rng=seed, epochs=epochs, pruning=strategy == "glia", **params)
    rng = np.random.default_rng(seed)
    if strategy == "random":
        prune_random(model, model.synapse_count - target, rng)
    while model.running:
        model.step()
        excess = model.synapse_count - target
        if strategy == "magnitude one-shot" and model.epoch == epochs // 2:
            prune_smallest(model, excess)
        elif strategy == "magnitude gradual" and model.epoch <= ramp:
            prune_smallest(model, int(np.ceil(excess / (ramp - model.epoch + 1))))
    return model.datacollector.get_model_vars_dataframe(), model


def error_under_noise(
    model: NGModel, sigma: float, copies: int = 200, rng: np.random.Generator | None = None
) -> float:
    """Error rate on the task's patterns with Gaussian noise of std ``sigma`` on the inputs."""
    rng = rng or np.random.default_rng(0)
    inputs = np.repeat(model.task.inputs, copies, axis=0)
    targets = np.repeat(model.task.targets, copies, axis=0)
    noisy = inputs + rng.normal(0.0, sigma, inputs.shape)
    wrong = np.any((model.predict(noisy) > 0.5) != (targets > 0.5), axis=1)
    return float(wrong.mean())


def epochs_to_learn(epochs: pd.DataFrame) -> int | None:
    """First epoch from which the error stays 0 (None if it never does)."""
    errors = epochs["error"].to_numpy()
    for epoch in range(len(errors)):
        if not errors[epoch:].any():
            return int(epochs["epoch"].iloc[epoch])
    return None
