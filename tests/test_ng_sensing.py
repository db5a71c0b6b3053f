"""NA -> GA sensing: each reading of "an outlier compared with its adjacent NAs", on layers whose
answer is known by hand, and its effect on a run."""

import math

import numpy as np
import pytest

from glianet import NGModel
from glianet.agents.functions import sig_step
from glianet.schedules import kernels

LAYER2 = slice(14, 22)  # the 8 neurons of hidden layer 2 in the paper's 6-8-8-8-1 net


def count(model, layer, values):
    """Present ``values`` (one output per neuron of ``layer``) to the neurons of ``layer``, once
    through each neuron's ``count_outlier`` and once through the compiled kernel on a copy of
    the state; both must count the same. Returns which neurons counted an outlier."""
    s = model.state
    neurons = s.neurons(layer)
    s.y[neurons] = values
    saved = {name: getattr(s, name).copy() for name in ("cnt", "run_mean", "run_var", "run_n")}
    for neuron in model.neurons[neurons]:
        neuron.count_outlier()
    by_agents = {name: getattr(s, name).copy() for name in saved}
    for name, array in saved.items():
        getattr(s, name)[:] = array
    kernels.count_outliers(
        layer, model.sensing_code, s.y, s.cnt, s.alive, True, s.sizes, s.n_off, s.w_off, s.mask,
        s.run_mean, s.run_var, s.run_n, model.z, model.mini_batch_size,
    )  # fmt: skip
    for name, array in by_agents.items():
        np.testing.assert_array_equal(getattr(s, name), array, err_msg=f"engines differ on {name}")
    counted = s.cnt[neurons] - saved["cnt"][neurons]
    assert set(np.unique(counted)) <= {0, 1}
    return counted.astype(bool)


# The 1 lies sqrt(7) = 2.65 population std, 7 / sqrt(8) = 2.47 sample std from the mean.
ONE_HIGH = [0.0] * 7 + [1.0]


@pytest.mark.parametrize(
    ("sensing", "z", "last_is_outlier"),
    [
        ("layer", 2.6, True),
        ("layer", 2.7, False),  # above sqrt(7): no neuron of 8 can be an outlier
        ("layer-sample", 2.4, True),
        ("layer-sample", 2.5, False),  # above 7 / sqrt(8)
    ],
)
def test_same_layer_outlier_by_hand(sensing, z, last_is_outlier):
    model = NGModel(sensing=sensing, z=z, rng=0)
    # The zeros lie 1/sqrt(7) population std from the mean: never outliers here.
    expected = np.array([False] * 7 + [last_is_outlier])
    np.testing.assert_array_equal(count(model, 2, ONE_HIGH), expected)
    assert not count(model, 2, [0.3] * 8).any(), "a layer of equal outputs has no outlier"


def test_largest_possible_deviation_is_sqrt_n_minus_1_population_std():
    for n in (2, 3, 8, 20):
        values = np.zeros(n)
        values[-1] = 1.0
        population = abs(values[-1] - values.mean()) / values.std()
        sample = abs(values[-1] - values.mean()) / values.std(ddof=1)
        assert population == pytest.approx(math.sqrt(n - 1))
        assert sample == pytest.approx((n - 1) / math.sqrt(n))


