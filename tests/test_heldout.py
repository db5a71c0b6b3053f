"""Held-out evaluation and class accuracy of the NG model, and its softmax-CE output."""

import numpy as np
import pytest

from glianet import NGModel
from glianet.tasks import Digits, Task, get_task

# Two inputs, three classes; the second split is held out.
HAND = Task(
    "hand",
    inputs=[[1, 0], [0, 1], [1, 1], [0, 0]],
    targets=np.eye(3)[[0, 1, 2, 1]],
    test_inputs=[[1, 0], [0, 1]],
    test_targets=np.eye(3)[[1, 1]],
)


def test_class_accuracy_and_test_split_on_a_hand_made_network():
    model = NGModel(task=HAND, layers=[2, 3], output="softmax-ce", epochs=0, rng=0)
    model.state.weights(1)[:] = [[2.0, 0.0], [0.0, 2.0], [1.5, 1.5]]
    model.state.biases(1)[:] = [0.1, 0.0, 0.0]
    model.collect()
    # Activations: [1,0] -> (2.1, 0, 1.5): class 0; [0,1] -> (0.1, 2, 1.5): 1;
    # [1,1] -> (2.1, 2, 3): 2; [0,0] -> (0.1, 0, 0): 0. Targets 0, 1, 2, 1: 3 of 4 right.
    # Test: classes 0 and 1 against targets 1 and 1: 1 of 2 right.
    last = model.datacollector.get_model_vars_dataframe().iloc[-1]
    assert last["accuracy"] == 0.75
    assert last["test_accuracy"] == 0.5
    a = np.array([[2.1, 0.0, 1.5], [0.1, 2.0, 1.5]])
    y = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
    assert last["test_mse"] == pytest.approx(np.mean((y - np.eye(3)[[1, 1]]) ** 2), abs=1e-12)
    # Any output on the wrong side of 0.5: the first test pattern (y_0 > 0.5, t_0 = 0) only.
    assert y[0, 0] > 0.5 and np.array_equal(y[1] > 0.5, [False, True, False])
    assert last["test_error"] == 0.5


def test_digits_records_test_accuracy_per_epoch():
    model = NGModel(task="digits", layers=[64, 16, 10], output="softmax-ce", eta=0.1,
                    samples_per_epoch=600, epochs=3, rng=0)  # fmt: skip
    while model.running:
        model.step()
    data = model.datacollector.get_model_vars_dataframe()
    assert {"error", "mse", "accuracy", "test_error", "test_mse", "test_accuracy"} <= set(data)
    assert len(data) == 4 and data["test_accuracy"].iloc[-1] > 0.6  # it learns
    # The held-out part is MASDA's: scikit-learn's split, test_size=0.25, random_state=0.
    held_out = get_task("digits-test")
    assert model.task.n_patterns == 1347 and len(held_out.inputs) == 450
    np.testing.assert_array_equal(model.task.test_inputs, held_out.inputs)
    predicted = np.argmax(model.predict(held_out.inputs), axis=1)
    assert data["test_accuracy"].iloc[-1] == np.mean(predicted == held_out.labels)


def test_a_task_without_test_split_or_classes_records_what_it_has():
    model = NGModel(epochs=0, rng=0)
    columns = set(model.datacollector.get_model_vars_dataframe())
    assert {"error", "mse"} <= columns
    assert not {c for c in columns if "test" in c or "accuracy" in c}
    two_class = Task("two", [[0.0], [1.0]], [[1.0, 0.0], [0.0, 1.0]])
    assert two_class.one_hot and not two_class.has_test and not get_task("any-upper-3").one_hot


@pytest.mark.parametrize(
    ("split", "message"),
    [
        ({"test_inputs": [[0.0, 1.0]]}, "both"),
        ({"test_inputs": [[0.0]], "test_targets": [[1.0]]}, "test split has 1 inputs"),
        ({"test_inputs": [[0.0, 1.0]], "test_targets": [[1.0], [0.0]]}, "test_inputs have 1"),
        ({"test_inputs": [[0.0, np.nan]], "test_targets": [[1.0]]}, "test_inputs contain NaN"),
    ],
)
def test_bad_test_split_is_a_clear_error(split, message):
    with pytest.raises(ValueError, match=message):
        Task("bad", [[0.0, 1.0]], [[1.0]], **split)


def test_checkpoint_keeps_the_test_split(tmp_path):
    task = Digits()
    model = NGModel(task=Task("mine", task.inputs[:200], task.targets[:200], task.test_inputs,
                              task.test_targets),
                    layers=[64, 8, 10], output="softmax-ce", samples_per_epoch=200, epochs=2,
                    rng=0)  # fmt: skip
    model.step()
    model.save(tmp_path / "m.npz")
    loaded = NGModel.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.task.test_targets, task.test_targets)
    model.step()
    loaded.step()
    a, b = (m.datacollector.get_model_vars_dataframe() for m in (model, loaded))
    assert a["test_accuracy"].tolist() == b["test_accuracy"].tolist()
