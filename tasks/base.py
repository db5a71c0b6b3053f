"""The task interface shared by the NG and MASDA models."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class Task:
    """A supervised data set of fixed patterns.

    Parameters
    ----------
    name : str
        Short name, used in results and on the command line.
    inputs : array of shape (n_patterns, n_inputs)
        Input patterns, finite floats.
    targets : array of shape (n_patterns, n_outputs)
        Targets in [0, 1] (one column per output neuron).
    test_inputs, test_targets : arrays, optional
        A held-out split, never trained on: same widths as ``inputs`` and ``targets``. Give both
        or neither.

    Raises
    ------
    ValueError
        If the arrays are not 2-D, hold NaN or infinity, disagree on the number of patterns, or
        the test split disagrees with the training patterns on the widths.
    """

    def __init__(
        self,
        name: str,
        inputs: np.ndarray,
        targets: np.ndarray,
        test_inputs: np.ndarray | None = None,
        test_targets: np.ndarray | None = None,
    ) -> None:
        self.name = name
        self.inputs, self.targets = _patterns(name, "", inputs, targets)
        self.test_inputs = self.test_targets = None
        if (test_inputs is None) != (test_targets is None):
            raise ValueError(f"task {name!r}: give both test_inputs and test_targets, or neither")
        if test_inputs is not None:
            self.test_inputs, self.test_targets = _patterns(
                name, "test_", test_inputs, test_targets
            )
            widths = (self.inputs.shape[1], self.targets.shape[1])
            if (self.test_inputs.shape[1], self.test_targets.shape[1]) != widths:
                raise ValueError(
                    f"task {name!r}: the test split has {self.test_inputs.shape[1]} inputs and "
                    f"{self.test_targets.shape[1]} targets, the training patterns {widths[0]} "
                    f"and {widths[1]}"
                )

    @property
    def has_test(self) -> bool:
        """Whether the task carries a held-out test split."""
        return self.test_inputs is not None

    @property
    def one_hot(self) -> bool:
        """Whether the targets are one-hot class labels (>= 2 columns, one 1 a row, the rest 0):
        then class accuracy (argmax of the outputs) is defined."""
        t = self.targets
        return t.shape[1] >= 2 and bool(np.all((t == 0) | (t == 1)) and np.all(t.sum(axis=1) == 1))

    @property
    def family(self) -> str:
        """The task's family, for per-task parameter defaults (a split's parts share one)."""
        return self.name

    @property
    def n_patterns(self) -> int:
        """Number of patterns."""
        return self.inputs.shape[0]

    @property
    def n_inputs(self) -> int:
        """Number of input features (input neurons)."""
        return self.inputs.shape[1]

    @property
    def n_outputs(self) -> int:
        """Number of targets per pattern (output neurons)."""
        return self.targets.shape[1]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, patterns={self.n_patterns}, "
            f"inputs={self.n_inputs}, outputs={self.n_outputs})"
        )


def _patterns(
    name: str, prefix: str, inputs: np.ndarray, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Checked float arrays of a split (targets as a column if 1-D)."""
    inputs = np.asarray(inputs, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    if targets.ndim == 1:
        targets = targets[:, None]
    for label, array in ((f"{prefix}inputs", inputs), (f"{prefix}targets", targets)):
        if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
            raise ValueError(
                f"task {name!r}: {label} must be a non-empty 2-D array "
                f"(patterns x features), got shape {array.shape}"
            )
        if not np.all(np.isfinite(array)):
            raise ValueError(f"task {name!r}: {label} contain NaN or infinity")
    if inputs.shape[0] != targets.shape[0]:
        raise ValueError(
            f"task {name!r}: {prefix}inputs have {inputs.shape[0]} patterns but {prefix}targets "
            f"have {targets.shape[0]}"
        )
    return inputs, targets


TASKS: dict[str, Callable[[], Task]] = {}
FAMILIES: dict[str, str] = {}


def register_task(name: str, factory: Callable[[], Task], family: str | None = None) -> None:
    """Make ``get_task(name)`` build a task with ``factory()``; ``family`` (default: ``name``)
    groups the names of one data set's parts for per-task parameter defaults."""
    TASKS[name] = factory
    FAMILIES[name] = family or name


def task_family(task: str | Task) -> str:
    """The family of a task given by name or as a Task (``"digits"`` for every digits part)."""
    return task.family if isinstance(task, Task) else FAMILIES.get(task, str(task))


def get_task(task: str | Task) -> Task:
    """Return ``task`` itself, or the registered task of that name.

    Raises
    ------
    ValueError
        If no task of that name is registered.
    """
    if isinstance(task, Task):
        return task
    if not isinstance(task, str) or task not in TASKS:
        raise ValueError(
            f"task={task!r} is not a known task; choose one of {sorted(TASKS)} or pass a Task"
        )
    return TASKS[task]()