def test_synaptic_outlier_compares_with_the_connected_neurons_only():
    model = NGModel(sensing="synaptic", z=3.0, rng=0)
    s = model.state
    # Neuron 14, the first of layer 2: its pre neurons are 6..13 (layer 1), its post 22..29.
    s.y[6:14] = [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    s.y[22:30] = 0.0
    s.present(2)[0, 2:] = False  # it keeps the synapses from neurons 6 and 7 only
    # Its group: itself (1), neurons 6, 7 (0, 0) and the 8 of layer 3 (0): a 1 among ten 0s,
    # sqrt(10) = 3.16 population std out.
    counted = count(model, 2, [1.0] * 8)
    assert counted[0]
    # The same layer is uniform, so the same-layer reading sees no outlier at all.
    assert not count(NGModel(sensing="layer", z=0.0, rng=0), 2, [1.0] * 8).any()
    # Every other neuron of layer 2 keeps its 8 pre neurons: check each by its own group.
    for k in range(1, 8):
        group = np.concatenate(([1.0], s.y[6:14], s.y[22:30]))
        assert counted[k] == (abs(1.0 - group.mean()) > 3.0 * group.std())
    # Fewer neighbours, a smaller bound: with 2 post neurons left the group is 1 among four 0s,
    # exactly sqrt(4) = 2 std out.
    s.present(3)[2:, 0] = False
    model.z = 1.9
    assert count(model, 2, [1.0] * 8)[0]
    model.z = 2.1
    assert not count(model, 2, [1.0] * 8)[0]


def test_running_outlier_compares_with_the_neurons_own_history():
    model = NGModel(sensing="running", z=2.0, mini_batch_size=100, rng=0)
    s = model.state
    neuron = LAYER2.start
    history = np.where(np.arange(100) % 2 == 0, 0.4, 0.6)  # mean 0.5, std 0.1
    # A neuron has no outliers before it has seen a full window, however far a value lies.
    for value in history[:99]:
        assert not count(model, 2, [value] * 8).any()
    assert not count(model, 2, [5.0] * 8).any()
    s.run_mean[:], s.run_var[:], s.run_n[:] = 0.0, 0.0, 0
    for value in history:
        count(model, 2, [value] * 8)
    assert s.run_mean[neuron] == pytest.approx(0.5, abs=1e-12)
    assert s.run_var[neuron] == pytest.approx(0.01, abs=1e-12)
    assert s.run_n[neuron] == 100
    # 0.75 is 2.5 running std out; 0.65 is 1.5. One neuron alone cannot tell: each neuron of the
    # layer answers for its own history.
    values = [0.75, 0.65, 0.5, 0.25, 0.35, 0.75, 0.75, 0.5]
    expected = [True, False, False, True, False, True, True, False]
    np.testing.assert_array_equal(count(model, 2, values), expected)
    # The sample joined the history: an exponential average with rate 1 / window from now on.
    assert s.run_mean[neuron] == pytest.approx(0.5 + 0.25 / 100, abs=1e-12)


@pytest.mark.parametrize("values", [ONE_HIGH, [0.0, 100.0, 0.0, 0.0, 0.0, 0.0, 0.0, -3.0]])
def test_off_never_senses_an_outlier(values):
    model = NGModel(sensing="off", rng=0)
    assert model.z == math.inf
    assert not count(model, 2, values).any()
    for reading in ("layer", "layer-sample", "synaptic"):
        assert count(NGModel(sensing=reading, z=0.5, rng=0), 2, values).any()


# At its default z = 3 the running reading senses little while the weights still move fast.
@pytest.mark.parametrize(
    ("sensing", "z"),
    [("layer", None), ("layer-sample", None), ("synaptic", None), ("running", 2.0)],
)
def test_sensing_raises_sig_exactly_where_f_is_positive(sensing, z):
    """Same seed with and without sensing, four rounds of training and sig updates (no prune
    orders, so the networks stay equal): sig differs by exactly ``alpha * (g(0) - g(f))``
    summed over the rounds, for every GA, and only where some round sensed ``f > 0``."""
    on = NGModel(sensing=sensing, z=z, rng=5)
    off = on.twin(sensing="off", z=None)
    rise = np.zeros(on.state.n_glia)
    for _ in range(4):
        for model in (on, off):
            samples = model.rng.integers(0, model.task.n_patterns, size=model.mini_batch_size)
            model.scheduler.train(samples)
            model.scheduler.update_sig()
        f = on.state.f
        rise += on.alpha * (sig_step(0.0, "logistic", on.beta) - sig_step(f, "logistic", on.beta))
        np.testing.assert_array_equal(off.state.f, 0.0)
        np.testing.assert_array_equal(on.state.w, off.state.w)
    assert rise.any(), f"{sensing}: some neuron must be an outlier in 400 samples"
    np.testing.assert_allclose(on.state.sig - off.state.sig, rise, atol=1e-15)
    assert np.all((on.state.sig > off.state.sig) == (rise > 0))


def test_default_sensing_is_live_and_changes_which_synapses_go():
    epochs = 15
    on = NGModel(rng=3, epochs=epochs)
    off = on.twin(sensing="off")
    for model in (on, off):
        while model.running:
            model.step()
    data = on.datacollector.get_model_vars_dataframe().iloc[1:]
    assert data["f_active"].min() > 0, "glia sense activity in every epoch under the default"
    assert (data[["f_sd_l2", "f_sd_l3"]] > 0).all().all(), "f varies between neurons"
    silent = off.datacollector.get_model_vars_dataframe().iloc[1:]
    assert (silent["f_active"] == 0).all()
    assert [(p["sample"], p["post"]) for p in on.prune_log] != [
        (p["sample"], p["post"]) for p in off.prune_log
    ]


@pytest.mark.parametrize("engine", ["agents", "vectorized"])
def test_empty_orders_reset_sig_only_when_asked(engine):
    for resets in (True, False):
        model = NGModel(engine=engine, rng=1, empty_order_resets=resets)
        s = model.state
        glia = model.glia_agents[0]
        for synapse in glia.neuron.incoming[1:]:  # one synapse left: nothing it may prune
            synapse.remove()
        s.sig[:] = 1.0
        s.sig[glia.index] = 0.0  # it orders (u > 0 almost surely); nobody else does
        fired = model.scheduler.order_prunes()
        assert model.prune_orders == 1 and not model.prune_log
        assert fired[glia.index] == resets
        assert s.sig[glia.index] == (1.0 if resets else 0.0)
