"""MASDA: messages compute a denoising autoencoder's gradients; engines and latency agree."""

import copy
import gc

import numpy as np
import pandas as pd
import pytest

from glianet.agents.masda import BACKWARD, FORWARD, TARGET, Message
from glianet.model import MASDAModel
from glianet.schedules.masda import MessagesInFlightError
from glianet.state import CONSTANT, REWARD
from glianet.tasks import AnyUpperBits, Task
from glianet.tasks.base import get_task

SMALL = {"n_units": 5, "stable_window": 2, "stable_age": 2, "stable_tol": 0.5, "min_age": 2,
         "cull_rate": 0.5, "score_scale": 0.01}  # fmt: skip


def connected(engine="agents", **params):
    """A model whose variable units have joined (all at depth 1), no epoch run yet."""
    model = MASDAModel(engine=engine, rng=5, **{"n_units": 4, "cull_rate": 0.0, **params})
    for unit in model.units.unconnected_units():
        unit.connect()
    return model


def dae_gradients(model, x, t, keep, W=None):
    """A standard one-hidden-layer denoising autoencoder, written directly in NumPy.

    Encoder = the variable units' prev weights, decoder = the reward units' weights (of ``W``,
    by default the model's); inputs are the data constants and the bias; ``keep`` is the
    corruption mask; the reconstruction targets are the uncorrupted data. Cross-entropy loss,
    sigmoid units; gradients summed over samples.
    """
    u = model.units
    W = u.W if W is None else W
    data = [c.slot for c in model.data_constants]
    hidden = model.units.connected_variable_slots()
    rewards = [r.slot for r in model.units.reward_units()]
    inputs = data + [model.bias.slot]
    W_enc = W[np.ix_(hidden, inputs)]
    W_dec = W[np.ix_(rewards, hidden)]
    b_dec = W[rewards, model.bias.slot]
    clean = np.hstack([x, t])
    noisy = np.hstack([clean * keep, np.ones((len(x), 1))])
    h = 1 / (1 + np.exp(-(noisy @ W_enc.T)))
    recon = 1 / (1 + np.exp(-(h @ W_dec.T + b_dec)))
    target = clean[:, [data.index(u.target[r]) for r in rewards]]
    d_out = recon - target
    d_h = (d_out @ W_dec) * h * (1 - h)
    eta = model.eta
    return {
        "enc": -eta * d_h.T @ noisy,
        "dec": -eta * d_out.T @ h,
        "dec_bias": -eta * d_out.sum(axis=0),
        "slots": (hidden, inputs, rewards),
    }


def corruption_masks(model, n):
    """The masks the units will draw: replay each data constant's own noise generator."""
    keep = np.ones((n, len(model.data_constants)))
    for k, unit in enumerate(model.data_constants):
        rate = unit.corruption_rate
        if rate >= 1.0:
            keep[:, k] = 0.0
        elif rate > 0.0:
            keep[:, k] = copy.deepcopy(unit.noise).random(n) >= rate
    return keep


def present(model, order):
    """The sample phase of the model's engine on the samples in ``order`` (constants fed in
    slot order)."""
    if model.engine == "agents":
        feed = np.tile(np.arange(len(model.data_constants)), (len(order), 1))
        model.scheduler.present_by_messages(order, feed)
    else:
        model.scheduler.present_in_bulk(order)


