"""Run status (running, finished, diverged, saturated) and the size and target limits of the
models."""

import numpy as np
import pytest

from glianet import NGModel
from glianet.model import MASDAModel
from glianet.parameters import ParameterError
from glianet.sweeps import load_spec
from glianet.sweeps.runner import execute_run
from glianet.tasks import AnyUpperBits, Task

SHORT = {"epochs": 5, "samples_per_epoch": 300}


def finish(model):
    while model.running:
        model.step()
    return model


def test_a_saturated_run_stops_with_its_own_status():
    model = NGModel(rng=0, eta=1e6, **SHORT)
    with pytest.warns(RuntimeWarning, match="saturated"):
        finish(model)
    assert model.status == "saturated" and model.epoch == 1 and not model.diverged
    assert "error rate 0.875" in model.status_message and "eta=1000000.0" in model.status_message
    assert finish(NGModel(rng=0, **SHORT)).status == "finished"


def pinned(task, bias):
    """A model whose output is pinned by a huge output bias (its incoming weights at 0)."""
    model = NGModel(rng=0, task=task, layers=[6, 4, 1], **SHORT)
    model.state.weights(2)[:] = 0.0
    model.state.biases(2)[:] = bias
    model.collect()
    return model


def test_saturation_means_pinned_outputs_that_are_wrong_somewhere():
    task = AnyUpperBits(6, 3)
    assert "error rate 0.875" in pinned(task, -1000.0).saturation()  # all 0: pinned, wrong
    assert "error rate 0.125" in pinned(task, 1000.0).saturation()  # all 1: pinned, wrong
    assert pinned(task, 3.0).saturation() is None  # wrong, but the gradient still moves it
    ones = Task("ones", task.inputs, np.ones_like(task.targets))
    assert pinned(ones, 1000.0).saturation() is None  # pinned, but right everywhere


#: Two outputs, one-hot (so softmax-ce applies): any of the upper bits set, or none.
BITS = AnyUpperBits(6, 3)
TWO = Task("two", BITS.inputs, np.hstack([BITS.targets, 1.0 - BITS.targets]))


@pytest.mark.parametrize("output", ["sigmoid-mse", "softmax-ce"])
def test_a_collapsed_hidden_layer_is_saturation_under_either_output(output):
    model = NGModel(rng=0, task=TWO, layers=[6, 4, 2], output=output, **SHORT)
    s = model.state

    def hidden(weights, bias):
        s.weights(1)[:] = weights
        s.biases(1)[:] = bias
        model.collect()
        return model.saturation()

    assert "hidden layer 1 is pinned" in hidden(0.0, -1000.0)  # all 0 on every pattern
    assert hidden(0.0, 3.0) is None  # the same on every pattern, but its slopes still learn
    spread = 1000.0 * np.random.default_rng(0).choice([-1.0, 1.0], size=(4, 6))
    assert hidden(spread, 0.0) is None  # pinned, but apart: the output layer can still learn


@pytest.mark.parametrize("output", ["sigmoid-mse", "softmax-ce"])
def test_both_engines_saturate_alike_under_either_output(output):
    runs = []
    for engine in ("vectorized", "agents"):
        model = NGModel(rng=0, task=TWO, layers=[6, 8, 2], output=output, eta=1e6,
                        engine=engine, **SHORT)  # fmt: skip
        with pytest.warns(RuntimeWarning, match="saturated"):
            finish(model)
        runs.append(model)
    vectorized, agents = runs
    assert vectorized.status == agents.status == "saturated" and vectorized.epoch < 5
    assert vectorized.status_message == agents.status_message and vectorized.epoch == agents.epoch
    assert np.array_equal(vectorized.state.w, agents.state.w)


def test_a_sweep_records_a_saturated_run():
    spec = {"model": "ng", "epochs": 3, "fixed": {"samples_per_epoch": 100, "eta": 1e6}}
    with pytest.warns(RuntimeWarning, match="saturated"):
        frame = execute_run(load_spec(spec).runs()[0])
    summary = frame[frame["kind"] == "summary"].iloc[0]
    assert summary["status"] == "saturated" and "saturated in epoch 1" in summary["message"]


def test_both_engines_report_the_same_divergence():
    base = AnyUpperBits(6, 3)
    huge = Task("huge", base.inputs * 1e155, base.targets)  # ReLU outputs overflow
    runs = []
    for engine in ("vectorized", "agents"):
        model = NGModel(rng=0, task=huge, activation="relu", engine=engine, **SHORT)
        with pytest.warns(RuntimeWarning, match="NaN or infinite"):
            finish(model)
        runs.append(model)
    vectorized, agents = runs
    assert vectorized.status == agents.status == "diverged"
    assert vectorized.status_message == agents.status_message and vectorized.epoch == agents.epoch


@pytest.mark.parametrize("eta", [1e6, None])
def test_a_stopped_model_does_not_step_again(eta):
    model = NGModel(rng=0, **SHORT, **({"eta": eta} if eta else {}))
    if eta is None:  # divergence
        model.state.b[-1] = np.inf
    with pytest.warns(RuntimeWarning):
        model.step()
    w = model.state.w.copy()
    with pytest.raises(RuntimeError, match="does not run again"):
        model.step()
    assert model.epoch == 1 and np.array_equal(model.state.w, w, equal_nan=True)


@pytest.mark.parametrize("model_class", [NGModel, MASDAModel])
@pytest.mark.parametrize("split", ["", "test "])
def test_targets_outside_the_unit_interval_are_refused(model_class, split):
    base = AnyUpperBits(6, 3)
    doubled = 2.0 * base.targets
    train = base.targets if split else doubled
    task = Task("doubled", base.inputs, train, base.inputs, doubled)
    with pytest.raises(ParameterError, match=f"'doubled': {split}targets must lie in") as error:
        model_class(task=task)
    assert error.value.name == "task"


def test_masda_sizes_are_bounded():
    with pytest.raises(ParameterError, match="must be between 1 and 100") as error:
        MASDAModel(max_depth=10**6)
    assert error.value.name == "max_depth"
    with pytest.raises(ParameterError, match="GiB") as error:
        MASDAModel(n_units=10**6)
    assert error.value.name == "n_units"


def test_the_status_is_saved_in_checkpoints(tmp_path):
    saturated = NGModel(rng=0, eta=1e6, **SHORT)
    masda = MASDAModel(rng=0, n_units=4, pretrain_epochs=3)
    first_reward = masda.units.reward_node[masda.data_constants[0].slot]
    masda.units.W[first_reward, masda.bias.slot] = np.inf  # an infinite weight on an edge
    for model in (saturated, masda):
        with pytest.warns(RuntimeWarning, match="saturated|NaN"):
            model.step()
        model.save(tmp_path / "stopped.npz")
        loaded = type(model).load(tmp_path / "stopped.npz")
        assert loaded.status == model.status != "running" and not loaded.running
        assert loaded.status_message == model.status_message
