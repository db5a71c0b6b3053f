"""The vectorized engine's compiled kernels: both layer layouts, and compiled code that follows
the rules' source."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glianet
from glianet import NGModel
from glianet.agents import SynapseAgent
from glianet.experiments.ng_paper import run_ng
from glianet.schedules import kernels


def prune(model, share, seed=0):
    """Remove ``share`` of each layer's synapses at random, through their agents."""
    rng = np.random.default_rng(seed)
    for agent in list(model.agents_by_type[SynapseAgent]):
        if rng.random() < share:
            agent.remove()


@pytest.mark.parametrize("density", [0.0, 1.0], ids=["all-dense", "all-packed"])
def test_both_layouts_follow_the_agents_to_the_last_bit(monkeypatch, density):
    monkeypatch.setattr(kernels, "PACKED_DENSITY", density)
    params = {"epochs": 8, "samples_per_epoch": 1000, "protect_io": False, "sig0": 0.2}
    per_agent, a = run_ng(3, engine="agents", **params)
    vectorized, v = run_ng(3, engine="vectorized", **params)
    assert len(a.prune_log) >= 10, "the case must exercise pruning"
    assert v.scheduler.present_rows.packed[1:].all() == (density == 1.0)
    assert a.prune_log == v.prune_log
    assert np.array_equal(a.state.w, v.state.w) and np.array_equal(a.state.b, v.state.b)
    assert per_agent.equals(vectorized)


def test_present_rows_hold_the_present_synapses_of_sparse_layers():
    model = NGModel(layers=[6, 20, 30, 1], protect_io=False, pruning=False, rng=0)
    s = model.state
    prune(model, 0.3)
    for agent in list(model.agents_by_type[SynapseAgent]):
        if agent.layer == 2 and agent.index % 3:
            agent.remove()  # layer 2 keeps at most a third of its synapses
    rows = kernels.PresentRows(s, packed_density=0.4)
    assert rows.packed.tolist() == [False, False, True, False]
    layer2 = s.synapses(2)
    np.testing.assert_array_equal(rows.slots, layer2.start + np.flatnonzero(s.mask[layer2]))
    for neuron in range(*s.neurons(2).indices(len(s.b))):
        mine = rows.slots[rows.starts[neuron] : rows.starts[neuron + 1]]
        assert (s.post[mine] == neuron).all()
        assert len(mine) == s.mask[s.post == neuron].sum()
        np.testing.assert_array_equal(
            rows.cols[rows.starts[neuron] : rows.starts[neuron + 1]], s.pre[mine] - s.n_off[1]
        )
    for neuron in range(*s.neurons(1).indices(len(s.b))):
        assert rows.starts[neuron] == rows.starts[neuron + 1], "dense layers have empty rows"


@pytest.mark.parametrize("density", [0.0, 1.0], ids=["dense", "packed"])
def test_half_pruned_network_trains_as_the_agents_do(monkeypatch, density):
    monkeypatch.setattr(kernels, "PACKED_DENSITY", density)
    models = {}
    for engine in ("agents", "vectorized"):
        model = NGModel(layers=[6, 20, 30, 1], protect_io=False, engine=engine, rng=0)
        prune(model, 0.5)
        model.scheduler.train(np.random.default_rng(1).integers(0, model.task.n_patterns, 50))
        models[engine] = model.state
    a, v = models["agents"], models["vectorized"]
    assert (v.w[~v.mask] == 0.0).all(), "a pruned weight stays 0"
    assert np.array_equal(a.w, v.w) and np.array_equal(a.b, v.b)
    assert np.array_equal(a.cnt, v.cnt) and a.cnt.any()


def test_rows_follow_each_pruning(monkeypatch):
    monkeypatch.setattr(kernels, "PACKED_DENSITY", 1.0)
    model = NGModel(rng=0)
    first = model.scheduler.present_rows
    assert model.scheduler.present_rows is first, "no rebuild without a topology change"
    victim = model.neurons[10].incoming[2]
    victim.prune()
    rows = model.scheduler.present_rows
    assert victim.index in first.slots and victim.index not in rows.slots
    np.testing.assert_array_equal(rows.slots, np.flatnonzero(model.state.mask))


def test_unwritable_cache_compiles_in_memory(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setattr(kernels.numba.config, "CACHE_DIR", str(blocker))
    assert kernels.cache_dir() is None
    monkeypatch.setattr(kernels.numba.config, "CACHE_DIR", str(tmp_path))
    assert kernels.cache_dir().parent == tmp_path


RUN = """
import json
import glianet
from glianet import NGModel
from glianet.schedules import kernels
out = {"package": glianet.__file__, "cache": str(kernels.CACHE_DIR)}
for engine in ("agents", "vectorized"):
    model = NGModel(rng=0, engine=engine, samples_per_epoch=300, epochs=1)
    model.step()
    out[engine] = model.state.w.tolist()
print(json.dumps(out))
"""


def run_copy(root: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = str(root)
    result = subprocess.run(
        [sys.executable, "-c", RUN], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_an_edited_rule_reaches_the_compiled_kernels(tmp_path):
    """A rule edited in agents/functions.py is what the vectorized engine runs next time, though
    kernels.py did not change and the on-disk cache of the first run is still there."""
    package = tmp_path / "glianet"
    shutil.copytree(
        Path(glianet.__file__).parent, package,
        ignore=shutil.ignore_patterns(".*", "__pycache__", "notebooks", "docs", "results"),
    )  # fmt: skip
    first = run_copy(tmp_path)
    assert Path(first["package"]).is_relative_to(package)
    assert Path(first["cache"]).is_relative_to(package), "the cache lies in the copy"
    assert first["vectorized"] == first["agents"]

    rules = package / "agents" / "functions.py"
    docstring = '    """Activation ``phi(a)`` of a Neuro-Agent (paper eq. 2.1)."""\n'
    assert docstring in rules.read_text()
    rules.write_text(rules.read_text().replace(docstring, docstring + "    a = 2.0 * a\n"))
    edited = run_copy(tmp_path)
    assert edited["cache"] != first["cache"]
    assert edited["agents"] != first["agents"], "the edit changes the rule"
    assert edited["vectorized"] == edited["agents"], "the compiled kernels follow the edit"