@pytest.mark.parametrize("engine", ["agents", "vectorized"])
@pytest.mark.parametrize("samples", [[37], list(range(64))])
def test_messages_compute_the_gradients_of_a_denoising_autoencoder(engine, samples):
    model = connected(engine, corruption=0.3)
    order = np.array(samples)
    keep = corruption_masks(model, len(order))
    expected = dae_gradients(model, model.task.inputs[order], model.task.targets[order], keep)
    present(model, order)
    hidden, inputs, rewards = expected["slots"]
    dW = model.units.dW
    np.testing.assert_allclose(dW[np.ix_(hidden, inputs)], expected["enc"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(dW[np.ix_(rewards, hidden)], expected["dec"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        dW[rewards, model.bias.slot], expected["dec_bias"], rtol=0, atol=1e-9
    )
    assert 0 < keep[:, :6].mean() < 1 and not keep[:, 6:].any(), "inputs noisy, labels hidden"


def sgd_weights(model, order, keep, update_every):
    """The weights the NumPy denoising autoencoder reaches from the model's weights when the
    gradients of every ``update_every`` samples of ``order`` are applied together."""
    W = model.units.W.copy()
    for start in range(0, len(order), update_every):
        batch = slice(start, start + update_every)
        step = dae_gradients(model, model.task.inputs[order[batch]],
                             model.task.targets[order[batch]], keep[batch], W)  # fmt: skip
        hidden, inputs, rewards = step["slots"]
        W[np.ix_(hidden, inputs)] += step["enc"]
        W[np.ix_(rewards, hidden)] += step["dec"]
        W[rewards, model.bias.slot] += step["dec_bias"]
    return W


@pytest.mark.parametrize("engine", ["agents", "vectorized"])
@pytest.mark.parametrize("update_every", [1, 5])
def test_update_every_k_samples_is_minibatch_sgd_of_a_denoising_autoencoder(engine, update_every):
    model = connected(engine, corruption=0.3, eta=0.5, update_every=update_every)
    order = np.random.default_rng(3).permutation(model.task.n_patterns)[:23]
    keep = corruption_masks(model, len(order))
    expected = sgd_weights(model, order, keep, update_every)
    once_per_epoch = sgd_weights(model, order, keep, len(order))
    present(model, order)
    model.scheduler.apply_changes()  # the last, partial batch: the end of the epoch
    np.testing.assert_allclose(model.units.W, expected, rtol=0, atol=1e-9)
    assert np.abs(expected - once_per_epoch).max() > 1e-3, "the case tells the updates apart"


def run(engine, latency=0.0, epochs=8, **params):
    model = MASDAModel(engine=engine, latency=latency, pretrain_epochs=epochs, rng=2,
                       **{**SMALL, **params})  # fmt: skip
    while model.running:
        model.step()
    return model


@pytest.mark.parametrize(
    ("latency", "update_every"),
    [(0.0, 0), (1.0, 0), (2.5, 0), (3.0, 0), (10.0, 0), (0.0, 1), (0.0, 7), (2.5, 7), (10.0, 1)],
)
def test_engines_and_latencies_give_the_same_run(latency, update_every):
    vectorized = run("vectorized", update_every=update_every)
    messages = run("agents", latency=latency, update_every=update_every)
    a = vectorized.datacollector.get_model_vars_dataframe()
    b = messages.datacollector.get_model_vars_dataframe()
    assert a["culled"].sum() > 0, "the case must exercise culling"
    pd.testing.assert_frame_equal(a, b, rtol=0, atol=1e-9)
    size = vectorized.units.size
    assert size == messages.units.size
    np.testing.assert_allclose(
        vectorized.units.W[:size, :size], messages.units.W[:size, :size], rtol=0, atol=1e-9
    )
    assert messages.steps == messages.time == 8, "Mesa's clock steps once per epoch"


def test_a_message_still_in_flight_at_the_end_of_an_epoch_stops_the_run():
    model = MASDAModel(engine="agents", rng=0, pretrain_epochs=2)
    scheduler = model.scheduler
    post, late = scheduler.post, []

    def late_post(sender, messages):  # the first ones cannot arrive within the epoch's time
        if late:
            post(sender, messages)
            return
        late.append(messages)
        scheduler.post_at(model.time + 5.0, messages)

    scheduler.post = late_post
    with pytest.raises(MessagesInFlightError, match="still in flight"):
        model.step()
    assert gc.isenabled(), "the garbage collector paused for the messages is back on"


GROWING = {"n_units": 16, "stable_window": 3, "stable_age": 6, "stable_tol": 0.2, "min_age": 2,
           "cull_rate": 0.3, "score_scale": 0.01, "eta": 0.05}  # fmt: skip


def grown(**params):
    """A model after 6 vectorized epochs (stable units, so depth 2), every unit connected."""
    model = MASDAModel(rng=1, **{**GROWING, **params})
    for _ in range(6):
        model.step()
    for unit in model.units.unconnected_units():
        unit.connect()
    return model


@pytest.mark.parametrize("latency", [0.0, 2.5])
def test_each_message_is_delivered_once_in_event_list_order_after_its_cause(latency, monkeypatch):
    """Messages keep their meaning however the engine batches them: each is delivered once, at
    the time it was posted for (now + its sender's delay), after every message due earlier and
    every one posted before it for the same time (the order of one Mesa event per message);
    once per sample a unit sends, only once it has heard from every prev node (a reward unit:
    and its target), the value it computed; the count is the vectorized engine's."""
    model = grown(latency=latency)
    scheduler, units = model.scheduler, model.units
    assert units.stable_units(1), "the case must have targets beyond the data"
    log = []  # ("send", sender, messages), ("post", now, due, message), ("deliver", now, message)
    post, post_at, deliver = scheduler.post, scheduler.post_at, Message.__call__

    def recording_post(sender, messages):
        log.append(("send", sender, messages))
        v = units.v[sender.slot]
        for message in messages:  # forward: the value it just computed (or 0: corrupted)
            if message.kind != BACKWARD:
                assert message.value in (v, 0.0) and (message.kind == FORWARD or message.value == v)
        post(sender, messages)

    def recording_post_at(due, messages):
        log.extend(("post", model.time, due, message) for message in messages)
        post_at(due, messages)

    def recording_call(message):
        log.append(("deliver", model.time, message))
        deliver(message)

    monkeypatch.setattr(scheduler, "post", recording_post)
    monkeypatch.setattr(scheduler, "post_at", recording_post_at)
    monkeypatch.setattr(Message, "__call__", recording_call)
    order = np.arange(5)
    feed = np.tile(np.arange(len(model.data_constants)), (len(order), 1))
    before = model.messages
    scheduler.present_by_messages(order, feed)

    posts = [entry[1:] for entry in log if entry[0] == "post"]
    deliveries = [entry[1:] for entry in log if entry[0] == "deliver"]
    by_due = sorted(range(len(posts)), key=lambda k: (posts[k][1], k))
    assert deliveries == [posts[k][1:] for k in by_due], "(due time, posting order), once each"
    assert model.messages - before == len(posts) and scheduler.in_flight == 0
    delays = np.array([(due - now) / (1 + m.sender.slot % 3) for now, due, m in posts])
    if latency == 0.0:
        assert not delays.any()
    else:
        assert delays[0] > 0
        np.testing.assert_allclose(delays, delays[0], rtol=1e-6)
        assert [m for *_, m in posts] != [m for _, m in deliveries], "arrivals interleave"

    heard, sends = {}, {}  # per unit: forward and target messages heard since it last sent
    for entry in log:
        if entry[0] == "deliver" and entry[2].kind in (FORWARD, TARGET):
            heard[entry[2].receiver] = heard.get(entry[2].receiver, 0) + 1
        elif entry[0] == "send" and entry[1].kind != CONSTANT:
            sender = entry[1]
            waits_for = units.in_degree(sender) + (sender.kind == REWARD)
            assert heard.pop(sender, 0) == waits_for, "sent before hearing all it waits for"
            sends[sender] = sends.get(sender, 0) + 1
    assert not heard, "every unit that heard all it waits for has sent"
    acting = [s for s in range(units.size) if units.alive[s] and units.depth[s] >= 0
              and units.kind[s] != CONSTANT]  # fmt: skip
    assert sorted(u.slot for u in sends) == acting and set(sends.values()) == {len(order)}

    twin = grown(latency=latency)  # the same population, its messages counted in bulk
    start = twin.messages
    twin.scheduler.present_in_bulk(order)
    assert twin.messages - start == len(posts)


def test_population_grows_in_depth_and_culls():
    model = MASDAModel(rng=1, pretrain_epochs=40, **GROWING)
    while model.running:
        model.step()
    data = model.datacollector.get_model_vars_dataframe()
    assert data["B_d1"].iloc[-1] > 0 and data["B_d2"].iloc[-1] > 0
    assert data["culled"].sum() == data["created"].sum() > 0
    graph = model.grid.G
    alive = {s for s in range(model.units.size) if model.units.alive[s]}
    assert set(graph.nodes) == alive == set(model.units.unit_by_slot)
    for stable in model.units.stable_units(1):
        reward = stable.reward_node
        assert reward is not None and reward.target_node is stable and reward.depth == 1
    for unit in model.units.stable_units(2):
        assert {p.depth for p in unit.prev_nodes} <= {0, 1}, "prev: depth-1 units and the bias"


@pytest.mark.parametrize("cull", ["stochastic", "fraction"])
def test_the_culling_ablation_culls_nothing_and_changes_nothing_else(cull):
    """The evaluation's "without culling" run: under either rule no unit dies, and until the
    default run first culls, the two runs are the same (the draws are still made)."""
    from glianet.experiments.masda_eval import NO_CULLING

    runs = []
    for ablation in ({}, NO_CULLING):
        model = MASDAModel(rng=1, pretrain_epochs=15, **{**GROWING, "cull": cull, **ablation})
        scores = []
        while model.running:
            model.step()
            scores.append(model.units.score[: model.units.size].copy())
        runs.append((model.datacollector.get_model_vars_dataframe()["culled"], scores))
    (culled, scores), (ablated_culled, ablated_scores) = runs
    assert culled.sum() > 0 and ablated_culled.sum() == 0
    first = int(np.argmax(culled.to_numpy() > 0))  # epoch of the first death (row 0: the start)
    assert first > 1
    for step in range(first - 1):  # scores[k]: after epoch k + 1
        np.testing.assert_array_equal(scores[step], ablated_scores[step])


def test_stable_weights_freeze():
    model = MASDAModel(rng=1, pretrain_epochs=20, **GROWING)
    while model.running:
        model.step()
    frozen = {u.slot: u.prev_weights for u in model.units.stable_units(1)}
    assert frozen
    model.pretrain_epochs += 3
    model.running = True
    for _ in range(3):
        model.step()
    for unit in model.units.stable_units(1):
        if unit.slot in frozen:
            np.testing.assert_array_equal(unit.prev_weights, frozen[unit.slot])


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"corruption": 1.5}, "corruption"),
        ({"label_corruption": -0.1}, "label_corruption"),
        ({"hidden_corruption": 2.0}, "hidden_corruption"),
        ({"n_units": 0}, "n_units"),
        ({"eta": 0.0}, "eta"),
        ({"update_every": -1}, "update_every"),
        ({"update_every": 2.5}, "update_every"),
        ({"cull_fraction": 1.0}, "cull_fraction"),
        ({"cull": "oldest"}, "cull"),
        ({"cull_rate": 1.5}, "cull_rate"),
        ({"score_scale": 0.0}, "score_scale"),
        ({"stable_window": 0}, "stable_window"),
        ({"stable_age": 0}, "stable_age"),
        ({"layer_free": 1}, "layer_free"),
        ({"engine": "gpu"}, "engine"),
        ({"latency": -1.0}, "latency"),
    ],
)
def test_bad_parameters_raise(params, named):
    with pytest.raises(ValueError, match=f"^{named}"):
        MASDAModel(**params)


