"""Small layers and losses for the demos, written in tinyad ops (so they work on any box)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import numpy as tnp
from .ops.losses import softmax_cross_entropy


def init_mlp(sizes: Sequence[int], seed: int = 0, scale: float = 1.0) -> dict:
    """Weights ``W{i}`` ~ N(0, 1/fan_in) * scale drawn in order from ``RandomState(seed)``, biases zero.

    For sizes (64, 128, 10) and seed 0 this is the reference run's initialisation."""
    rs = np.random.RandomState(seed)
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"] = rs.standard_normal((n_in, n_out)) / np.sqrt(n_in) * scale
    for i, n_out in enumerate(sizes[1:], start=1):
        params[f"b{i}"] = np.zeros(n_out)
    return params


def mlp(params: dict, X: Any) -> Any:
    """tanh hidden layers, linear output: the logits."""
    n = len(params) // 2
    h = X
    for i in range(1, n + 1):
        h = h @ params[f"W{i}"] + params[f"b{i}"]
        if i < n:
            h = tnp.tanh(h)
    return h


def cross_entropy(logits: Any, Y: Any) -> Any:
    """Mean softmax cross-entropy against one-hot (or soft) labels ``Y``: mean(logsumexp(z) - <z, y>).

    One fused primitive (``tinyad.ops.losses``): one dispatch, and a numba kernel on plain arrays."""
    return softmax_cross_entropy(logits, Y)


def accuracy(logits: Any, Y: Any) -> float:
    z = np.asarray(tnp.stop_gradient(logits))
    return float(np.mean(np.argmax(z, axis=1) == np.argmax(Y, axis=1)))
