"""Feed-forward nets for fine-tuning and baselines: masked sigmoid layers, softmax output.

Plain NumPy, so MASDA's stable network, the layered SDA and the MLP baseline are trained by the
same code: mini-batch SGD with momentum on the cross-entropy.
"""

from __future__ import annotations

import numpy as np

from glianet.agents.functions import sigmoid


def softmax(a: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def glorot(rng: np.random.Generator, n_out: int, n_in: int) -> np.ndarray:
    """Glorot-uniform weights of shape (n_out, n_in)."""
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, (n_out, n_in))


class MaskedMLP:
    """Sigmoid hidden layers (optionally masked: absent edges stay 0) and a softmax output.

    Parameters
    ----------
    n_inputs : int
        Input features.
    weights, biases : lists of arrays
        Hidden layers, input side first: ``weights[l]`` has shape (n_l, n_{l-1}).
    masks : list of bool arrays, optional
        Which weights exist (default: all).
    n_classes : int
        Output units.
    rng : numpy Generator
        For the output layer's initial weights and the mini-batch order.
    """

    def __init__(
        self, n_inputs: int, weights, biases, n_classes: int, rng: np.random.Generator,
        masks=None,
    ) -> None:  # fmt: skip
        self.masks = masks or [np.ones_like(w, dtype=bool) for w in weights]
        self.weights = [w * m for w, m in zip(weights, self.masks, strict=True)]
        self.biases = [b.copy() for b in biases]
        self.rng = rng
        self.n_classes = n_classes
        top = weights[-1].shape[0] if weights else n_inputs
        self.out_w = glorot(rng, n_classes, top)
        self.out_b = np.zeros(n_classes)

    def hidden(self, x: np.ndarray) -> list[np.ndarray]:
        """Activations of the input and every hidden layer."""
        out = [x]
        for w, b in zip(self.weights, self.biases, strict=True):
            out.append(sigmoid(out[-1] @ w.T + b))
        return out

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities."""
        return softmax(self.hidden(x)[-1] @ self.out_w.T + self.out_b)

    def fit(self, x, labels, epochs=60, lr=0.1, momentum=0.9, batch=32) -> MaskedMLP:
        """Mini-batch SGD with momentum on the cross-entropy."""
        target = np.eye(self.n_classes)[labels]
        params = [*self.weights, *self.biases, self.out_w, self.out_b]
        velocity = [np.zeros_like(p) for p in params]
        n_hidden = len(self.weights)
        for _ in range(epochs):
            order = self.rng.permutation(len(x))
            for start in range(0, len(x), batch):
                rows = order[start : start + batch]
                acts = self.hidden(x[rows])
                delta = (softmax(acts[-1] @ self.out_w.T + self.out_b) - target[rows]) / len(rows)
                grads_w, grads_b = [], []
                out_gw, out_gb = delta.T @ acts[-1], delta.sum(axis=0)
                back = delta @ self.out_w
                for layer in range(n_hidden - 1, -1, -1):
                    local = back * acts[layer + 1] * (1.0 - acts[layer + 1])
                    grads_w.insert(0, (local.T @ acts[layer]) * self.masks[layer])
                    grads_b.insert(0, local.sum(axis=0))
                    back = local @ self.weights[layer]
                grads = [*grads_w, *grads_b, out_gw, out_gb]
                for p, v, g in zip(params, velocity, grads, strict=True):
                    v *= momentum
                    v -= lr * g
                    p += v
        return self

    def accuracy(self, x: np.ndarray, labels: np.ndarray) -> float:
        """Share of samples whose most probable class is the label."""
        return float(np.mean(self.predict_proba(x).argmax(axis=1) == labels))


def pretrain_dae_stack(
    x: np.ndarray, sizes: list[int], corruption: list[float], rng: np.random.Generator,
    epochs: int = 30, lr: float = 0.1, batch: int = 32,
) -> tuple[list[np.ndarray], list[np.ndarray]]:  # fmt: skip
    """Greedy layer-wise denoising-autoencoder pretraining (Vincent et al. 2008).

    Each layer: masking noise at its corruption rate, sigmoid encoder and decoder (untied), cross
    entropy, mini-batch SGD. Returns the encoders' weights and biases.
    """
    weights, biases, inputs = [], [], x
    for size, rate in zip(sizes, corruption, strict=True):
        n_in = inputs.shape[1]
        w, b = glorot(rng, size, n_in), np.zeros(size)
        w_dec, b_dec = glorot(rng, n_in, size), np.zeros(n_in)
        for _ in range(epochs):
            order = rng.permutation(len(inputs))
            for start in range(0, len(inputs), batch):
                clean = inputs[order[start : start + batch]]
                noisy = clean * (rng.random(clean.shape) >= rate)
                h = sigmoid(noisy @ w.T + b)
                recon = sigmoid(h @ w_dec.T + b_dec)
                d_out = (recon - clean) / len(clean)
                d_h = (d_out @ w_dec) * h * (1.0 - h)
                w_dec -= lr * d_out.T @ h
                b_dec -= lr * d_out.sum(axis=0)
                w -= lr * d_h.T @ noisy
                b -= lr * d_h.sum(axis=0)
        weights.append(w)
        biases.append(b)
        inputs = sigmoid(inputs @ w.T + b)
    return weights, biases
