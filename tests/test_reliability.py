"""Checkpoints, invariants under random parameters, determinism across processes."""

import json
import subprocess
import sys
import zipfile

import hypothesis.strategies as st
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from glianet import NGModel
from glianet.agents import NeuroAgent, SynapseAgent
from glianet.agents.functions import SENSINGS
from glianet.checkpoint import CheckpointError
from glianet.tasks import AnyUpperBits

SHORT = {"epochs": 10, "samples_per_epoch": 500}


def finish(model):
    while model.running:
        model.step()
    return model


def assert_same_run(a, b):
    pd.testing.assert_frame_equal(
        a.datacollector.get_model_vars_dataframe(), b.datacollector.get_model_vars_dataframe(),
        rtol=0, atol=0,
    )  # fmt: skip
    assert np.array_equal(a.state.w, b.state.w) and np.array_equal(a.state.sig, b.state.sig)
    assert a.prune_log == b.prune_log


@pytest.mark.parametrize(
    "params",
    [
        {"engine": "vectorized"},
        {"engine": "agents", "protect_io": False},
        {"task": AnyUpperBits(4, 2), "layers": [4, 5, 5, 1], "glia_topology": nx.path_graph(5)},
    ],
)
def test_checkpoint_continues_exactly(tmp_path, params):
    straight = finish(NGModel(rng=3, **SHORT, **params))
    halfway = NGModel(rng=3, **SHORT, **params)
    for _ in range(5):
        halfway.step()
    halfway.save(tmp_path / "half.npz")
    resumed = finish(NGModel.load(tmp_path / "half.npz"))
    assert resumed.epoch == 10 and len(straight.prune_log) > 0
    assert_same_run(straight, resumed)
    assert len(resumed.agents_by_type[SynapseAgent]) == resumed.synapse_count


@pytest.fixture
def checkpoint_file(tmp_path):
    model = NGModel(rng=1, **SHORT)
    model.step()
    model.save(tmp_path / "model.npz")
    return tmp_path / "model.npz"