def test_bad_data_raises_clear_errors():
    x = AnyUpperBits().inputs.copy()
    x[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Task("broken", x, AnyUpperBits().targets)
    with pytest.raises(ValueError, match="patterns"):
        Task("short", AnyUpperBits().inputs[:10], AnyUpperBits().targets)
    with pytest.raises(ValueError, match="2-D"):
        Task("flat", np.zeros(5), np.zeros(5))
    labels_out_of_range = Task("labels", AnyUpperBits().inputs, AnyUpperBits().targets * 3)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]"):
        MASDAModel(task=labels_out_of_range)


def test_six_bit_task_works_with_both_models():
    from glianet import NGModel

    task = get_task("any-upper-3")
    assert NGModel(task=task).task is task and MASDAModel(task=task).task is task


def test_cli_masda_writes_table_and_figure(tmp_path, capsys):
    from glianet.cli import main

    out = tmp_path / "masda"
    args = ["masda", "--dataset", "any-upper-3", "--out", str(out), "--seeds", "2",
            "--epochs", "4", "--finetune-epochs", "5"]  # fmt: skip
    assert main(args) == 0
    results = pd.read_csv(out / "masda_eval.csv")
    assert {"method", "seed", "test_accuracy", "train_seconds"} <= set(results.columns)
    assert set(results["method"]) == {
        "MASDA pretrain + fine-tune", "MASDA layer-free pretrain + fine-tune",
        "MASDA without culling + fine-tune", "layered SDA + fine-tune",
        "layered SDA predicting labels + fine-tune", "same net, no pretraining",
        "MLPClassifier() defaults", "logistic regression",
    }  # fmt: skip
    assert results["test_accuracy"].between(0, 1).all() and len(results) == 16
    few = pd.read_csv(out / "masda_few_labels.csv")
    assert set(few["label_fraction"]) == {0.05, 0.1, 0.25, 1.0}
    assert set(few["method"]) == {"MASDA", "layered SDA", "no pretraining"} and len(few) == 24
    features = pd.read_csv(out / "masda_features.csv")
    assert len(features) == 2 and (features["dae_recon_mse"] > 0).all()
    for figure in ("masda_population.png", "masda_few_labels.png"):
        assert (out / figure).read_bytes()[:4] == b"\x89PNG"
    assert "MASDA pretrain + fine-tune" in capsys.readouterr().out
    assert main(args) == 2, "no overwrite without --force"


