"""MASDA units (Kurotaki & Matsuo 2015): constant, variable and reward units, and their messages.

Units act only on what they receive. A forward message carries the sender's value (or 0 when the
sender's corruption hides it); a backward message carries ``w * delta``, the reward of the
reward unit that sent it and the receiver's credit, its own share of that prediction. A unit
computes when messages from *all* the nodes it waits for have arrived, and sums them in the order
of its prev (or next) nodes, so arrival order does not matter.
Weight changes are accumulated and applied by the scheduler, at the end of the epoch or every
``update_every`` samples.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from mesa.discrete_space import FixedAgent

from glianet.agents.functions import phi
from glianet.state import CONSTANT, REWARD, VARIABLE

SIGMOID = 0
FORWARD, BACKWARD, TARGET = 0, 1, 2


class Message:
    """A message in flight, on the model's event list until it delivers itself (calling it).

    ``kind`` is FORWARD (a value, or 0), BACKWARD (``w * delta``, a reward and a credit) or
    TARGET (a target unit showing its own reward unit its true value, which the paper lets a
    reward unit read; as a message it keeps the run causal whatever the latency). The scheduler
    delivers the messages due at one time by one event, in the order they were posted
    (:class:`~glianet.schedules.masda.MessageBatch`).
    """

    __slots__ = ("kind", "receiver", "sender", "value", "reward", "credit")

    def __init__(
        self, kind: int, receiver: Unit, sender: Unit, value: float, reward: float = 0.0,
        credit: float = 0.0,
    ) -> None:  # fmt: skip
        self.kind, self.receiver, self.sender = kind, receiver, sender
        self.value, self.reward, self.credit = value, reward, credit

    def __call__(self) -> None:
        if self.kind == FORWARD:
            self.receiver.receive_forward(self.sender, self.value)
        elif self.kind == BACKWARD:
            self.receiver.receive_backward(self.sender, self.value, self.reward, self.credit)
        else:
            self.receiver.receive_target(self.value)


class Unit(FixedAgent):
    """What every unit has: a slot in the model's unit arrays and a node of the unit graph.

    The paper's Table 1 information is exposed as properties named as the table names it.
    """

    kind = -1
    #: What an agent reporter row says this agent is.
    agent_type = "unit"

    def __init__(self, model, depth: int, corruption_rate: float, name: str) -> None:
        super().__init__(model)
        self.name = name
        self.slot, self.cell = model.units.add(self, depth, corruption_rate)
        # Each unit draws its own corruption noise, so draws do not depend on message order.
        self.noise = np.random.default_rng([model.seed_sequence_entropy, self.slot])
        self.inbox: dict[int, float] = {}  # forward messages of this sample, by sender slot
        self.received: dict[int, float] = {}  # the complete set, kept for learning

    # -- Table 1 ----------------------------------------------------------------------------
    @property
    def next_nodes(self) -> tuple[Unit, ...]:
        """Units that receive this unit's forward messages, in slot order."""
        return self.model.units.successors(self)

    @property
    def prev_nodes(self) -> tuple[Unit, ...]:
        """Units whose forward messages this unit waits for, in slot order."""
        return self.model.units.predecessors(self)

    @property
    def prev_weights(self) -> np.ndarray:
        """One weight per prev node (a copy)."""
        u = self.model.units
        return u.W[self.slot, u.neighbours(self).prev_slots]

    @property
    def depth(self) -> int:
        """Abstraction level: 0 for data, one more than what a variable unit predicts."""
        return int(self.model.units.depth[self.slot])

    @property
    def stable(self) -> bool:
        """State B (prev weights frozen) rather than A (learning)."""
        return bool(self.model.units.stable[self.slot])

    @property
    def state(self) -> str:
        """``"B"`` when stable, else ``"A"``."""
        return "B" if self.stable else "A"

    @property
    def score(self) -> float:
        """Running mean, over the unit's life, of its credit per sample (see
        :meth:`RewardUnit.credit`)."""
        return float(self.model.units.score[self.slot])

    @property
    def corruption_rate(self) -> float:
        """Probability that a forward message carries 0 instead of the value."""
        return float(self.model.units.corruption[self.slot])

    @property
    def learning_rate(self) -> float:
        """eta of the unit's weight changes."""
        return self.model.eta

    @property
    def reward_node(self) -> RewardUnit | None:
        """The reward unit that predicts this unit (constants and stable units)."""
        slot = self.model.units.reward_node[self.slot]
        return self.model.units[slot] if slot >= 0 else None

    @property
    def value(self) -> float:
        """``v`` on the current sample."""
        return float(self.model.units.v[self.slot])

    def remove(self) -> None:
        """Leave the model: the unit's edges, weights and node go with it."""
        self.model.units.remove(self)
        super().remove()

    # -- sending ----------------------------------------------------------------------------
    def hides_value(self, samples: int = 1) -> np.ndarray:
        """Draw the corruption of the next ``samples`` samples: True where the value is replaced
        by 0 (probability: the corruption rate; rates of 0 and 1 draw nothing)."""
        rate = self.model.units.corruption[self.slot]
        if rate <= 0.0 or rate >= 1.0:
            return np.full(samples, rate >= 1.0)
        return self.noise.random(samples) < rate

    def send_forward(self) -> None:
        """Send ``v`` (or 0 if corrupted) to every next node, and ``v`` to the own reward node
        (a target's true value)."""
        u = self.model.units
        v = float(u.v[self.slot])
        sent = 0.0 if self.hides_value()[0] else v
        messages = [Message(FORWARD, receiver, self, sent) for receiver in self.next_nodes]
        reward_node = u.reward_node[self.slot]
        if reward_node >= 0:
            messages.append(Message(TARGET, u[reward_node], self, v))
        self.model.scheduler.post(self, messages)

    def prev_inputs(self) -> Iterator[tuple[Unit, float]]:
        """Pairs ``(prev node, its weight)`` in the order of the prev nodes (weights as Python
        floats: they are summed one by one)."""
        u = self.model.units
        neighbours = u.neighbours(self)
        return zip(neighbours.prev, u.W[self.slot, neighbours.prev_slots].tolist(), strict=True)

    def weighted_input(self) -> float:
        """``a = sum_n w_n v_n`` over the prev nodes, in their order; the inbox becomes
        ``received`` (what learning uses) and is emptied for the next sample."""
        received = self.received = self.inbox
        self.inbox = {}
        a = 0.0
        for sender, w in self.prev_inputs():
            a += w * received[sender.slot]
        return a

    def learn(self, delta: float) -> None:
        """Accumulate ``dw_n = -eta * delta * v_n`` over what each prev node sent."""
        received = self.received
        values = np.fromiter(received.values(), dtype=np.float64, count=len(received))
        self.model.units.dW[self.slot, list(received)] -= self.model.eta * delta * values