def rewrite(path, meta=None, extra=None, drop=()):
    """Rewrite a checkpoint's members (to build broken files)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files if name not in drop}
    if meta is not None:
        arrays["meta.json"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    arrays.update(extra or {})
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def read_meta(path):
    with np.load(path, allow_pickle=False) as npz:
        return json.loads(npz["meta.json"].tobytes())


def test_truncated_checkpoint_fails_cleanly(checkpoint_file):
    data = checkpoint_file.read_bytes()
    checkpoint_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupted"):
        NGModel.load(checkpoint_file)


def test_garbage_and_missing_files_fail_cleanly(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip file at all")
    with pytest.raises(CheckpointError):
        NGModel.load(garbage)
    with pytest.raises(CheckpointError, match="no such file"):
        NGModel.load(tmp_path / "missing.npz")


def test_wrong_version_fails_cleanly(checkpoint_file):
    rewrite(checkpoint_file, meta={**read_meta(checkpoint_file), "version": 99})
    with pytest.raises(CheckpointError, match="version 99"):
        NGModel.load(checkpoint_file)


def test_a_checkpoint_of_the_old_format_names_its_version(checkpoint_file):
    meta = read_meta(checkpoint_file)
    old = {k: v for k, v in meta.items() if k not in ("state", "diverged", "saturated")}
    old.update(version=1, collection_times=[0.0], **meta["state"])  # glianet 0.1's layout
    rewrite(checkpoint_file, meta=old)
    reason = r"checkpoint version 1 \(glianet 0.1's layout\); this glianet reads version 4"
    with pytest.raises(CheckpointError, match=reason):
        NGModel.load(checkpoint_file)


def test_a_version_3_checkpoint_is_refused_with_its_reason(checkpoint_file):
    meta = read_meta(checkpoint_file)
    v3 = {k: v for k, v in meta.items() if k != "saturated"}  # version 3 had no saturated status
    rewrite(checkpoint_file, meta={**v3, "version": 3})
    with pytest.raises(
        CheckpointError, match=r"checkpoint version 3 \(written before the saturated status.*"
        r"\); this glianet reads version 4",
    ):  # fmt: skip
        NGModel.load(checkpoint_file)


def test_the_diverged_status_is_saved(tmp_path):
    model = NGModel(rng=0, **SHORT)
    model.state.b[-1] = np.inf
    with pytest.warns(RuntimeWarning, match="NaN or infinite"):
        model.step()
    assert model.diverged
    model.save(tmp_path / "diverged.npz")
    loaded = NGModel.load(tmp_path / "diverged.npz")
    assert loaded.diverged == model.diverged and not loaded.running


def test_pickled_member_is_refused_and_never_run(checkpoint_file, tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    with zipfile.ZipFile(checkpoint_file) as archive:
        members = {name: archive.read(name) for name in archive.namelist() if name != "w.npy"}
    with zipfile.ZipFile(checkpoint_file, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        with archive.open("w.npy", "w") as member:
            hostile = np.array([Exploit()], dtype=object)
            np.lib.format.write_array(member, hostile, allow_pickle=True)
    with pytest.raises(CheckpointError):
        NGModel.load(checkpoint_file)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"params": {"task": "any-upper-3", "eta": -1.0}}, "eta"),
        ({"epoch": "five"}, "epoch"),
        ({"format": "something-else"}, "not a glianet"),
        ({"rng": {"bit_generator": "Nope", "state": {}}}, "checkpoint content"),
    ],
)
def test_bad_metadata_fails_cleanly(checkpoint_file, change, message):
    rewrite(checkpoint_file, meta={**read_meta(checkpoint_file), **change})
    with pytest.raises(CheckpointError, match=message):
        NGModel.load(checkpoint_file)


def test_wrong_array_shape_fails_cleanly(checkpoint_file):
    rewrite(checkpoint_file, extra={"w": np.zeros(3)})
    with pytest.raises(CheckpointError, match="'w'"):
        NGModel.load(checkpoint_file)


def test_same_seed_same_run_in_another_process(tmp_path):
    script = (
        "import sys, numpy as np\n"
        "from glianet import NGModel\n"
        "m = NGModel(rng=8, epochs=5, samples_per_epoch=500)\n"
        "while m.running: m.step()\n"
        "np.save(sys.argv[1], m.state.w)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "w.npy")], check=True)
    here = finish(NGModel(rng=8, epochs=5, samples_per_epoch=500))
    assert np.array_equal(np.load(tmp_path / "w.npy"), here.state.w)


def test_divergence_stops_the_run_and_keeps_its_data():
    model = NGModel(rng=0, **SHORT)
    model.step()
    model.state.b[-1] = np.inf
    with pytest.warns(RuntimeWarning, match="NaN or infinite"):
        model.step()
    assert not model.running and "epoch 2" in model.diverged
    assert len(model.datacollector.get_model_vars_dataframe()) == 3


networks = st.lists(st.integers(1, 5), min_size=0, max_size=3)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hidden=networks,
    sig0=st.floats(0.0, 1.0),
    A=st.floats(0.0, 0.5),
    alpha=st.floats(0.0, 0.5),
    z=st.floats(0.0, 3.0),
    sensing=st.sampled_from(sorted(SENSINGS)),
    empty_order_resets=st.booleans(),
    mini_batch_size=st.integers(1, 60),
    protect_io=st.booleans(),
    keep_last_synapse=st.booleans(),
    sig_rule=st.sampled_from(["logistic", "printed", "logistic-flipped"]),
    topology=st.sampled_from(["synaptic", "ring", "complete", "none"]),
    activation=st.sampled_from(["sigmoid", "tanh", "relu"]),
    engine=st.sampled_from(["vectorized", "agents"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_invariants_hold_after_every_step(
    hidden, sig0, A, alpha, z, sensing, empty_order_resets, mini_batch_size, protect_io,
    keep_last_synapse, sig_rule, topology, activation, engine, seed,
):  # fmt: skip
    model = NGModel(
        layers=[6, *hidden, 1], sig0=sig0, A=A, alpha=alpha, z=z, sensing=sensing,
        empty_order_resets=empty_order_resets,
        mini_batch_size=mini_batch_size, protect_io=protect_io,
        keep_last_synapse=keep_last_synapse, sig_rule=sig_rule, glia_topology=topology,
        activation=activation, engine=engine, rng=seed, epochs=3, samples_per_epoch=120,
    )  # fmt: skip
    neurons = set(model.agents_by_type[NeuroAgent])
    while model.running:
        model.step()
        synapses = list(model.agents.select(agent_type=SynapseAgent))
        edges = set(model.grid.G.edges)
        assert {(a.pre, a.post) for a in synapses} == edges
        assert len(synapses) == model.synapse_count == int(model.state.mask.sum())
        row = model.datacollector.get_model_vars_dataframe().iloc[-1]
        assert row["synapses"] == len(edges)
        nodes = {n.index for n in neurons}
        assert all(a.pre in nodes and a.post in nodes for a in synapses)
        assert set(model.agents_by_type[NeuroAgent]) == neurons
        assert np.all((model.state.sig >= 0.0) & (model.state.sig <= 1.0))
        # Only the sensed activity may be missing, and only in an epoch without a pruning round.
        sensed = row.index.str.startswith("f_")
        assert not row[~sensed].isna().any(), f"NaN reported: {row[row.isna()]}"
        assert row[sensed].isna().all() == (not model.round_activity)
        if keep_last_synapse:
            pruned_into = {p["post"] for p in model.prune_log}
            assert all(model.grid.G.in_degree(n) >= 1 for n in pruned_into)


@pytest.mark.parametrize(("plateau", "stable_tol"), [("reward", 0.2), ("weights", 0.1)])
@pytest.mark.parametrize("engine", ["vectorized", "agents"])
def test_masda_checkpoint_continues_exactly(tmp_path, engine, plateau, stable_tol):
    from glianet.model import MASDAModel

    params = {"n_units": 16, "stable_window": 3, "stable_age": 6, "stable_tol": stable_tol,
              "min_age": 2, "cull_rate": 0.3, "score_scale": 0.01, "eta": 0.05,
              "pretrain_epochs": 16, "plateau": plateau}  # fmt: skip
    params["engine"] = engine
    straight = finish(MASDAModel(rng=1, **params))
    halfway = MASDAModel(rng=1, **params)
    for _ in range(8):
        halfway.step()
    halfway.save(tmp_path / "masda.npz")
    resumed = finish(MASDAModel.load(tmp_path / "masda.npz"))
    a = straight.datacollector.get_model_vars_dataframe()
    assert a["culled"].sum() > 0 and a["B_d1"].iloc[-1] > 0, "culling and stabilizing happened"
    assert a["stabilized"].iloc[9:].sum() > 0, "and units turned stable after the save"
    pd.testing.assert_frame_equal(a, resumed.datacollector.get_model_vars_dataframe())
    size = straight.units.size
    assert resumed.units.size == size
    assert np.array_equal(straight.units.W[:size, :size], resumed.units.W[:size, :size])
    if plateau == "weights":  # the marks the plateau compares with came back too
        assert np.array_equal(straight.units.W_mark[:size, :size],
                              resumed.units.W_mark[:size, :size])  # fmt: skip
    assert set(straight.grid.G.edges) == set(resumed.grid.G.edges)


def test_loading_the_other_models_checkpoint_fails_cleanly(checkpoint_file):
    from glianet.model import MASDAModel

    with pytest.raises(CheckpointError, match="not a glianet-masda-checkpoint"):
        MASDAModel.load(checkpoint_file)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_units=st.integers(1, 8),
    eta=st.floats(0.001, 0.5),
    corruption=st.floats(0.0, 1.0),
    hidden_corruption=st.floats(0.0, 1.0),
    stable_window=st.integers(1, 3),
    stable_tol=st.floats(0.0, 1.0),
    cull=st.sampled_from(["stochastic", "fraction"]),
    cull_rate=st.floats(0.0, 1.0),
    cull_fraction=st.floats(0.0, 0.9),
    layer_free=st.booleans(),
    min_age=st.integers(0, 3),
    max_depth=st.integers(1, 3),
    engine=st.sampled_from(["vectorized", "agents"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_masda_invariants_hold_after_every_step(
    n_units, eta, corruption, hidden_corruption, stable_window, stable_tol, cull, cull_rate,
    cull_fraction, layer_free, min_age, max_depth, engine, seed,
):  # fmt: skip
    from glianet.agents.masda import VARIABLE
    from glianet.model import MASDAModel

    model = MASDAModel(
        n_units=n_units, eta=eta, corruption=corruption, hidden_corruption=hidden_corruption,
        stable_window=stable_window, stable_age=stable_window, stable_tol=stable_tol, cull=cull,
        cull_rate=cull_rate, cull_fraction=cull_fraction, layer_free=layer_free, min_age=min_age,
        max_depth=max_depth, engine=engine, rng=seed, pretrain_epochs=4,
    )  # fmt: skip
    while model.running:
        model.step()
        u = model.units
        alive = {s for s in range(u.size) if u.alive[s]}
        assert set(model.grid.G.nodes) == alive == set(model.units.unit_by_slot)
        assert {a.slot for a in model.agents} == alive
        variables = [s for s in alive if u.kind[s] == VARIABLE]
        assert len(variables) == n_units, "culled units are replaced one for one"
        for s in variables:
            depth = u.depth[s]
            assert depth == -1 or 1 <= depth <= max_depth
        dead = [s for s in range(u.size) if not u.alive[s]]
        assert not u.W[dead, : u.size].any() and not u.W[: u.size, dead].any()
        # a score is a running mean of credit (an error reduction, of either sign); the reward
        # a unit receives is 1 - |delta| of sigmoid predictions of values in [0, 1]
        assert np.isfinite(u.score[variables]).all()
        assert np.all((u.reward[variables] >= 0) & (u.reward[variables] <= 1))
        assert not model.scheduler.in_flight, "no message outlives its sample"
        row = model.datacollector.get_model_vars_dataframe().iloc[-1]
        assert not row.isna().any()
