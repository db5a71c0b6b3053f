"""The scheduler of a MASDA pretraining epoch (paper Algorithm 1).

Phases: unconnected variable units connect; the samples are presented in random order (per
sample the environment feeds the constant units and the units do the rest, by messages); then
weight changes are applied, units may turn stable, low scorers are culled and replaced.

The sample phase has two paths. ``engine="agents"``: every message is an event on the model's
event list, delivered after ``latency`` (0: at once), each unit acting on what it receives.
``engine="vectorized"``: the same messages computed in bulk, depth by depth, for all the epoch's
samples at once (possible because weights only change at the end of the epoch). Both draw the
same random numbers: sample order and connections from the model's generator, corruption from
each unit's own generator.
"""

from __future__ import annotations

import numpy as np

from glianet.agents.functions import sigmoid

ENGINES = ("vectorized", "agents")


class MASDAScheduler:
    """Runs the phases of a :class:`~glianet.model.MASDAModel` epoch."""

    def __init__(self, model, engine: str) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine={engine!r} is invalid: it must be one of {ENGINES}")
        self.model = model
        self.engine = engine

    def run_epoch(self) -> dict:
        """One pretraining epoch; returns how many units were culled, created, stabilized."""
        m = self.model
        for unit in m.unconnected_units():
            unit.connect()
        order = m.rng.permutation(m.task.n_patterns)
        feed_order = np.argsort(m.rng.random((len(order), len(m.data_constants))), axis=1)
        m.units.reward_sum[:] = 0.0
        m.units.error_sum[:] = 0.0
        if self.engine == "agents":
            m.present_by_messages(order, feed_order)
        else:
            self.present_in_bulk(order)
        return m.end_epoch(len(order))

    def present_in_bulk(self, order: np.ndarray) -> None:
        """Every message of the epoch's samples at once, depth by depth (vectorized path)."""
        m, u = self.model, self.model.units
        n, size = len(order), u.size
        edges = m.edge_mask()
        V = np.zeros((n, size))
        for unit, column in zip(m.data_constants, m.data_columns(order), strict=True):
            V[:, unit.slot] = column
        V[:, m.bias.slot] = 1.0
        sent = V.copy()

        def corrupt(slots) -> None:
            for slot in slots:
                sent[:, slot] = np.where(m.unit_at(slot).hides_value(n), 0.0, V[:, slot])

        corrupt([unit.slot for unit in m.constants])
        variables = m.connected_variable_slots()
        for depth in sorted({int(u.depth[s]) for s in variables}):
            cols = [s for s in variables if u.depth[s] == depth]
            V[:, cols] = sigmoid(sent @ u.W[cols, :size].T)
            sent[:, cols] = V[:, cols]
            corrupt(cols)

        rewards = [unit.slot for unit in m.reward_units()]
        prediction = sigmoid(sent @ u.W[rewards, :size].T)
        delta = prediction - V[:, u.target[rewards]]
        reward = 1.0 - np.abs(delta)
        u.error_sum[rewards] = (delta**2).sum(axis=0)
        u.dW[rewards, :size] -= m.eta * (delta.T @ sent) * edges[rewards]

        back = delta @ u.W[rewards, :size]
        feeds = edges[rewards][:, variables]  # reward r <- variable j
        counts = feeds.sum(axis=0)
        u.reward_sum[variables] = (reward @ feeds).sum(axis=0) / np.maximum(counts, 1)
        learning = [s for s in variables if not u.stable[s]]
        local = V[:, learning] * (1.0 - V[:, learning]) * back[:, learning]
        u.dW[learning, :size] -= m.eta * (local.T @ sent) * edges[learning]
        # forward (one per edge), target (one per reward unit), backward (reward -> variable)
        m.messages += n * int(edges.sum() + len(rewards) + feeds.sum())