class ConstantUnit(Unit):
    """A data value or the bias: depth 0, always stable, never receives messages."""

    kind = CONSTANT
    agent_type = "constant"

    def __init__(self, model, corruption_rate: float, name: str) -> None:
        super().__init__(model, 0, corruption_rate, name)
        model.units.stable[self.slot] = True

    def receive_data(self, value: float) -> None:
        """The environment inputs a value: set ``v``, send it forward."""
        self.model.units.v[self.slot] = value
        self.send_forward()


class VariableUnit(Unit):
    """A learned feature: state A (learning) or B (stable); the only kind that can be culled."""

    kind = VARIABLE
    agent_type = "variable"

    def __init__(self, model, name: str) -> None:
        super().__init__(model, -1, 0.0, name)
        # (w delta, reward, credit) by sender
        self.backward_inbox: dict[int, tuple[float, float, float]] = {}

    # -- joining the network (Algorithm 1, inner while loop) ----------------------------------
    def connect(self) -> None:
        """Join: pick one reward unit at random; take its depth d; prev = every stable unit of
        depth d (``layer_free``: of every depth up to d, data constants included) and the bias,
        next = every reward unit of depth d; own depth = d + 1."""
        m, units = self.model, self.model.units
        rewards = units.reward_units(max_depth=m.max_depth - 1)
        chosen = rewards[int(m.rng.integers(len(rewards)))]
        d = chosen.depth
        units.depth[self.slot] = d + 1
        units.born[self.slot] = m.epoch
        below = range(d + 1) if m.layer_free else (d,)
        prev = [unit for depth in below for unit in units.stable_units(depth)] + [m.bias]
        nxt = [unit for unit in rewards if unit.depth == d]
        limit = np.sqrt(6.0 / (len(prev) + len(nxt)))
        for unit in prev:
            units.connect(unit, self, m.rng.uniform(-limit, limit))
        for unit in nxt:
            units.connect(self, unit, m.rng.uniform(-limit, limit))

    # -- end of epoch (Algorithm 1, after the samples) ---------------------------------------
    def age(self) -> int:
        """Epochs since the unit joined, the current one included."""
        return self.model.epoch + 1 - int(self.model.units.born[self.slot])

    def update_score(self, n_samples: int) -> None:
        """Fold this epoch's credit per sample into the running mean over the unit's life, and
        keep the epoch's mean received reward (what stability watches)."""
        u, s = self.model.units, self.slot
        u.score[s] += (u.credit_sum[s] / n_samples - u.score[s]) / max(self.age(), 1)
        u.reward[s] = u.reward_sum[s] / n_samples

    def learning_progress(self) -> float | None:
        """What the unit still learns since its last mark (``plateau``): ``"reward"``, the
        relative improvement of the error of what it feeds, ``1 - reward`` (the same for every
        unit of a depth); ``"weights"``, the relative change of its own prev weights (the
        paper's "the weights nearly stop changing"). Marks the present; None at the first mark."""
        m, u, s = self.model, self.model.units, self.slot
        if m.plateau == "weights":
            return u.weight_change(s)
        error, before = 1.0 - u.reward[s], u.error_mark[s]
        u.error_mark[s] = error
        return (before - error) / before if before > 0.0 else None

    def consider_stability(self) -> bool:
        """A -> B once learning has plateaued (assumption 2): every ``stable_window`` epochs of
        its life a unit measures its :meth:`learning_progress`; from age ``stable_age`` on,
        progress below ``stable_tol`` makes it stable. A new stable unit freezes its prev
        weights, corrupts what it sends as the input of the next depth, and gets a reward unit
        of its own (it becomes a target)."""
        m, u, s = self.model, self.model.units, self.slot
        age = self.age()
        if self.stable or age % m.stable_window:
            return False
        progress = self.learning_progress()
        if age < m.stable_age or progress is None or progress >= m.stable_tol:
            return False
        u.stable[s] = True
        u.corruption[s] = m.hidden_corruption
        reward = RewardUnit(m, self)
        u.connect(m.bias, reward, 0.0)
        return True

    def cull_probability(self) -> float:
        """Chance to die this epoch: ``cull_rate`` for a unit that earns no credit, falling as
        ``exp(-score / score_scale)`` as its score rises (units without reward die
        stochastically, paper §2)."""
        m = self.model
        return m.cull_rate * float(np.exp(-max(self.score, 0.0) / m.score_scale))

    def receive_forward(self, sender: Unit, value: float) -> None:
        """Store; once every prev node has sent, compute ``v = sigmoid(a)`` and send it on."""
        self.inbox[sender.slot] = value
        if len(self.inbox) < self.model.units.in_degree(self):
            return
        self.model.units.v[self.slot] = phi(self.weighted_input(), SIGMOID)
        self.send_forward()

    def receive_backward(self, sender: Unit, value: float, reward: float, credit: float) -> None:
        """Store; once every next reward unit has answered, learn from ``delta``, add up the
        rewards received and the credit earned."""
        self.backward_inbox[sender.slot] = (value, reward, credit)
        expected = self.model.units.reward_successors(self)
        if len(self.backward_inbox) < len(expected):
            return
        u, s = self.model.units, self.slot
        total, rewards, credits = 0.0, 0.0, 0.0
        for node in expected:
            back, reward, credit = self.backward_inbox.pop(node.slot)
            total += back
            rewards += reward
            credits += credit
        u.reward_sum[s] += rewards / len(expected)
        u.credit_sum[s] += credits
        if u.stable[s]:
            return
        v = float(u.v[s])
        self.learn(v * (1.0 - v) * total)