# -- selection: per-unit credit, stochastic culling, stability after a plateau ----------------


def test_units_of_one_depth_score_their_own_contribution():
    model = connected("vectorized", eta=0.05, pretrain_epochs=6)
    hidden = model.units.connected_variable_slots()
    rewards = [r.slot for r in model.units.reward_units()]
    silent, loud = hidden[0], hidden[1]
    model.units.W[rewards, loud] *= 4.0  # loud random messages push predictions off target
    for _ in range(6):
        model.units.W[rewards, silent] = 0.0  # its messages reach nobody
        model.step()
    scores = model.units.score[hidden]
    assert model.units.score[silent] == 0.0, "no outgoing weight, no credit"
    assert len(set(np.round(scores, 12))) == len(hidden), "every unit its own score"
    assert model.units.score[loud] == scores.min() < 0, "the harmful unit earns the least"


def test_a_useless_unit_is_culled_before_a_useful_one_over_seeds():
    first_culled = []
    for seed in range(20):
        model = MASDAModel(rng=seed, n_units=2, eta=0.05, cull_rate=0.3, score_scale=0.002,
                           min_age=1, stable_age=100, pretrain_epochs=40)  # fmt: skip
        for unit in model.units.unconnected_units():
            unit.connect()
        useless, useful = model.units.connected_variable_slots()
        rewards = [r.slot for r in model.units.reward_units()]
        while model.running and model.units.alive[useless] and model.units.alive[useful]:
            model.units.W[rewards, useless] = 0.0
            model.step()
        if not model.units.alive[useless]:
            first_culled.append("useless")
        elif not model.units.alive[useful]:
            first_culled.append("useful")
    # measured: 17 of 20 (the same cull probability for both units gives 11 of 20)
    assert first_culled.count("useless") >= 15, first_culled


