"""Small layers and losses for the demos, written in tinyad ops (so they work on any box)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import numpy as tnp
from .ops.losses import softmax_cross_entropy


def init_mlp(sizes: Sequence[int], seed: int = 0, scale: float = 1.0) -> dict:
    """Weights ``W{i}`` ~ N(0, 1/fan_in) * scale drawn in order from ``RandomState(seed)``, biases zero.

    For sizes (64, 128, 10) and seed 0 this is the reference run's initialisation."""
    sizes = tuple(sizes)
    if len(sizes) < 2 or not all(isinstance(n, (int, np.integer)) and n >= 1 for n in sizes):
        raise ValueError(f"init_mlp: sizes must list the input width and at least one layer width, each a positive "
                         f"integer, e.g. (64, 128, 10); got {sizes!r}")
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
    """The fraction of rows whose largest logit is the label's; ``Y`` one-hot (batch, classes) or integer
    labels (batch,). A constant (no derivative)."""
    z = np.asarray(tnp.stop_gradient(logits))
    y = np.asarray(tnp.stop_gradient(Y))
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"accuracy: logits must be a non-empty (batch, classes) array, got shape {z.shape}")
    labels = y if y.ndim == 1 and y.dtype.kind in "iu" else np.argmax(y, axis=-1) if y.ndim == 2 else None
    if labels is None or labels.shape != (z.shape[0],):
        raise ValueError(f"accuracy: Y must be one-hot {z.shape} or integer labels ({z.shape[0]},), got shape "
                         f"{y.shape} and dtype {y.dtype}")
    return float(np.mean(np.argmax(z, axis=1) == labels))
