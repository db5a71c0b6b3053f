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

from glianet.experiments.figures import (
    draw_network,
    draw_units,
    plot_population,
    plot_reconstruction,
    plot_synapses_and_error,
    runs_frame,
)
from glianet.model import MASDAModel, NGModel
from glianet.parameters import ParameterTable


def controls(table: ParameterTable) -> dict:
    """SolaraViz controls for the parameters of ``table`` that have one (and the seed)."""
    params = {"rng": {"type": "SliderInt", "value": 0, "label": "seed", "min": 0, "max": 999,
                      "step": 1}}  # fmt: skip
    for p in table:
        if p.ui is None:
            continue
        if p.kind == "bool":
            params[p.name] = {"type": "Checkbox", "value": p.default, "label": p.label}
        elif p.choices:
            params[p.name] = {"type": "Select", "value": p.default, "label": p.label,
                              "values": list(p.choices)}  # fmt: skip
        else:
            low, high, step = p.ui
            kind = "SliderInt" if p.kind == "int" else "SliderFloat"
            params[p.name] = {"type": kind, "value": p.default, "label": p.label, "min": low,
                              "max": high, "step": step}  # fmt: skip
    return params


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
    runs = {model.pruning: model}
    twin = no_pruning_twin(model)
    if twin is not None:
        runs[False] = twin
    plot_synapses_and_error(runs_frame(runs), figure)


def masda_units(model: MASDAModel, figure: Figure) -> None:
    """Units by depth, coloured by kind and state."""
    draw_units(model, figure.subplots())


def masda_curves(model: MASDAModel, figure: Figure) -> None:
    """Units per state and depth, and reconstruction error per depth, per epoch."""
    top, bottom = figure.subplots(2, 1, sharex=True)
    data = model.datacollector.get_model_vars_dataframe()
    plot_population(data, model.max_depth, top)
    plot_reconstruction(data, model.max_depth, bottom)


MODELS = {
    "NG": (NGModel, controls(NGModel.parameters), [(panel(ng_network), 0), (panel(ng_curves), 0)]),
    "MASDA": (
        MASDAModel,
        controls(MASDAModel.parameters),
        [(panel(masda_units), 0), (panel(masda_curves), 0)],
    ),
}
chosen = solara.reactive("NG")

#: Every slider shows its value: SolaraViz's sliders show it only while dragged (Vuetify's
#: thumb label), so a user could not read the eta or z they set.
SLIDER_VALUES_CSS = """
.v-slider__thumb-label-container { display: block !important; }
.v-slider__thumb-label { transform: translateY(-8px) translateX(-50%) rotate(0deg) !important;
                         border-radius: 4px !important; width: auto !important;
                         min-width: 32px; padding: 0 4px; height: 20px !important; }
.v-slider__thumb-label > * { transform: none !important; }
"""


def first_model(name: str):
    """The model a page opens with: every parameter at its slider's default."""
    cls, params, _ = MODELS[name]
    return cls(**{key: spec["value"] for key, spec in params.items()})


@solara.component
def Page():
    """Choose NG or MASDA; each has its own SolaraViz with parameters, Step, Play and Reset."""
    name = chosen.value
    model = solara.use_memo(lambda: first_model(name), dependencies=[name])
    solara.Style(SLIDER_VALUES_CSS)
    with solara.AppBar():
        solara.ToggleButtonsSingle(value=chosen, values=list(MODELS))
    _, params, components = MODELS[name]
    # keyed by model: switching remounts SolaraViz, which keeps its first model otherwise
    SolaraViz(model, components=components, model_params=params, name=f"glianet: {name}").key(name)
