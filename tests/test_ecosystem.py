"""glianet with the tools its users already have: Mesa's agent data and batch_run, Mesa-style
removal and space queries, the browser page's readable values, sweep results other readers load."""

import numpy as np
import pandas as pd
import pytest
from mesa.batchrunner import batch_run
from mesa.discrete_space import CellCollection

from glianet import MASDAModel, NGModel
from glianet.agents import GliaAgent, NeuroAgent, SynapseAgent
from glianet.agents.masda import VariableUnit
from glianet.checkpoint import CheckpointError
from glianet.parameters import ParameterError

SHORT = {"epochs": 4, "samples_per_epoch": 1000}
HIDDEN_WITH_GLIA = 16  # layer 2 of the default [6, 8, 8, 8, 1]: glia on layers 2 and 3


# -- agent reporters (issue #16 point 4) ---------------------------------------------------------
def test_agent_reporters_record_synapse_weights_and_glia_sig_and_f():
    model = NGModel(rng=3, agent_reporters=True, **SHORT)
    model.run_for(3)
    dc = model.datacollector
    synapses = dc.get_agenttype_vars_dataframe(SynapseAgent)
    last = synapses.xs(model.steps, level="Step")
    by_index = {a.unique_id: a.index for a in model.agents_by_type[SynapseAgent]}
    weights = last["weight"].to_numpy()
    slots = [by_index[i] for i in last.index.get_level_values("AgentID")]
    np.testing.assert_array_equal(weights, model.state.w[slots])
    assert len(last) == model.synapse_count, "pruned synapses are gone from the rows"
    glia = dc.get_agenttype_vars_dataframe(GliaAgent).xs(model.steps, level="Step")
    np.testing.assert_array_equal(glia["sig"].to_numpy(), model.state.sig)
    np.testing.assert_array_equal(glia["f"].to_numpy(), model.state.f)
    assert (glia["f"] > 0).any()
    assert set(glia["agent_type"]) == {"glia"}


@pytest.mark.parametrize("engine", ["agents", "vectorized"])
def test_f_is_the_activity_the_glia_read_at_the_last_round(engine):
    model = NGModel(rng=5, engine=engine, **SHORT)
    model.step()
    s = model.state
    s.cnt[s.glia_neuron] = np.arange(s.n_glia) % 7  # outlier counts since the last round
    expected = s.cnt[s.glia_neuron] / model.mini_batch_size
    model.scheduler.update_sig()
    np.testing.assert_array_equal([glia.f for glia in model.glia_agents], expected)


def test_agent_reporters_show_in_batch_run_rows():
    rows = pd.DataFrame(
        batch_run(
            NGModel,
            parameters={"agent_reporters": [True], "epochs": 2, "samples_per_epoch": 500},
            rng=[1],
            data_collection_period=-1,
            number_processes=1,
            display_progress=False,
        )
    )
    model = NGModel(rng=1, epochs=2, samples_per_epoch=500)
    model.run_for(2)
    assert rows["AgentID"].notna().all()
    assert (rows["agent_type"] == "synapse").sum() == model.synapse_count
    assert (rows["agent_type"] == "glia").sum() == len(model.glia_agents)
    assert rows.loc[rows["agent_type"] == "synapse", "weight"].notna().all()
    assert rows.loc[rows["agent_type"] == "glia", ["sig", "f"]].notna().all().all()


def test_masda_agent_reporters_record_unit_score_state_and_depth():
    rows = pd.DataFrame(
        batch_run(
            MASDAModel,
            parameters={"agent_reporters": [True], "pretrain_epochs": 3},
            rng=[2],
            data_collection_period=-1,
            number_processes=1,
            display_progress=False,
        )
    )
    model = MASDAModel(rng=2, pretrain_epochs=3)
    model.run_for(3)
    variable = rows[rows["agent_type"] == "variable"].sort_values("name")
    expected = sorted(model.agents_by_type[VariableUnit], key=lambda unit: unit.name)
    assert list(variable["name"]) == [unit.name for unit in expected]
    assert list(variable["score"]) == [unit.score for unit in expected]
    assert list(variable["depth"]) == [unit.depth for unit in expected]
    assert list(variable["state"]) == ["B" if unit.stable else "A" for unit in expected]
    assert set(rows["agent_type"]) == {"constant", "variable", "reward"}


