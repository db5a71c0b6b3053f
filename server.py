"""glianet in the browser: watch NG prune itself or MASDA grow its population, epoch by epoch.

Start with ``glianet serve`` (or ``solara run server.py``); it listens on 127.0.0.1 unless told
otherwise. The app only displays: the models, their drawings and their data come from glianet.
"""

from __future__ import annotations

import weakref

import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from glianet.experiments.figures import draw_network, draw_units
from glianet.model import MASDAModel, NGModel


def slider(label, value, low, high, step, integer=False):
    """A Mesa SolaraViz slider parameter."""
    kind = "SliderInt" if integer else "SliderFloat"
    return {"type": kind, "value": value, "label": label, "min": low, "max": high, "step": step}


def select(label, value, values):
    """A Mesa SolaraViz drop-down parameter."""
    return {"type": "Select", "value": value, "label": label, "values": list(values)}


def checkbox(label, value):
    """A Mesa SolaraViz check-box parameter."""
    return {"type": "Checkbox", "value": value, "label": label}


NG_PARAMS = {
    "rng": slider("seed", 0, 0, 999, 1, integer=True),
    "pruning": checkbox("glia pruning", True),
    "z": slider("outlier z", 2.3, 0.5, 3.0, 0.1),
    "sig0": slider("initial sig", 0.5, 0.0, 1.0, 0.05),
    "A": slider("burst loss per hop A", 0.01, 0.0, 0.2, 0.005),
    "alpha": slider("sig step alpha", 0.01, 0.0, 0.1, 0.005),
    "eta": slider("learning rate eta", 0.5, 0.05, 2.0, 0.05),
    "mini_batch_size": slider("mini-batch size", 100, 10, 500, 10, integer=True),
    "samples_per_epoch": slider("samples per epoch", 2000, 100, 10000, 100, integer=True),
    "epochs": slider("epochs", 100, 1, 500, 1, integer=True),
    "sig_rule": select("sig rule", "logistic", ("logistic", "printed", "logistic-flipped")),
    "activation": select("activation", "sigmoid", ("sigmoid", "tanh", "relu")),
    "glia_topology": select("glia network", "synaptic", ("synaptic", "ring", "complete", "none")),
    "protect_io": checkbox("protect input/output synapses", True),
    "keep_last_synapse": checkbox("keep last incoming synapse", True),
    "engine": select("engine", "vectorized", ("vectorized", "agents")),
}

MASDA_PARAMS = {
    "rng": slider("seed", 0, 0, 999, 1, integer=True),
    "task": select("data", "any-upper-3", ("any-upper-3", "digits")),
    "n_units": slider("variable units", 16, 1, 200, 1, integer=True),
    "eta": slider("learning rate eta", 0.01, 0.0005, 0.1, 0.0005),
    "corruption": slider("input corruption", 0.2, 0.0, 1.0, 0.05),
    "hidden_corruption": slider("stable unit corruption", 0.2, 0.0, 1.0, 0.05),
    "stable_score": slider("score to stabilize", 0.8, 0.0, 1.0, 0.01),
    "stable_tol": slider("weight change to stabilize", 0.02, 0.0, 0.5, 0.005),
    "cull_fraction": slider("cull fraction", 0.1, 0.0, 0.9, 0.05),
    "min_age": slider("min age before culling", 5, 0, 50, 1, integer=True),
    "max_depth": slider("max depth", 2, 1, 5, 1, integer=True),
    "pretrain_epochs": slider("pretraining epochs", 30, 1, 300, 1, integer=True),
    "latency": slider("message latency", 0.0, 0.0, 5.0, 0.5),
    "engine": select("engine", "vectorized", ("vectorized", "agents")),
}

# The no-pruning run of the same seed, stepped alongside the one on screen.
_baselines: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def no_pruning_twin(model: NGModel) -> NGModel | None:
    """The same run without pruning, advanced to the same epoch (None if pruning is off)."""
    if not model.pruning:
        return None
    twin = _baselines.get(model)
    if twin is None or twin.epoch > model.epoch:
        twin = _baselines[model] = model.twin(pruning=False)
    while twin.epoch < model.epoch:
        twin.step()
    return twin


