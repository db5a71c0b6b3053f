"""Synapse-Agents made on demand (``synapse_agents="lazy"``): same run as eager, agents for any
synapse asked for, a space that answers from the masks, checkpoints, the memory check."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from glianet import NGModel
from glianet import model as model_module
from glianet.agents import SynapseAgent
from glianet.parameters import ParameterError

RUN = {"epochs": 6, "samples_per_epoch": 500, "engine": "vectorized"}


def finish(model):
    while model.running:
        model.step()
    return model


def synapse_agents(model):
    return list(model.agents.select(agent_type=SynapseAgent))


@pytest.fixture(scope="module")
def runs():
    """The same seed trained eager and lazy (vectorized engine), pruning on."""
    return {mode: finish(NGModel(rng=4, synapse_agents=mode, **RUN)) for mode in ("eager", "lazy")}


def test_lazy_follows_the_eager_trajectory(runs):
    eager, lazy = runs["eager"], runs["lazy"]
    assert len(eager.prune_log) > 5
    assert lazy.prune_log == eager.prune_log  # the same synapses pruned, in the same order
    assert np.array_equal(lazy.state.mask, eager.state.mask)
    assert np.array_equal(lazy.state.w, eager.state.w)
    assert np.array_equal(lazy.state.sig, eager.state.sig)
    pd.testing.assert_frame_equal(
        lazy.datacollector.get_model_vars_dataframe(),
        eager.datacollector.get_model_vars_dataframe(), rtol=0, atol=0,
    )  # fmt: skip


def test_lazy_makes_no_synapse_agent_until_asked_and_none_are_left_by_pruning(runs):
    lazy = runs["lazy"]
    assert synapse_agents(NGModel(rng=0, epochs=0, synapse_agents="lazy")) == []
    # each prune order made the chosen synapse's agent, which pruned itself and left
    assert synapse_agents(lazy) == [] and lazy.grid.synapse_agents == {}
    assert len(synapse_agents(runs["eager"])) == runs["eager"].synapse_count


def test_the_lazy_space_shows_the_present_synapses_as_the_eager_one_does(runs):
    eager, lazy = runs["eager"].grid, runs["lazy"].grid
    assert list(lazy.G.edges) == list(eager.G.edges)
    assert lazy.G.number_of_edges() == runs["lazy"].synapse_count
    assert dict(lazy.G.nodes(data="layer")) == dict(eager.G.nodes(data="layer"))
    for node in eager.G.nodes:
        assert lazy.upstream(node) == eager.upstream(node)
        assert lazy.downstream(node) == eager.downstream(node)
        assert list(lazy.G.predecessors(node)) == list(eager.G.predecessors(node))
        assert lazy.G.in_degree(node) == eager.G.in_degree(node)
        assert dict(lazy[node].connections) == {
            post: lazy[post] for post in eager[node].connections
        }
    pruned = runs["lazy"].prune_log[0]
    assert not lazy.G.has_edge(pruned["pre"], pruned["post"])
    assert (0, 6) in lazy.G.edges and (6, 0) not in lazy.G.edges and (0, 14) not in lazy.G.edges
    with pytest.raises(nx.NetworkXError):
        lazy.G.add_edge(0, 14)
    with pytest.raises(nx.NetworkXError, match="fixed"):
        lazy.add_node(999)
    assert 999 not in lazy.G


def test_any_synapse_asked_for_gets_its_agent_once():
    eager, lazy = (
        finish(NGModel(rng=4, synapse_agents=mode, **{**RUN, "epochs": 2}))
        for mode in ("eager", "lazy")
    )
    pre, post = next(iter(lazy.grid.G.edges))
    agent = lazy.synapse(pre, post)
    assert lazy.synapse(pre, post) is agent and lazy.grid.G.edges[pre, post]["synapse"] is agent
    assert synapse_agents(lazy) == [agent]
    twin = eager.synapse(pre, post)
    assert (agent.index, agent.layer, agent.pre, agent.post) == (
        twin.index, twin.layer, twin.pre, twin.post,
    )  # fmt: skip
    assert agent.weight == twin.weight == lazy.state.w[agent.index]
    incoming = lazy.neurons[post].incoming
    assert [s.index for s in incoming] == [s.index for s in eager.neurons[post].incoming]
    assert agent in incoming and len(synapse_agents(lazy)) == len(incoming)
    gone = lazy.prune_log[0]
    with pytest.raises(KeyError, match="no synapse"):
        lazy.synapse(gone["pre"], gone["post"])
    with pytest.raises(KeyError, match="no synapse"):
        lazy.synapse(0, 14)  # not consecutive layers


def test_a_lazily_made_agent_prunes_through_the_mask():
    model = NGModel(rng=2, epochs=0, synapse_agents="lazy")
    agent = model.synapse(8, 16)
    agent.prune()
    assert not model.state.mask[agent.index] and model.state.w[agent.index] == 0.0
    assert not model.grid.G.has_edge(8, 16) and 16 not in model.grid[8].connections
    assert model.prune_log[-1]["pre"] == 8 and synapse_agents(model) == []


def test_lazy_checkpoint_continues_exactly(tmp_path):
    straight = finish(NGModel(rng=5, synapse_agents="lazy", **RUN))
    halfway = NGModel(rng=5, synapse_agents="lazy", **RUN)
    for _ in range(3):
        halfway.step()
    halfway.save(tmp_path / "half.npz")
    resumed = NGModel.load(tmp_path / "half.npz")
    assert resumed.synapse_agents == "lazy" and synapse_agents(resumed) == []
    assert list(resumed.grid.G.edges) == list(halfway.grid.G.edges)
    finish(resumed)
    assert len(straight.prune_log) > 0 and resumed.prune_log == straight.prune_log
    assert np.array_equal(resumed.state.w, straight.state.w)
    assert np.array_equal(resumed.state.mask, straight.state.mask)


def test_lazy_needs_the_vectorized_engine():
    with pytest.raises(ParameterError, match="engine='vectorized'") as error:
        NGModel(synapse_agents="lazy", engine="agents")
    assert error.value.name == "synapse_agents"
    with pytest.raises(ParameterError) as error:
        NGModel(synapse_agents="sometimes")
    assert error.value.name == "synapse_agents"


def test_the_memory_check_counts_each_modes_bytes_per_synapse(monkeypatch):
    layers = [64, 300, 300, 10]  # 112,200 synapses
    synapses = 64 * 300 + 300 * 300 + 300 * 10
    per_synapse = NGModel.BYTES_PER_SYNAPSE
    assert per_synapse["lazy"] * 5 < per_synapse["eager"]
    between = synapses * (per_synapse["lazy"] + per_synapse["eager"]) // 2
    monkeypatch.setattr(model_module, "free_memory", lambda: between)
    with pytest.raises(ParameterError, match="synapse_agents='lazy' needs less") as error:
        NGModel(task="digits", layers=layers, epochs=0)
    assert error.value.name == "layers"
    lazy = NGModel(task="digits", layers=layers, epochs=0, synapse_agents="lazy")
    assert lazy.synapse_count == synapses
    monkeypatch.setattr(model_module, "free_memory", lambda: synapses * per_synapse["lazy"] // 2)
    with pytest.raises(ParameterError, match="GiB with synapse_agents='lazy'"):
        NGModel(task="digits", layers=layers, epochs=0, synapse_agents="lazy")
