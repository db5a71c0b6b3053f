"""The NG paper's rules, each on a case small enough to check by hand."""

import math

import networkx as nx
import numpy as np
import pytest

from glianet import NGModel
from glianet.agents import SynapseAgent
from glianet.agents.functions import sig_step

ENGINES = ["agents", "vectorized"]


def loss(model, x, t):
    """The loss of the model's output rule on one pattern, from its outputs alone."""
    y = model.predict(x[None, :])[0]
    if model.output == "softmax-ce":
        return -float(np.sum(t * np.log(y)))
    return 0.5 * float(np.sum((y - t) ** 2))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "params",
    [
        {"activation": "sigmoid"},
        {"activation": "tanh"},
        {"output": "softmax-ce", "task": "upper-classes", "layers": [6, 8, 8, 8, 3]},
        {"output": "softmax-ce", "activation": "tanh", "task": "upper-classes",
         "layers": [6, 5, 3]},
    ],
)  # fmt: skip
def test_backprop_matches_finite_differences(engine, params):
    model = NGModel(engine=engine, pruning=False, rng=7, **params)
    s = model.state
    s.w[:] = model.rng.normal(0.0, 1.0, s.w.shape)
    s.b[:] = model.rng.normal(0.0, 0.5, s.b.shape)
    sample = 21
    x, t = model.task.inputs[sample], model.task.targets[sample]
    numeric_w = np.empty_like(s.w)
    for i in range(len(s.w)):
        keep = s.w[i]
        s.w[i] = keep + 1e-6
        up = loss(model, x, t)
        s.w[i] = keep - 1e-6
        numeric_w[i] = (up - loss(model, x, t)) / 2e-6
        s.w[i] = keep
    numeric_b = np.empty_like(s.b)
    for i in range(model.layers[0], len(s.b)):
        keep = s.b[i]
        s.b[i] = keep + 1e-6
        up = loss(model, x, t)
        s.b[i] = keep - 1e-6
        numeric_b[i] = (up - loss(model, x, t)) / 2e-6
        s.b[i] = keep
    w0, b0 = s.w.copy(), s.b.copy()
    model.scheduler.train(np.array([sample]))
    np.testing.assert_allclose((w0 - s.w) / model.eta, numeric_w, atol=1e-7)
    np.testing.assert_allclose(
        (b0 - s.b)[model.layers[0] :] / model.eta, numeric_b[model.layers[0] :], atol=1e-7
    )


def test_sig_readings():
    beta = 6 * math.log(3)
    f = np.linspace(0.0, 1.0, 101)
    printed = sig_step(f, "printed", beta)
    logistic = sig_step(f, "logistic", beta)
    flipped = sig_step(f, "logistic-flipped", beta)
    # As printed, g < -1 for every f >= 0: sig can only rise.
    assert np.all(printed < -1.0)
    # Logistic: zero at f = 0.01, falls with f, within (-1, 1); it equals -tanh(beta (f-0.01)/2).
    assert sig_step(0.01, "logistic", beta) == pytest.approx(0.0, abs=1e-15)
    assert np.all(np.diff(logistic) < 0) and np.all(np.abs(logistic) < 1)
    np.testing.assert_allclose(logistic, -np.tanh(beta * (f - 0.01) / 2), atol=1e-12)
    np.testing.assert_allclose(flipped, -logistic, atol=1e-12)
    # A quiet neuron (f = 0) lowers sig (promotes pruning), a busy one raises it.
    assert sig_step(0.0, "logistic", beta) > 0 > sig_step(0.2, "logistic", beta)


@pytest.mark.parametrize("engine", ENGINES)
def test_sig_update_from_activity(engine):
    model = NGModel(engine=engine, rng=0)
    s = model.state
    s.cnt[s.glia_neuron] = np.arange(model.state.n_glia)  # f = 0, 0.01, 0.02, ...
    model.scheduler.update_sig()
    f = np.arange(model.state.n_glia) / model.mini_batch_size
    expected = np.clip(0.5 - 0.01 * sig_step(f, "logistic", model.beta), 0, 1)
    np.testing.assert_allclose(s.sig, expected, rtol=0, atol=1e-15)
    assert not s.cnt.any(), "the activity count starts over after each report"


