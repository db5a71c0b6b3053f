"""What per-agent data costs: one ``collect()`` with and without ``agent_reporters=True``.

An NG net of about 10,000 synapses (layers [6, 100, 100, 1]) and of about 100,000, and the
time of an epoch beside it, so the cost reads as a share of a run. The runs are timed side by
side in one process. Run: ``python benchmarks/agent_reporters.py``.
"""

from __future__ import annotations

import time

import pandas as pd

from glianet.model import NGModel

REPEATS = 5


def collect_seconds(model: NGModel) -> float:
    """Best of ``REPEATS`` collects."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        model.collect()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    rows = []
    for layers in ([6, 100, 100, 1], [6, 316, 316, 1]):
        for on in (False, True):
            model = NGModel(layers=layers, agent_reporters=on, samples_per_epoch=1000, rng=0)
            start = time.perf_counter()
            model.step()
            epoch = time.perf_counter() - start
            rows.append({
                "layers": str(layers), "agents": len(model.agents), "agent_reporters": on,
                "collect ms": 1000 * collect_seconds(model), "epoch ms": 1000 * epoch,
            })  # fmt: skip
    print(pd.DataFrame(rows).to_string(index=False, float_format="%.1f"))


if __name__ == "__main__":
    main()