def test_own_agent_reporters_and_bad_ones():
    twice = {GliaAgent: {"twice_sig": lambda glia: 2 * glia.sig}}
    model = NGModel(rng=0, epochs=0, agent_reporters=twice)
    frame = model.datacollector.get_agenttype_vars_dataframe(GliaAgent)
    np.testing.assert_array_equal(frame["twice_sig"].to_numpy(), 2 * model.state.sig)
    for bad in ("weight", {"weight": "weight"}, {SynapseAgent: ["weight"]}):
        with pytest.raises(ParameterError) as caught:
            NGModel(rng=0, epochs=0, agent_reporters=bad)
        assert caught.value.name == "agent_reporters"


def test_agent_reporters_survive_a_checkpoint(tmp_path):
    model = NGModel(rng=0, epochs=2, agent_reporters=True)
    model.step()
    model.save(tmp_path / "built_in.npz")
    loaded = NGModel.load(tmp_path / "built_in.npz")
    assert loaded.agent_reporters == NGModel.AGENT_REPORTERS
    loaded.step()
    glia = loaded.datacollector.get_agenttype_vars_dataframe(GliaAgent)
    assert list(glia.index.unique(level="Step")) == [1], "one row per glia, after the load"
    np.testing.assert_array_equal(glia["sig"].to_numpy(), loaded.state.sig)
    assert not NGModel.load(tmp_path / "built_in.npz", agent_reporters=False).agent_reporters

    twice = {GliaAgent: {"twice_sig": lambda glia: 2 * glia.sig}}
    NGModel(rng=0, epochs=2, agent_reporters=twice).save(tmp_path / "custom.npz")
    with pytest.raises(CheckpointError, match="custom agent reporters"):
        NGModel.load(tmp_path / "custom.npz")
    assert NGModel.load(tmp_path / "custom.npz", agent_reporters=twice).agent_reporters == twice


# -- removal (issue #16 point 5) -----------------------------------------------------------------
def removed_run(engine, remove):
    model = NGModel(rng=8, engine=engine, **SHORT)
    remove(model)
    model.run_for(SHORT["epochs"])
    return model


def remove_neuron(model):
    model.neurons[HIDDEN_WITH_GLIA].remove()


def remove_glia(model):
    model.glia_agents[2].remove()


@pytest.mark.parametrize("remove", [remove_neuron, remove_glia])
def test_removal_gives_the_same_run_in_both_engines(remove):
    a, v = removed_run("agents", remove), removed_run("vectorized", remove)
    assert len(a.prune_log) >= 3
    assert a.prune_log == v.prune_log
    np.testing.assert_allclose(a.state.w, v.state.w, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.state.sig, v.state.sig, rtol=0, atol=1e-9)


@pytest.mark.parametrize("engine", ["agents", "vectorized"])
def test_a_removed_neuron_is_gone_and_computes_no_more(engine):
    model = NGModel(rng=8, engine=engine, **SHORT)
    neuron = model.neurons[HIDDEN_WITH_GLIA]
    glia, index = neuron.glia, neuron.index
    neuron.remove()
    model.run_for(SHORT["epochs"])
    s = model.state
    assert neuron not in model.neurons and neuron not in model.agents
    assert index not in model.grid.G and all(n.index != index for n in model.neurons)
    into = (s.post == index) | (s.pre == index)
    assert not s.mask[into].any() and not s.w[into].any()
    assert glia not in model.glia_agents and glia not in model.agents
    assert glia.index not in model.glia_graph
    assert s.y[index] == 0.0 and s.b[index] == 0.0, "it computed after its removal"
    assert s.sig[glia.index] == model.sig0, "its glia took part in a round"
    assert not any(p["post"] == index for p in model.prune_log)