class RewardUnit(Unit):
    """Predicts one target unit and returns more reward the closer its prediction."""

    kind = REWARD
    agent_type = "reward"

    def __init__(self, model, target: Unit) -> None:
        super().__init__(model, target.depth, 0.0, f"reward({target.name})")
        model.units.target[self.slot] = target.slot
        model.units.reward_node[target.slot] = self.slot
        model.units.stable[self.slot] = True
        self.target_value: float | None = None

    @property
    def target_node(self) -> Unit:
        """The constant or stable variable unit it predicts."""
        return self.model.units[self.model.units.target[self.slot]]

    def receive_forward(self, sender: Unit, value: float) -> None:
        """Store; once every prev node has sent, predict (see :meth:`predict`)."""
        self.inbox[sender.slot] = value
        self.predict()

    def receive_target(self, value: float) -> None:
        """The target unit's true value on this sample."""
        self.target_value = value
        self.predict()

    @staticmethod
    def credit(delta: float, v: float, w: float, sent: float) -> float:
        """A sender's share of this prediction: how much the cross-entropy would rise if its
        message ``sent`` (weight ``w``) were dropped, to second order (the saliency of Optimal
        Brain Damage, LeCun et al. 1990): ``-delta w s + v (1 - v) (w s)^2 / 2``. A unit whose
        outgoing weight is 0 earns 0; one that pushes the prediction to its target earns more."""
        ws = w * sent
        return -delta * ws + 0.5 * v * (1.0 - v) * ws * ws

    def predict(self) -> None:
        """Once every prev node and the target have sent: predict, learn, reward, send back
        ``w * delta``, the reward and each variable sender's credit."""
        if self.target_value is None or len(self.inbox) < self.model.units.in_degree(self):
            return
        u, s = self.model.units, self.slot
        v = phi(self.weighted_input(), SIGMOID)
        u.v[s] = v
        delta = v - self.target_value
        self.target_value = None
        reward = 1.0 - abs(delta)
        u.error_sum[s] += delta * delta
        self.learn(delta)
        received, credit = self.received, self.credit
        messages = [
            Message(BACKWARD, sender, self, w * delta, reward,
                    credit(delta, v, w, received[sender.slot]))
            for sender, w in self.prev_inputs() if sender.kind == VARIABLE
        ]  # fmt: skip
        self.model.scheduler.post(self, messages)
