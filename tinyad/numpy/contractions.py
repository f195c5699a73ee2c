"""Products and contractions as NumPy spells them: dot (any ranks), inner, outer, tensordot, einsum,
trace — each matmul or einsum underneath."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ..core.primitive import ndim_of
from ..core.vspace import reshape
from ..core.vspace import sum as _sum
from ..ops.contractions import einsum_p, matmul, parse_einsum  # noqa: F401 - matmul re-exported
from ..ops.elementwise import multiply
from .shaping import diagonal

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    na, nb = ndim_of(a), ndim_of(b)
    if _np.isscalar(axes):
        ax_a, ax_b = list(range(na - int(axes), na)), list(range(int(axes)))
    else:
        ax_a, ax_b = ([axes[0]] if _np.isscalar(axes[0]) else list(axes[0]),
                      [axes[1]] if _np.isscalar(axes[1]) else list(axes[1]))
    ax_a, ax_b = [a_ % na for a_ in ax_a], [b_ % nb for b_ in ax_b]
    la, lb = list(_LETTERS[:na]), list(_LETTERS[na:na + nb])
    for i, j in zip(ax_a, ax_b):
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in ax_a] + [c for j, c in enumerate(lb) if j not in ax_b]
    return einsum_p(a, b, subscripts=f"{''.join(la)},{''.join(lb)}->{''.join(out)}")


def dot(a: Any, b: Any) -> Any:
    """NumPy's dot for any ranks: a sum over the last axis of a and the second-to-last of b."""
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return multiply(a, b)
    if ndim_of(a) <= 2 and ndim_of(b) <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([-1], [max(ndim_of(b) - 2, 0)]))


def inner(a: Any, b: Any) -> Any:
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def outer(a: Any, b: Any) -> Any:
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def einsum(subscripts: str, *operands: Any) -> Any:
    parse_einsum(subscripts, len(operands))  # validate early, with a clear message
    return einsum_p(*operands, subscripts=subscripts)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    return _sum(diagonal(x, offset, axis1, axis2), axis=-1)
