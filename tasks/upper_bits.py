"""The NG paper's task: is any of the upper bits of a binary input set?"""

from __future__ import annotations

import itertools

import numpy as np

from glianet.tasks.base import Task, register_task


class AnyUpperBits(Task):
    """All ``2**n_bits`` binary inputs; target 1 iff any of the ``n_upper`` leading bits is 1.

    With the defaults (6 bits, upper 3) this is the task of the NG paper: 64 patterns, 56 positive.

    Parameters
    ----------
    n_bits : int
        Input width.
    n_upper : int
        How many of the leading (most significant) bits are tested.
    """

    def __init__(self, n_bits: int = 6, n_upper: int = 3) -> None:
        if not 1 <= n_upper <= n_bits:
            raise ValueError(f"n_upper={n_upper} must be between 1 and n_bits={n_bits}")
        inputs = np.array(list(itertools.product((0.0, 1.0), repeat=n_bits)))
        targets = (inputs[:, :n_upper].sum(axis=1) > 0).astype(np.float64)
        super().__init__(f"any-upper-{n_upper}-of-{n_bits}", inputs, targets)


register_task("any-upper-3", AnyUpperBits)
