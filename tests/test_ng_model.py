"""The NG model as a whole: engines, determinism, parameters, Mesa integration, the CLI."""

import re

import numpy as np
import pandas as pd
import pytest
from mesa.batchrunner import batch_run

from glianet import NGModel
from glianet.agents import GliaAgent, NeuroAgent, SynapseAgent
from glianet.cli import main
from glianet.experiments.ng_paper import run_ng

SHORT = {"epochs": 12, "samples_per_epoch": 1000}


def trajectory(engine, seed=11, **params):
    epochs, model = run_ng(seed, engine=engine, **{**SHORT, **params})
    return epochs, model


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"protect_io": False, "sig0": 0.2},
        {"sig_rule": "logistic-flipped", "activation": "tanh"},
        {"sensing": "layer-sample", "empty_order_resets": False},
        {"sensing": "synaptic", "protect_io": False},
        {"sensing": "running", "sig0": 0.3},
        {"sensing": "off"},
        {"output": "softmax-ce", "task": "upper-classes", "layers": [6, 8, 8, 8, 3]},
    ],
)
def test_engines_follow_the_same_trajectory(params):
    per_agent, a = trajectory("agents", **params)
    vectorized, v = trajectory("vectorized", **params)
    assert len(a.prune_log) >= 3, "the case must exercise pruning"
    # Same synapses pruned at the same sample ...
    assert [(p["sample"], p["pre"], p["post"]) for p in a.prune_log] == [
        (p["sample"], p["pre"], p["post"]) for p in v.prune_log
    ]
    # ... and the same numbers.
    pd.testing.assert_frame_equal(per_agent, vectorized, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.state.w, v.state.w, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.state.b, v.state.b, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.state.sig, v.state.sig, rtol=0, atol=1e-9)
    for name in ("run_mean", "run_var", "run_n"):
        np.testing.assert_allclose(getattr(a.state, name), getattr(v.state, name), atol=1e-9)
    assert a.rng.random() == v.rng.random(), "both engines drew the same random numbers"


@pytest.mark.parametrize("engine", ["agents", "vectorized"])
def test_same_seed_same_run_other_seed_other_run(engine):
    first, m1 = trajectory(engine, seed=4)
    again, m2 = trajectory(engine, seed=4)
    other, m3 = trajectory(engine, seed=5)
    pd.testing.assert_frame_equal(first, again, rtol=0, atol=0)
    assert np.array_equal(m1.state.w, m2.state.w)
    assert m1.prune_log == m2.prune_log
    assert not np.array_equal(m1.state.w, m3.state.w)


@pytest.mark.parametrize("rng", [4, np.random.default_rng(4)])
def test_twin_replays_the_same_seed(rng):
    model = NGModel(rng=rng, **SHORT)
    twin = model.twin()
    np.testing.assert_array_equal(twin.state.w, model.state.w)
    for m in (model, twin):
        while m.running:
            m.step()
    assert twin.prune_log == model.prune_log
    np.testing.assert_array_equal(twin.state.w, model.state.w)


def test_agents_space_and_arrays_agree_while_pruning():
    model = NGModel(rng=2, **SHORT)
    while model.running:
        model.step()
        synapses = list(model.agents_by_type[SynapseAgent])
        edges = set(model.grid.G.edges)
        assert {(a.pre, a.post) for a in synapses} == edges
        assert len(synapses) == model.state.mask.sum() == model.synapse_count
        assert all(model.grid.G.edges[e]["synapse"].weight != 0.0 for e in edges)
        for pre, post in edges:
            assert model.grid[post] in model.grid[pre].connections.values()
        assert sum(len(cell.connections) for cell in model.grid.all_cells) == len(edges)
        assert model.state.sig.min() >= 0.0 and model.state.sig.max() <= 1.0
    assert model.synapse_count < 184
    assert len(model.agents_by_type[NeuroAgent]) == 31
    assert len(model.agents_by_type[GliaAgent]) == 16


