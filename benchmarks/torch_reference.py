"""PyTorch reference: per-sample SGD of the paper's masked 6-8-8-8-1 sigmoid MLP, one thread.

What a researcher would write instead of glianet. Needs only torch and numpy, so it can run in
its own environment (see ng_throughput.py). Prints one JSON line: {"samples_per_s": ...}.
"""

import json
import sys
import time

import numpy as np
import torch


def main(samples: int) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    sizes = [6, 8, 8, 8, 1]
    inputs = torch.tensor(
        [[(p >> (5 - k)) & 1 for k in range(6)] for p in range(64)], dtype=torch.float64
    )
    targets = (inputs[:, :3].sum(dim=1, keepdim=True) > 0).to(torch.float64)
    layers = [torch.nn.Linear(m, n).double() for m, n in zip(sizes[:-1], sizes[1:], strict=True)]
    masks = [torch.ones_like(layer.weight) for layer in layers]
    params = [p for layer in layers for p in layer.parameters()]
    optimizer = torch.optim.SGD(params, lr=0.5)
    order = np.random.default_rng(0).integers(0, 64, samples)

    def step(i: int) -> None:
        y = inputs[i : i + 1]
        for layer, mask in zip(layers, masks, strict=True):
            y = torch.sigmoid(torch.nn.functional.linear(y, layer.weight * mask, layer.bias))
        loss = 0.5 * ((y - targets[i : i + 1]) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for i in order[:200]:  # warm-up
        step(int(i))
    start = time.perf_counter()
    for i in order:
        step(int(i))
    print(json.dumps({"samples_per_s": samples / (time.perf_counter() - start),
                      "torch": torch.__version__}))  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