def test_stability_waits_for_the_minimum_age_and_the_plateau():
    always_flat = MASDAModel(rng=3, n_units=6, eta=0.05, stable_window=2, stable_age=6,
                             stable_tol=10.0, cull_rate=0.0, pretrain_epochs=10)  # fmt: skip
    while always_flat.running:
        always_flat.step()
    data = always_flat.datacollector.get_model_vars_dataframe().set_index("epoch")
    assert data["stabilized"].loc[:5].sum() == 0, "nothing turns stable before stable_age"
    assert data["stabilized"].loc[6] == 6, "all turn stable at the first mark at stable_age"

    still_learning = MASDAModel(rng=3, n_units=6, eta=0.05, stable_window=2, stable_age=2,
                                stable_tol=0.0, cull_rate=0.0, pretrain_epochs=10)  # fmt: skip
    rewards = []
    while still_learning.running:
        still_learning.step()
        rewards.append(still_learning.units.reward[still_learning.units.connected_variable_slots()])
    rewards = np.array(rewards)
    assert (rewards[3::2] > rewards[1:-1:2]).all(), "the reward still rises at every mark"
    data = still_learning.datacollector.get_model_vars_dataframe()
    assert data["stabilized"].sum() == 0, "so no unit turns stable"


def test_a_weight_plateau_is_each_units_own():
    """plateau="reward": every founder of depth 1 measures the same error, so all turn stable at
    one mark; plateau="weights": each measures its own weights, and they turn stable at marks
    of their own."""
    epochs = {}
    for plateau, tol in (("reward", 0.2), ("weights", 0.1)):
        model = MASDAModel(rng=1, n_units=16, eta=0.05, stable_window=3, stable_age=6,
                           stable_tol=tol, cull_rate=0.0, pretrain_epochs=30, plateau=plateau,
                           max_depth=1)  # fmt: skip
        while model.running:
            model.step()
        data = model.datacollector.get_model_vars_dataframe()
        epochs[plateau] = set(data["epoch"][data["stabilized"] > 0])
        assert data["stabilized"].sum() >= 12
    assert len(epochs["reward"]) == 1 and len(epochs["weights"]) >= 3, epochs


