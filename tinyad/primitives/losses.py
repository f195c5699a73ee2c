"""Fused losses: one primitive instead of a chain, so the hot path pays one dispatch.

``softmax_cross_entropy(z, y) = mean_i(logsumexp(z_i) - <z_i, y_i>)`` for logits ``z`` (n, c) and labels
``y`` (n, c) (one-hot or soft). Its rules are written in tinyad ops like every other primitive; on plain
float64 arrays the VJP takes a numba kernel (tests hold it equal to the generic rule).
"""

from __future__ import annotations

import numpy as np

from ..primitive import Primitive, ndim_of, shape_of
from .elementwise import exp, multiply, negative, subtract
from .reductions import logsumexp, sum


def _value(z, y):
    if _plain2d(z, y):
        from ..kernels.softmax_xent import xent_value

        return xent_value(z, y)
    return _value_numpy(z, y)


def _value_numpy(z, y):
    m = np.max(z, axis=-1, keepdims=True)
    lse = np.log(np.sum(np.exp(z - m), axis=-1)) + m[..., 0]
    return np.mean(lse - np.sum(z * y, axis=-1))


def _plain2d(*arrays) -> bool:
    return all(type(a) is np.ndarray and a.ndim == 2 and a.dtype == np.float64 for a in arrays)


def _softmax(z):
    return exp(subtract(z, logsumexp(z, axis=-1, keepdims=True)))


def _rows(z) -> float:
    return float(np.prod(shape_of(z)[:-1]))


def _vjp_z_generic(g, ans, z, y):
    return multiply(g / _rows(z), subtract(_softmax(z), y))


def _vjp_z(g, ans, z, y):
    plain_g = isinstance(g, (float, np.floating)) or (type(g) is np.ndarray and g.ndim == 0)
    if plain_g and _plain2d(z, y):  # the fast path: one numba pass; the generic rule is the reference
        from ..kernels.softmax_xent import xent_grad

        return xent_grad(z, y, float(g) / _rows(z))
    return _vjp_z_generic(g, ans, z, y)


def _batch_axes(t, z):
    """All axes of a tangent except the leading axis of k directions (when there is one)."""
    lead = ndim_of(t) - ndim_of(z)
    return tuple(range(lead, ndim_of(t)))


def _jvp_z(t, ans, z, y):
    return sum(multiply(subtract(_softmax(z), y), t), axis=_batch_axes(t, z)) / _rows(z)


def _jvp_y(t, ans, z, y):
    return negative(sum(multiply(z, t), axis=_batch_axes(t, z))) / _rows(z)


softmax_cross_entropy = Primitive(_value, "softmax_cross_entropy")
softmax_cross_entropy.defjvp(_jvp_z, _jvp_y)
softmax_cross_entropy.defvjp(_vjp_z, lambda g, ans, z, y: multiply(g / _rows(z), negative(z)))
softmax_cross_entropy.defjvp_batched(_jvp_z, _jvp_y)
