import matplotlib

matplotlib.use("Agg")

import numpy as np

from glianet.tasks import AnyUpperBits, Task, register_task


def upper_bits_classes() -> Task:
    """The paper's 64 patterns as a 3-class task (how many of the upper 3 bits are set: 0, 1,
    2 or more), one-hot, with a held-out split: the even patterns train, the odd ones test."""
    inputs = AnyUpperBits().inputs
    labels = np.minimum(inputs[:, :3].sum(axis=1), 2).astype(int)
    targets = np.eye(3)[labels]
    return Task("upper-classes", inputs[::2], targets[::2], inputs[1::2], targets[1::2])


register_task("upper-classes", upper_bits_classes)