def test_weight_change_is_relative_to_the_last_mark():
    from glianet.state import UnitPopulation

    units = UnitPopulation(marks=True)
    for _ in range(3):
        units.allocate(CONSTANT, 0, 0.0)
    units.W[2, :2] = [3.0, 4.0]
    assert units.weight_change(2) is None, "the first mark has nothing to compare with"
    units.W[2, :2] = [3.0, 0.0]
    assert units.weight_change(2) == pytest.approx(4.0 / 5.0)
    assert units.weight_change(2) == 0.0
    assert UnitPopulation().W_mark is None, "kept only for plateau='weights'"


@pytest.mark.parametrize("layer_free", [False, True])
def test_layer_free_units_take_inputs_from_every_lower_depth(layer_free):
    model = MASDAModel(rng=1, pretrain_epochs=40, layer_free=layer_free, **GROWING)
    while model.running:
        model.step()
    deep = [model.units[s] for s in model.units.connected_variable_slots()
            if model.units.depth[s] == 2]  # fmt: skip
    assert deep, "the case must grow depth 2"
    for unit in deep:
        depths = {p.depth for p in unit.prev_nodes if p is not model.bias}
        if layer_free:
            assert depths == {0, 1}, "data constants and stable depth-1 units"
        else:
            assert depths == {1}, "only the depth below"


def test_fine_tuning_follows_the_gradient_of_a_dag():
    """One full-batch step of MaskedMLP equals -lr times the numerical gradient of the mean
    cross-entropy, for a net whose second layer reads the input and the first layer (masked)."""
    from glianet.experiments.finetune import MaskedMLP, softmax

    rng = np.random.default_rng(0)
    x, labels = rng.random((5, 3)), np.array([0, 1, 2, 1, 0])
    weights = [rng.normal(size=(2, 3)), rng.normal(size=(2, 5))]
    masks = [np.ones((2, 3), bool), np.array([[1, 0, 1, 1, 0], [0, 1, 1, 0, 1]], bool)]
    biases = [rng.normal(size=2), rng.normal(size=2)]

    def net():
        return MaskedMLP(3, [w.copy() for w in weights], biases, 3,
                         np.random.default_rng(1), masks)  # fmt: skip

    def loss(model):
        p = softmax(model.features(model.hidden(x)) @ model.out_w.T + model.out_b)
        return -np.mean(np.log(p[np.arange(len(x)), labels]))

    before = net()
    after = net().fit(x, labels, epochs=1, lr=1e-3, momentum=0.0, batch=len(x))
    for layer in range(2):
        numeric = np.zeros_like(weights[layer])
        for i, j in zip(*np.nonzero(masks[layer]), strict=True):
            bumped = net()
            bumped.weights[layer][i, j] += 1e-6
            numeric[i, j] = (loss(bumped) - loss(before)) / 1e-6
        step = after.weights[layer] - before.weights[layer]
        np.testing.assert_allclose(step, -1e-3 * numeric, atol=1e-8)
        assert not step[~masks[layer]].any(), "absent edges stay 0"


def test_the_sda_given_labels_learns_to_predict_them_in_its_first_layer():
    """With ``labels`` the first layer's decoder also predicts the labels from the hidden units
    (which never see them): on digits it classifies the training set far above chance, while the
    decoder of the plain SDA has no label outputs at all."""
    from glianet.experiments.finetune import pretrain_dae_stack
    from glianet.tasks import Digits

    train = Digits("train")
    x, y = train.inputs[:600], train.targets[:600]
    plain = pretrain_dae_stack(x, [20], [0.2], np.random.default_rng(0), epochs=20,
                               decoders=True)  # fmt: skip
    (w,), (b,), (w_dec,), (b_dec,) = pretrain_dae_stack(
        x, [20], [0.2], np.random.default_rng(0), epochs=20, decoders=True, labels=y
    )
    assert plain[2][0].shape == (64, 20) and w_dec.shape == (74, 20)
    h = 1 / (1 + np.exp(-(x @ w.T + b)))
    predicted = (h @ w_dec[64:].T + b_dec[64:]).argmax(axis=1)
    assert np.mean(predicted == y.argmax(axis=1)) > 0.5  # chance: 0.1
    with pytest.raises(ValueError, match="one row of targets per row of x"):
        pretrain_dae_stack(x, [20], [0.2], np.random.default_rng(0), labels=y[:-1])