@pytest.mark.parametrize("engine", ENGINES)
def test_glia_fire_only_when_u_exceeds_sig(engine):
    model = NGModel(engine=engine, rng=3)
    s = model.state
    s.sig[:] = np.linspace(0.0, 1.0, s.n_glia)
    sig_before = s.sig.copy()
    twin = np.random.default_rng()
    twin.bit_generator.state = model.rng.bit_generator.state
    expected = twin.random(s.n_glia) > sig_before
    fired = model.scheduler.order_prunes()
    np.testing.assert_array_equal(fired, expected)
    assert 0 < expected.sum() < s.n_glia
    np.testing.assert_array_equal(s.sig[fired], 1.0)
    np.testing.assert_array_equal(s.sig[~fired], sig_before[~fired])
    assert len(model.prune_log) == expected.sum()


@pytest.mark.parametrize("engine", ENGINES)
def test_prune_order_deletes_weakest_incoming_synapse(engine):
    model = NGModel(engine=engine, rng=1)
    s = model.state
    glia = model.glia_agents[3]
    neuron = glia.neuron
    incoming = neuron.incoming
    weights = np.array([0.9, -0.8, 0.05, -0.03, 0.7, -0.6, 0.5, 0.4])
    for synapse, w in zip(incoming, weights, strict=True):
        s.w[synapse.index] = w
    s.sig[:] = 1.0  # nobody fires ...
    s.sig[glia.index] = 0.0  # ... but this GA (u > 0 almost surely)
    model.scheduler.order_prunes()
    weakest = incoming[3]
    assert [(p["pre"], p["post"]) for p in model.prune_log] == [(weakest.pre, weakest.post)]
    assert not model.grid.G.has_edge(weakest.pre, weakest.post)
    assert weakest not in model.agents
    assert not s.mask[weakest.index] and s.w[weakest.index] == 0.0
    assert len(neuron.incoming) == 7


@pytest.mark.parametrize("engine", ENGINES)
def test_guard_keeps_last_incoming_synapse(engine):
    model = NGModel(engine=engine, rng=1)
    s = model.state
    glia = model.glia_agents[0]
    for _ in range(20):
        s.sig[:] = 1.0
        s.sig[glia.index] = 0.0
        model.scheduler.order_prunes()
    assert len(glia.neuron.incoming) == 1
    assert len(model.prune_log) == model.layers[1] - 1

    unguarded = NGModel(engine=engine, rng=1, keep_last_synapse=False)
    glia = unguarded.glia_agents[0]
    for _ in range(20):
        unguarded.state.sig[:] = 1.0
        unguarded.state.sig[glia.index] = 0.0
        unguarded.scheduler.order_prunes()
    assert glia.neuron.incoming == []


def test_protect_io_keeps_input_and_output_synapses():
    model = NGModel(rng=0)
    io = [a for a in model.agents_by_type[SynapseAgent] if a.layer in (1, len(model.layers) - 1)]
    assert len(io) == 56 and not any(a.prunable for a in io)
    assert [g.neuron.layer for g in model.glia_agents] == [2] * 8 + [3] * 8
    open_model = NGModel(rng=0, protect_io=False)
    assert {g.neuron.layer for g in open_model.glia_agents} == {1, 2, 3}
    assert all(a.prunable for a in open_model.agents_by_type[SynapseAgent] if a.layer < 4)


@pytest.mark.parametrize("engine", ENGINES)
def test_burst_propagation_nearest_wins(engine):
    ring = nx.cycle_graph(16)
    model = NGModel(engine=engine, rng=0, glia_topology=ring, A=0.1)
    s = model.state
    s.sig[:] = 0.0
    s.sig[5] = 0.95  # above what reaches it (0.9): kept
    fired = np.zeros(16, dtype=bool)
    fired[[0, 3]] = True
    s.sig[fired] = 1.0
    for g in model.glia_agents:
        g.fired = bool(fired[g.index])
    model.scheduler.propagate_bursts(fired)
    hops = np.array([min(min(abs(i - f), 16 - abs(i - f)) for f in (0, 3)) for i in range(16)])
    expected = np.maximum(1.0 - 0.1 * hops, 0.0)
    expected[5] = 0.95
    np.testing.assert_allclose(s.sig, expected, atol=1e-15)


def test_default_glia_network_follows_initial_synapses():
    model = NGModel(rng=0)
    # Glia on hidden layers 2 and 3, which are fully connected: K(8, 8).
    assert nx.is_isomorphic(model.glia_graph, nx.complete_bipartite_graph(8, 8))