def test_a_removed_neuron_leaves_its_layers_outlier_test():
    """With the neuron gone, the others' outlier counts are those of the smaller layer."""
    from glianet.agents.functions import is_outlier

    model = NGModel(rng=8, engine="agents", **SHORT)
    model.neurons[HIDDEN_WITH_GLIA].remove()
    s = model.state
    layer = s.neurons(2)
    s.y[layer] = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9]
    s.y[HIDDEN_WITH_GLIA] = 0.9  # what a stale output could hold; the test must leave it out
    living = [n for n in model.neurons if n.layer == 2]
    s.cnt[:] = 0
    for n in living:
        n.count_outlier()
    values = np.delete(s.y[layer], HIDDEN_WITH_GLIA - layer.start)
    assert model.sensing == "layer"  # the population std
    expected = [is_outlier(values, k, model.z, 0) for k in range(len(values))]
    assert [bool(s.cnt[n.index]) for n in living] == expected


@pytest.mark.parametrize("position", [0, -1])
def test_input_and_output_neurons_refuse_removal(position):
    model = NGModel(rng=0, epochs=0)
    with pytest.raises(ValueError, match="cannot be removed"):
        model.neurons[position].remove()
    assert len(model.neurons) == sum(model.layers)


def test_lazy_synapse_agents_refuse_neuron_removal():
    model = NGModel(rng=0, epochs=0, synapse_agents="lazy")
    with pytest.raises(ValueError, match="synapse_agents='lazy'"):
        model.neurons[HIDDEN_WITH_GLIA].remove()
    assert model.state.alive.all() and model.state.mask.all(), "half a removal"


def test_a_model_with_removed_agents_refuses_a_checkpoint(tmp_path):
    model = NGModel(rng=0, epochs=0)
    model.glia_agents[0].remove()
    with pytest.raises(ValueError, match="removed"):
        model.save(tmp_path / "x.npz")


# -- the space, the Mesa way ---------------------------------------------------------------------
def test_space_answers_upstream_and_downstream_with_cell_collections():
    model = NGModel(rng=0, epochs=0)
    neuron = model.neurons[10]
    up, down = model.grid.upstream_cells(neuron.cell), model.grid.downstream_cells(neuron.index)
    assert isinstance(up, CellCollection) and isinstance(down, CellCollection)
    assert [c.coordinate for c in up] == list(range(6))
    assert [c.coordinate for c in down] == list(range(14, 22))
    assert set(down) == set(neuron.cell.neighborhood)
    assert {a.index for a in up.agents if isinstance(a, NeuroAgent)} == set(range(6))


# -- the drawings show what a user reads (issue #16 point 7) -------------------------------------
def test_masda_drawing_shows_whole_depths():
    from glianet.experiments.figures import draw_units

    model = MASDAModel(rng=0, pretrain_epochs=2, max_depth=3)
    model.run_for(2)
    ax = draw_units(model)
    ticks = ax.get_xticks()
    np.testing.assert_array_equal(ticks, np.arange(model.max_depth + 1))
    assert [label.get_text() for label in ax.get_xticklabels()] == ["0", "1", "2", "3"]


# -- one results schema per model (issue #16 point 1) --------------------------------------------
@pytest.mark.parametrize(
    ("cls", "params"),
    [
        (NGModel, {"layers": [6, 8, 1]}),
        (NGModel, {"layers": [6, 8, 8, 8, 8, 1], "glia_layers": []}),
        (NGModel, {"task": "digits", "layers": [64, 16, 10], "samples_per_epoch": 100}),
        (MASDAModel, {"max_depth": 1}),
        (MASDAModel, {"max_depth": 3}),
    ],
)
def test_result_columns_hold_every_reporter_with_its_type(cls, params):
    model = cls(rng=0, **params)
    model.step()
    columns = cls.result_columns(model.params)
    collected = model.datacollector.model_vars
    assert set(collected) <= set(columns)
    for name, values in collected.items():
        kind = columns[name]
        assert isinstance(values[-1], int if kind == "int" else float), (name, values[-1])