@solara.component
def Panel(model, draw):
    """One matplotlib figure drawn by ``draw(model, figure)``, redrawn after every step."""
    update_counter.get()
    figure = Figure(figsize=(7, 4.2))
    draw(model, figure)
    solara.FigureMatplotlib(figure, format="png", bbox_inches="tight")


def panel(draw):
    """A SolaraViz component (model -> element) showing ``draw``'s figure."""
    return lambda model: Panel(model, draw)


def ng_network(model: NGModel, figure: Figure) -> None:
    """The network in layers; synapses red/blue, width ~ |w|; neurons shaded by their glia's sig."""
    draw_network(model, figure.subplots())


def ng_curves(model: NGModel, figure: Figure) -> None:
    """Synapses and error per epoch, beside the no-pruning run of the same seed."""
    top, bottom = figure.subplots(2, 1, sharex=True)
    runs = [(model, "tab:red", "pruning" if model.pruning else "no pruning")]
    twin = no_pruning_twin(model)
    if twin is not None:
        runs.append((twin, "tab:blue", "no pruning"))
    for run, colour, label in runs:
        data = run.datacollector.get_model_vars_dataframe()
        top.plot(data["epoch"], data["synapses"], color=colour, marker=".", label=label)
        bottom.plot(data["epoch"], data["error"], color=colour, marker=".", label=label)
    top.set_ylabel("synapses")
    bottom.set_ylabel("error rate")
    bottom.set_xlabel("epoch")
    top.legend()


def masda_units(model: MASDAModel, figure: Figure) -> None:
    """Units by depth, coloured by kind and state."""
    draw_units(model, figure.subplots())


def masda_curves(model: MASDAModel, figure: Figure) -> None:
    """Units per state and depth, and reconstruction error per depth, per epoch."""
    top, bottom = figure.subplots(2, 1, sharex=True)
    data = model.datacollector.get_model_vars_dataframe()
    for d in range(1, model.max_depth + 1):
        top.plot(data["epoch"], data[f"A_d{d}"], "--", label=f"A, depth {d}")
        top.plot(data["epoch"], data[f"B_d{d}"], "-", label=f"B, depth {d}")
    trained = data[data["epoch"] > 0]  # errors exist once an epoch has run
    for d in range(model.max_depth):
        bottom.plot(trained["epoch"], trained[f"recon_d{d}"], label=f"reconstruction, depth {d}")
    bottom.plot(trained["epoch"], trained["label_error"], ":", label="labels")
    top.set_ylabel("variable units")
    bottom.set_ylabel("squared error")
    bottom.set_xlabel("epoch")
    top.legend(fontsize=7)
    bottom.legend(fontsize=7)


MODELS = {
    "NG": (NGModel, NG_PARAMS, [(panel(ng_network), 0), (panel(ng_curves), 0)]),
    "MASDA": (MASDAModel, MASDA_PARAMS, [(panel(masda_units), 0), (panel(masda_curves), 0)]),
}
chosen = solara.reactive("NG")


def first_model(name: str):
    """The model a page opens with: every parameter at its slider's default."""
    cls, params, _ = MODELS[name]
    return cls(**{key: spec["value"] for key, spec in params.items()})


@solara.component
def Page():
    """Choose NG or MASDA; each has its own SolaraViz with parameters, Step, Play and Reset."""
    name = chosen.value
    model = solara.use_memo(lambda: first_model(name), dependencies=[name])
    with solara.AppBar():
        solara.ToggleButtonsSingle(value=chosen, values=list(MODELS))
    _, params, components = MODELS[name]
    # keyed by model: switching remounts SolaraViz, which keeps its first model otherwise
    SolaraViz(model, components=components, model_params=params, name=f"glianet: {name}").key(name)
