"""MASDA on digits: messages per second and time per pretraining epoch, both engines.

The message engine delivers every message as an event on the model's event list; a digits epoch
has ~30 million of them, so it is timed on the first samples of an epoch and scaled to the
epoch. Run: ``python benchmarks/masda_speed.py``.
"""

from __future__ import annotations

import time

import pandas as pd

from glianet.model import MASDAModel
from glianet.tasks import Digits

SAMPLES_TIMED_BY_MESSAGES = 20


def main() -> None:
    train = Digits("train")
    rows = []
    model = MASDAModel(task=train, n_units=100, eta=0.0005, rng=0)
    model.step()  # connect, warm up
    start, before = time.perf_counter(), model.messages
    model.step()
    seconds = time.perf_counter() - start
    rate = (model.messages - before) / seconds
    rows.append({"engine": "vectorized", "samples timed": train.n_patterns,
                 "messages/s": rate, "s/epoch": seconds})  # fmt: skip

    model = MASDAModel(task=train, n_units=100, eta=0.0005, rng=0, engine="agents")
    for unit in model.units.unconnected_units():
        unit.connect()
    order = model.rng.permutation(train.n_patterns)[:SAMPLES_TIMED_BY_MESSAGES]
    feed = model.rng.random((len(order), len(model.data_constants))).argsort(axis=1)
    start = time.perf_counter()
    model.scheduler.present_by_messages(order, feed)
    seconds = time.perf_counter() - start
    rows.append({"engine": "agents (message events)", "samples timed": len(order),
                 "messages/s": model.messages / seconds,
                 "s/epoch": seconds / len(order) * train.n_patterns})  # fmt: skip
    table = pd.DataFrame(rows).set_index("engine")
    print("MASDA pretraining on digits (1347 samples, 100 variable units, 75 constants)")
    print(table.to_string(float_format=lambda v: f"{v:,.2f}"))
    epoch = rows[0]["s/epoch"]
    print(f"goal vectorized epoch < 2 s: {epoch:.3f} s, {'met' if epoch < 2 else 'missed'}")


if __name__ == "__main__":
    main()
