"""The scheduler of a MASDA pretraining epoch (paper Algorithm 1).

Phases: unconnected variable units connect; the samples are presented in random order (per
sample the environment feeds the constant units and the units do the rest, by messages); then
the end of the epoch: the weight changes are applied, scores updated, units may turn stable, units
die stochastically (the fewer credit, the likelier) and are replaced. Weight changes are summed
and applied at once (:meth:`MASDAScheduler.apply_changes`): once per epoch, as the paper says
(``update_every = 0``), or after every ``update_every`` samples within the epoch.

The sample phase has two paths. ``engine="agents"``: every message is on the model's event list,
delivered after the sender's delay (0 with ``latency = 0``), each unit acting on what it
receives (:meth:`MASDAScheduler.present_by_messages`); the messages due at one time are
delivered by one event, in the order they were posted, which is the order Mesa would give one
event per message (time, then scheduling order). ``engine="vectorized"``: the same
messages computed in bulk, depth by depth, for all the samples between two weight updates at
once (the epoch's, or ``update_every`` of them; :meth:`MASDAScheduler.present_in_bulk`). Both draw
the same random numbers: sample order and connections from the model's generator, corruption
from each unit's own generator.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from mesa.time import Priority

from glianet.agents.functions import sigmoid
from glianet.agents.masda import Message, Unit, VariableUnit


class MessagesInFlightError(RuntimeError):
    """An epoch ended with messages not yet delivered: its result would be wrong."""


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector meanwhile (reference counting still frees).

    An epoch of messages makes millions of short-lived message objects; they hold no reference
    cycles and die by reference counting, but their number triggers the collector's full
    passes, each of which scans every object of the model (about 30 % of the engine's time
    on digits). The collector is switched back on afterwards if it was on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class MessageBatch:
    """The messages due at one time: one event on the model's event list that delivers them in
    the order they were posted, those posted for this same time while it runs included (with
    ``latency = 0`` what a unit sends is due at once).

    Parameters
    ----------
    scheduler : MASDAScheduler
        Whom to tell when the batch is delivered.
    due : float
        The model time the messages are due.
    """

    __slots__ = ("scheduler", "due", "messages", "delivered", "__weakref__")

    def __init__(self, scheduler: MASDAScheduler, due: float) -> None:
        self.scheduler, self.due = scheduler, due
        self.messages: deque[Message] = deque()
        self.delivered = 0  # how many, once delivered

    def __call__(self) -> None:
        # A delivered message is dropped at once, so few messages live long.
        messages, delivered = self.messages, 0
        while messages:
            messages.popleft()()
            delivered += 1
        self.delivered = delivered
        self.scheduler.delivered(self)


class MASDAScheduler:
    """Runs the phases of a :class:`~glianet.model.MASDAModel` epoch.

    Parameters
    ----------
    model : MASDAModel
        The model whose units are stepped.
    engine : {"vectorized", "agents"}
        Which path runs the sample phase.
    """

    def __init__(self, model, engine: str) -> None:
        self.model = model
        self.engine = engine
        #: How many messages are posted and not yet delivered.
        self.in_flight = 0
        # The batches on the event list, by due time (Mesa holds event callbacks weakly).
        self._batches: dict[float, MessageBatch] = {}
        self._hop = 0.0  # model time of one message hop, set per epoch

    def run_epoch(self) -> dict:
        """One pretraining epoch; returns how many units were culled, created, stabilized."""
        m = self.model
        for unit in m.units.unconnected_units():
            unit.connect()
        order = m.rng.permutation(m.task.n_patterns)
        feed_order = np.argsort(m.rng.random((len(order), len(m.data_constants))), axis=1)
        m.units.reward_sum[:] = 0.0
        m.units.credit_sum[:] = 0.0
        m.units.error_sum[:] = 0.0
        if self.engine == "agents":
            self.present_by_messages(order, feed_order)
        else:
            self.present_in_bulk(order)
        return self.end_epoch(len(order))

    def data_columns(self, order: np.ndarray) -> list[np.ndarray]:
        """Per data constant, its values on the samples in ``order``."""
        task = self.model.task
        values = np.hstack([task.inputs, task.targets])[order]
        return list(values[:, : len(self.model.data_constants)].T)  # no teachers: inputs only

    # -- the sample phase, per agent: messages as events -----------------------------------------
    def post(self, sender: Unit, messages: list[Message]) -> None:
        """Put what ``sender`` sends now on the model's event list, due after its delay.

        With ``latency > 0`` a sender's messages take 1, 2 or 3 hop times (by the sender's slot),
        so messages of different senders arrive interleaved.
        """
        m = self.model
        self.post_at(m.time + m.latency * self._hop * (1 + sender.slot % 3), messages)

    def post_at(self, due: float, messages: list[Message]) -> None:
        """Put ``messages`` on the model's event list at time ``due``, after those posted for
        ``due`` before them."""
        if not messages:
            return
        batch = self._batches.get(due)
        if batch is None:
            batch = self._batches[due] = MessageBatch(self, due)
            self.model.schedule_event(batch, at=due)
        batch.messages += messages
        self.in_flight += len(messages)
        self.model.messages += len(messages)

    def delivered(self, batch: MessageBatch) -> None:
        """A batch was delivered; when no message is left in flight, the sample is done."""
        del self._batches[batch.due]
        self.in_flight -= batch.delivered
        if not self.in_flight:
            self.model.schedule_event(self._feed_next_sample, at=self.model.time,
                                      priority=Priority.LOW)  # fmt: skip

    def present_by_messages(self, order: np.ndarray, feed_order: np.ndarray) -> None:
        """Feed the samples one after another; the units compute by message events.

        The epoch's events run within half a unit of model time after ``model.time``: a sample's
        messages pass at most ``2 max_depth + 4`` hops, each at most 3 hop times times the
        latency, and the hop time is set so that every sample fits. The clock is then set back,
        so Mesa's step schedule goes on at whole times.

        Raises
        ------
        MessagesInFlightError
            If a message is still undelivered when the epoch's time is up.
        """
        m = self.model
        start = m.time
        longest_sample = (2 * m.max_depth + 4) * 3 * max(m.latency, 1.0)
        self._hop = 0.5 / (longest_sample * (len(order) + 1))
        self._columns, self._feed_order, self._next_sample = (
            self.data_columns(order), feed_order, 0
        )  # fmt: skip
        m.schedule_event(self._feed_next_sample, at=start)
        with cyclic_gc_paused():
            m.run_until(start + 0.5)
        m.time = start
        if self.in_flight or self._next_sample < len(order):
            raise MessagesInFlightError(
                f"MASDA epoch {m.epoch + 1}: {self.in_flight} messages still in flight and "
                f"{len(order) - self._next_sample} samples not fed when the epoch's time was up"
            )

    def _feed_next_sample(self) -> None:
        """The environment inputs the next sample to the constants, in random order."""
        m, i = self.model, self._next_sample
        if i == len(self._feed_order):
            return
        if i and m.update_every and i % m.update_every == 0:
            self.apply_changes()
        self._next_sample += 1
        for k in self._feed_order[i]:
            m.data_constants[k].receive_data(self._columns[k][i])
        m.bias.receive_data(1.0)

    # -- the sample phase, vectorized ----------------------------------------------------------
    def present_in_bulk(self, order: np.ndarray) -> None:
        """Every message of the samples in ``order``, in bulk (vectorized path): all at once, or
        ``update_every`` samples at a time with the summed changes applied in between, as the
        message path does."""
        k = self.model.update_every or len(order)
        for start in range(0, len(order), k):
            if start:
                self.apply_changes()
            self.present_batch(order[start : start + k])

    def present_batch(self, order: np.ndarray) -> None:
        """Every message of the samples in ``order`` at once, depth by depth, with the weights
        as they are; changes, rewards, credit and errors are added to the sums."""
        m, u = self.model, self.model.units
        n, size = len(order), u.size
        edges = u.edge_mask()
        V = np.zeros((n, size))
        for unit, column in zip(m.data_constants, self.data_columns(order), strict=True):
            V[:, unit.slot] = column
        V[:, m.bias.slot] = 1.0
        sent = V.copy()

        def corrupt(slots) -> None:
            for slot in slots:
                sent[:, slot] = np.where(u[slot].hides_value(n), 0.0, V[:, slot])

        corrupt([unit.slot for unit in m.constants])
        variables = u.connected_variable_slots()
        for depth in sorted({int(u.depth[s]) for s in variables}):
            cols = [s for s in variables if u.depth[s] == depth]
            V[:, cols] = sigmoid(sent @ u.W[cols, :size].T)
            sent[:, cols] = V[:, cols]
            corrupt(cols)

        rewards = [unit.slot for unit in u.reward_units()]
        prediction = sigmoid(sent @ u.W[rewards, :size].T)
        delta = prediction - V[:, u.target[rewards]]
        reward = 1.0 - np.abs(delta)
        u.error_sum[rewards] += (delta**2).sum(axis=0)
        u.dW[rewards, :size] -= m.eta * (delta.T @ sent) * edges[rewards]

        W_back = u.W[rewards][:, variables]  # 0 where reward r is not fed by variable j
        back = np.zeros((n, size))
        back[:, variables] = delta @ W_back
        feeds = edges[rewards][:, variables]  # reward r <- variable j
        counts = feeds.sum(axis=0)
        u.reward_sum[variables] += (reward @ feeds).sum(axis=0) / np.maximum(counts, 1)
        # RewardUnit.credit summed over reward units and samples, in bulk
        given = sent[:, variables]
        curvature = (prediction * (1.0 - prediction)) @ W_back**2
        credit = -given * back[:, variables] + 0.5 * given * given * curvature
        u.credit_sum[variables] += credit.sum(axis=0)
        learning = self.learning_slots()
        local = V[:, learning] * (1.0 - V[:, learning]) * back[:, learning]
        u.dW[learning, :size] -= m.eta * (local.T @ sent) * edges[learning]
        # forward (one per edge), target (one per reward unit), backward (reward -> variable)
        m.messages += n * int(edges.sum() + len(rewards) + feeds.sum())

    # -- weight updates and the end of the epoch (both engines) --------------------------------
    def learning_slots(self) -> list[int]:
        """Slots of the connected variable units in state A (whose prev weights learn)."""
        u = self.model.units
        return [s for s in u.connected_variable_slots() if not u.stable[s]]

    def apply_changes(self) -> None:
        """The summed update: the changes summed since the last update are added to the prev
        weights of the state-A variable units and the reward units. Both engines call it after
        every ``update_every`` samples (if > 0), and :meth:`end_epoch` at the end of the epoch
        (the paper's once-per-epoch update when ``update_every = 0``)."""
        u = self.model.units
        u.apply_changes(self.learning_slots() + [unit.slot for unit in u.reward_units()])

    def end_epoch(self, n_samples: int) -> dict:
        """Apply the summed changes, update the scores, turn units whose learning plateaued
        stable, cull (stochastically, or a fraction of low scorers) and replace. Each rule is a
        method of :class:`~glianet.agents.masda.VariableUnit`."""
        m, u = self.model, self.model.units
        variables = u.connected_variable_slots()
        learning = self.learning_slots()
        self.apply_changes()
        for s in variables:
            u[s].update_score(n_samples)

        stabilized = sum(u[s].consider_stability() for s in learning)
        candidates = [s for s in learning if not u.stable[s] and u[s].age() >= m.min_age]
        if m.cull == "stochastic":
            draws = m.rng.random(len(candidates))
            culled = [
                s for s, draw in zip(candidates, draws, strict=True)
                if draw < u[s].cull_probability()
            ]  # fmt: skip
        else:
            n_cull = min(len(candidates), int(m.cull_fraction * len(learning)))
            culled = sorted(candidates, key=lambda s: (u.score[s], s))[:n_cull]
        for s in culled:
            u[s].remove()
        for _ in culled:
            VariableUnit(m, f"h{u.size}")
        return {"culled": len(culled), "created": len(culled), "stabilized": stabilized}