def test_step_is_an_epoch_and_the_model_stops_itself():
    model = NGModel(rng=0, epochs=3, samples_per_epoch=250)
    steps = 0
    while model.running:
        model.step()
        steps += 1
    assert steps == 3 and model.epoch == 3
    assert model.state.samples_seen == 750
    data = model.datacollector.get_model_vars_dataframe()
    assert list(data["epoch"]) == [0, 1, 2, 3]
    for column in (
        "synapses", "error", "mse", "mean_sig", "prune_orders", "pruned", "empty_orders",
        "synapses_l2", "f_mean_l2", "f_sd_l3", "f_active_l2", "f_active",
    ):  # fmt: skip
        assert column in data


def test_no_pruning_keeps_every_synapse_and_learns():
    epochs, model = run_ng(0, pruning=False, epochs=15)
    assert (epochs["synapses"] == 184).all()
    assert epochs["error"].iloc[-1] == 0.0 and epochs["mse"].iloc[-1] < 0.01
    assert model.prune_orders == 0


def test_runs_under_mesa_batch_run():
    rows = batch_run(
        NGModel,
        parameters={"layers": [[6, 8, 8, 8, 1]], "z": [2.0, 2.3], "epochs": 2},
        rng=[1, 2],
        max_steps=50,
        data_collection_period=1,
        number_processes=1,
        display_progress=False,
    )
    frame = pd.DataFrame(rows)
    assert len(frame) == 2 * 2 * 3  # 2 z values x 2 seeds x (epoch 0, 1, 2)
    assert set(frame["z"]) == {2.0, 2.3}
    assert frame.groupby(["z", "rng"])["Step"].max().eq(2).all()


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"layers": [6, -8, 1]}, "layers[1]"),
        ({"layers": [6, 8, 2]}, "layers"),
        ({"eta": 0.0}, "eta"),
        ({"eta": -0.5}, "eta"),
        ({"sig0": 1.5}, "sig0"),
        ({"sig0": -0.1}, "sig0"),
        ({"sig_rule": "tanh"}, "sig_rule"),
        ({"engine": "gpu"}, "engine"),
        ({"mini_batch_size": 0}, "mini_batch_size"),
        ({"z": float("nan")}, "z"),
        ({"activation": "softmax"}, "activation"),
        ({"glia_topology": "star"}, "glia_topology"),
        ({"glia_layers": [7]}, "glia_layers"),
        ({"task": "parity"}, "task"),
        ({"pruning": "yes"}, "pruning"),
        ({"sensing": "nearest"}, "sensing"),
        ({"z": -1.0}, "z"),
        ({"empty_order_resets": 1}, "empty_order_resets"),
        ({"output": "softmax"}, "output"),
        ({"output": "softmax-ce"}, "output"),  # one output: no distribution to learn
    ],
)
def test_bad_parameters_raise_a_clear_value_error(params, named):
    with pytest.raises(ValueError, match=rf"^{re.escape(named)}"):
        NGModel(**params)


def test_cli_reproduce_writes_outputs_and_keeps_them(tmp_path, capsys):
    out = tmp_path / "ng"
    args = ["reproduce", "--out", str(out), "--seeds", "2", "--epochs", "3"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "final synapses" in printed and "paper" in printed
    epochs = pd.read_csv(out / "ng_epochs.csv")
    assert {"seed", "pruning", "epoch", "synapses", "error", "mse"} <= set(epochs.columns)
    assert len(epochs) == 2 * 2 * 4
    for figure in ("fig_3_1_pruned_network.png", "fig_3_2_synapses_and_error.png"):
        assert (out / figure).read_bytes()[:4] == b"\x89PNG"
    before = (out / "ng_epochs.csv").read_bytes()
    assert main(args + ["--set", "z=2.0"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "ng_epochs.csv").read_bytes() == before
    assert main(args + ["--set", "z=2.0", "--force"]) == 0


def test_cli_rejects_bad_parameters_before_running(tmp_path, capsys):
    assert main(["reproduce", "--out", str(tmp_path), "--set", "eta=-1"]) == 2
    assert "eta=-1" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
