"""PyTorch reference: per-sample SGD of a masked sigmoid MLP, CPU, one thread.

What a researcher would write instead of glianet. Needs only torch and numpy, so it can run in
its own environment (see ng_throughput.py). Run:

    python torch_reference.py SAMPLES [SIZES]

``SIZES`` is the layer sizes, comma-separated (default: the paper's 6,8,8,8,1). The data are 64
random patterns (the speed of per-sample SGD does not depend on them). Prints one JSON line:
{"samples_per_s": ..., "torch": ...}.
"""

import json
import sys
import time

import numpy as np
import torch


def main(samples: int, sizes: list[int]) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    inputs = torch.tensor(rng.random((64, sizes[0])), dtype=torch.float64)
    targets = torch.tensor(rng.integers(0, 2, (64, sizes[-1])), dtype=torch.float64)
    layers = [torch.nn.Linear(m, n).double() for m, n in zip(sizes[:-1], sizes[1:], strict=True)]
    masks = [torch.ones_like(layer.weight) for layer in layers]
    params = [p for layer in layers for p in layer.parameters()]
    optimizer = torch.optim.SGD(params, lr=0.5)
    order = rng.integers(0, 64, samples)

    def step(i: int) -> None:
        y = inputs[i : i + 1]
        for layer, mask in zip(layers, masks, strict=True):
            y = torch.sigmoid(torch.nn.functional.linear(y, layer.weight * mask, layer.bias))
        loss = 0.5 * ((y - targets[i : i + 1]) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for i in order[: min(200, samples)]:  # warm-up
        step(int(i))
    start = time.process_time()
    for i in order:
        step(int(i))
    print(json.dumps({"samples_per_s": samples / (time.process_time() - start),
                      "torch": torch.__version__}))  # fmt: skip


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 5000,
        [int(n) for n in sys.argv[2].split(",")] if len(sys.argv) > 2 else [6, 8, 8, 8, 1],
    )
