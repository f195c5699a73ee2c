"""Fused losses: one primitive instead of a chain, so the hot path pays one dispatch.

``softmax_cross_entropy(z, y) = mean_i(logsumexp(z_i) - <z_i, y_i>)`` for logits ``z`` (..., c) and labels
``y`` of the same shape (one-hot or soft). Its rules are written in tinyad ops like every other primitive;
on plain float64 matrices the value and the VJP take numba kernels, the fast path beside the generic rule
it replaces (tests/test_kernels.py holds the two equal).
"""

from __future__ import annotations

import numpy as np

from ..core.primitive import builtin, ndim_of, shape_of
from ..core.vspace import sum
from ..kernels import softmax_xent as kernels
from .elementwise import multiply, negative, subtract
from .structural import logsumexp_value, softmax


def _check(z, y) -> None:
    if shape_of(z) != shape_of(y):
        raise ValueError(f"softmax_cross_entropy: logits of shape {shape_of(z)} but labels of shape "
                         f"{shape_of(y)}; labels must have the logits' shape (one-hot or soft, one row per row "
                         "of logits)")
    if ndim_of(z) == 0 or shape_of(z)[-1] == 0 or np.prod(shape_of(z)[:-1]) == 0:
        raise ValueError(f"softmax_cross_entropy: logits of shape {shape_of(z)} have no rows or no classes; "
                         "the mean over an empty batch is undefined")


def _value(z, y):
    _check(z, y)
    if kernels.applies(z, y):
        return kernels.xent_value(z, y)
    return value_numpy(z, y)


def value_numpy(z, y):
    """The generic value: mean(logsumexp(z) - <z, y>) over all rows."""
    return np.mean(logsumexp_value(z, axis=-1) - np.sum(z * y, axis=-1))


def _rows(z) -> float:
    return float(np.prod(shape_of(z)[:-1]))


def vjp_z_generic(g, ans, z, y):
    return multiply(g / _rows(z), subtract(softmax(z, axis=-1), y))


def _vjp_z(g, ans, z, y):
    plain_g = isinstance(g, (float, np.floating)) or (type(g) is np.ndarray and g.ndim == 0)
    if plain_g and kernels.applies(z, y):  # the fast path: one numba pass; the generic rule is the reference
        return kernels.xent_grad(z, y, float(g) / _rows(z))
    return vjp_z_generic(g, ans, z, y)


def _batch_axes(t, z):
    """All axes of a tangent except the leading axis of k directions (when there is one)."""
    lead = ndim_of(t) - ndim_of(z)
    return tuple(range(lead, ndim_of(t)))


def _jvp_z(t, ans, z, y):
    return sum(multiply(subtract(softmax(z, axis=-1), y), t), axis=_batch_axes(t, z)) / _rows(z)


def _jvp_y(t, ans, z, y):
    return negative(sum(multiply(z, t), axis=_batch_axes(t, z))) / _rows(z)


softmax_cross_entropy = builtin(_value, "softmax_cross_entropy")
softmax_cross_entropy.defjvp(_jvp_z, _jvp_y)
softmax_cross_entropy.defvjp(_vjp_z, lambda g, ans, z, y: multiply(g / _rows(z), negative(z)))
softmax_cross_entropy.defjvp_batched(_jvp_z, _jvp_y)
