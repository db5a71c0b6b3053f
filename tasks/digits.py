"""scikit-learn's bundled 8x8 digits (1797 samples, 10 classes), features scaled to [0, 1]."""

from __future__ import annotations

import numpy as np

from glianet.tasks.base import Task, register_task


class Digits(Task):
    """The 8x8 digits with one-hot targets, split as SPEC says (``test_size=0.25, random_state=0``).

    Parameters
    ----------
    part : {"train", "test", "all"}
        Which part of the fixed split the task holds. The training part carries the test part as
        its held-out split (``test_inputs``, ``test_targets``, ``test_labels``).
    """

    def __init__(self, part: str = "train") -> None:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        if part not in ("train", "test", "all"):
            raise ValueError(f"part={part!r} is invalid: it must be 'train', 'test' or 'all'")
        data = load_digits()
        inputs = data.data / 16.0
        labels = data.target
        test = {}
        if part != "all":
            train_x, test_x, train_y, test_y = train_test_split(
                inputs, labels, test_size=0.25, random_state=0
            )
            inputs, labels = (train_x, train_y) if part == "train" else (test_x, test_y)
            if part == "train":
                self.test_labels = np.asarray(test_y, dtype=np.int64)
                test = {"test_inputs": test_x, "test_targets": np.eye(10)[self.test_labels]}
        self.labels = np.asarray(labels, dtype=np.int64)
        super().__init__(f"digits-{part}", inputs, np.eye(10)[self.labels], **test)


    @property
    def family(self) -> str:
        """Every part of the split is a "digits" task."""
        return "digits"


register_task("digits", Digits)
register_task("digits-test", lambda: Digits("test"), family="digits")
