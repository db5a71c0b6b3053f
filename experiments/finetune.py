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
    """Sigmoid hidden layers wired as a DAG (absent edges stay 0) and a softmax output.

    Hidden layer ``l`` reads the concatenation of the input and every hidden layer below it;
    its mask says which of those edges exist, so a stacked net is the case where only the layer
    just below is unmasked (see :func:`stacked`). The softmax output reads every hidden layer.

    Parameters
    ----------
    n_inputs : int
        Input features.
    weights, biases : lists of arrays
        Hidden layers, input side first: ``weights[l]`` has shape (n_l, n_0 + ... + n_{l-1}),
        where n_0 = ``n_inputs``.
    n_classes : int
        Output units.
    rng : numpy Generator
        For the output layer's initial weights and the mini-batch order.
    masks : list of bool arrays, optional
        Which weights exist (default: all).
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
        read = sum(len(b) for b in biases) if biases else n_inputs
        self.out_w = glorot(rng, n_classes, read)
        self.out_b = np.zeros(n_classes)

    def hidden(self, x: np.ndarray) -> list[np.ndarray]:
        """Activations of the input and every hidden layer."""
        out = [x]
        for w, b in zip(self.weights, self.biases, strict=True):
            out.append(sigmoid(np.hstack(out) @ w.T + b))
        return out

    def features(self, acts: list[np.ndarray]) -> np.ndarray:
        """What the output reads: every hidden layer (the input if there is none)."""
        return np.hstack(acts[1:]) if len(acts) > 1 else acts[0]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities."""
        return softmax(self.features(self.hidden(x)) @ self.out_w.T + self.out_b)

    def fit(self, x, labels, epochs=60, lr=0.1, momentum=0.9, batch=32) -> MaskedMLP:
        """Mini-batch SGD with momentum on the cross-entropy."""
        target = np.eye(self.n_classes)[labels]
        params = [*self.weights, *self.biases, self.out_w, self.out_b]
        velocity = [np.zeros_like(p) for p in params]
        sizes = [x.shape[1], *(len(b) for b in self.biases)]
        bounds = np.cumsum([0, *sizes])
        for _ in range(epochs):
            order = self.rng.permutation(len(x))
            for start in range(0, len(x), batch):
                rows = order[start : start + batch]
                acts = self.hidden(x[rows])
                read = self.features(acts)
                delta = (softmax(read @ self.out_w.T + self.out_b) - target[rows]) / len(rows)
                back = np.zeros((len(rows), bounds[-1]))  # dLoss/d(activation), all layers
                if self.weights:
                    back[:, bounds[1] :] = delta @ self.out_w
                grads_w, grads_b = [], []
                for layer in range(len(self.weights), 0, -1):
                    a = acts[layer]
                    local = back[:, bounds[layer] : bounds[layer + 1]] * a * (1.0 - a)
                    below = np.hstack(acts[:layer])
                    grads_w.insert(0, (local.T @ below) * self.masks[layer - 1])
                    grads_b.insert(0, local.sum(axis=0))
                    back[:, : bounds[layer]] += local @ self.weights[layer - 1]
                grads = [*grads_w, *grads_b, delta.T @ read, delta.sum(axis=0)]
                for p, v, g in zip(params, velocity, grads, strict=True):
                    v *= momentum
                    v -= lr * g
                    p += v
        return self

    def accuracy(self, x: np.ndarray, labels: np.ndarray) -> float:
        """Share of samples whose most probable class is the label."""
        return float(np.mean(self.predict_proba(x).argmax(axis=1) == labels))


def stacked(n_inputs: int, weights: list[np.ndarray]) -> tuple[list, list]:
    """Layered weights (``weights[l]`` of shape (n_l, n_{l-1})) in :class:`MaskedMLP`'s DAG
    form: each placed on the block of the layer just below, with that block as the mask."""
    sizes = [n_inputs, *(w.shape[0] for w in weights)]
    full, masks = [], []
    for layer, w in enumerate(weights):
        wide = np.zeros((w.shape[0], sum(sizes[: layer + 1])))
        mask = np.zeros(wide.shape, dtype=bool)
        offset = sum(sizes[:layer])
        wide[:, offset:] = w
        mask[:, offset:] = True
        full.append(wide)
        masks.append(mask)
    return full, masks


def pretrain_dae_stack(
    x: np.ndarray, sizes: list[int], corruption: list[float], rng: np.random.Generator,
    epochs: int = 30, lr: float = 0.1, batch: int = 32, decoders: bool = False,
    labels: np.ndarray | None = None,
) -> tuple[list[np.ndarray], ...]:  # fmt: skip
    """Greedy layer-wise denoising-autoencoder pretraining (Vincent et al. 2008).

    Each layer: masking noise at its corruption rate, sigmoid encoder and decoder (untied), cross
    entropy, mini-batch SGD. Returns the encoders' weights and biases, and with ``decoders``
    also the decoders' weights and biases.

    ``labels`` (one row of targets per row of ``x``, e.g. one-hot classes): the first layer's
    decoder also predicts them from the hidden units, never seeing them as input -- what MASDA's
    teacher constants do at label corruption 1.0, so the two pretrainings see the same data.
    """
    if labels is not None and (labels.ndim != 2 or len(labels) != len(x)):
        raise ValueError(
            f"labels has shape {labels.shape}: it needs one row of targets per row of x "
            f"({len(x)} rows)"
        )
    weights, biases, inputs = [], [], x
    decoder_weights, decoder_biases = [], []
    for layer, (size, rate) in enumerate(zip(sizes, corruption, strict=True)):
        n_in = inputs.shape[1]
        targets = inputs if labels is None or layer else np.hstack([inputs, labels])
        w, b = glorot(rng, size, n_in), np.zeros(size)
        w_dec, b_dec = glorot(rng, targets.shape[1], size), np.zeros(targets.shape[1])
        for _ in range(epochs):
            order = rng.permutation(len(inputs))
            for start in range(0, len(inputs), batch):
                rows = order[start : start + batch]
                clean = inputs[rows]
                noisy = clean * (rng.random(clean.shape) >= rate)
                h = sigmoid(noisy @ w.T + b)
                recon = sigmoid(h @ w_dec.T + b_dec)
                d_out = (recon - targets[rows]) / len(clean)
                d_h = (d_out @ w_dec) * h * (1.0 - h)
                w_dec -= lr * d_out.T @ h
                b_dec -= lr * d_out.sum(axis=0)
                w -= lr * d_h.T @ noisy
                b -= lr * d_h.sum(axis=0)
        weights.append(w)
        biases.append(b)
        decoder_weights.append(w_dec)
        decoder_biases.append(b_dec)
        inputs = sigmoid(inputs @ w.T + b)
    if decoders:
        return weights, biases, decoder_weights, decoder_biases
    return weights, biases
