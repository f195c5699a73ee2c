"""Products and contractions as NumPy spells them: dot (any ranks), inner, outer, tensordot, einsum,
trace — each matmul or einsum underneath."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ..core.primitive import is_complex, ndim_of, shape_of
from ..core.trace import innermost
from ..core.vspace import broadcast_to, getitem, reshape
from ..core.vspace import sum as _sum
from ..ops.contractions import einsum_p, matmul, parse_einsum  # noqa: F401 - matmul re-exported
from ..ops.elementwise import conj, multiply
from .elementwise import astype
from .shaping import as_array, concatenate, diagonal, moveaxis, stack

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_LETTERS_ALL = _LETTERS + _LETTERS.upper()


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


def einsum(*operands: Any, out: Any = None, dtype: Any = None, optimize: Any = False, **kwargs: Any) -> Any:
    """NumPy's einsum: explicit or implicit output, ``...`` (broadcast axes), an index repeated within one
    operand (a diagonal: ``'ii->i'``, ``'ii'`` the trace), size-1 axes broadcast, and the sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``. It is rewritten to one multilinear primitive over distinct
    indices: diagonals are taken first (differentiable gathers), size-1 axes broadcast explicitly."""
    if out is not None:
        raise TypeError("tinyad.numpy.einsum: out= would write into an existing array; use the returned array")
    subscripts, arrays = _einsum_operands(operands)
    arrays = [as_array(a) for a in arrays]
    ins, output = _explicit_subscripts(subscripts, arrays)
    for i, spec in enumerate(ins):
        while len(set(spec)) != len(spec):  # a repeated index: its diagonal, moved to the end
            c = next(c for c in spec if spec.count(c) > 1)
            first, second = spec.index(c), spec.index(c, spec.index(c) + 1)
            arrays[i] = diagonal(arrays[i], 0, first, second)
            spec = "".join(ch for k, ch in enumerate(spec) if k not in (first, second)) + c
        ins[i] = spec
    sizes: dict = {}
    for spec, a in zip(ins, arrays):
        for c, n in zip(spec, shape_of(a)):
            if sizes.get(c, 1) == 1:  # first seen, or seen only as a broadcast axis (size 0 stays 0)
                sizes[c] = n
            elif n not in (1, sizes[c]):
                raise ValueError(f"einsum: operands could not be broadcast together: index {c!r} has sizes "
                                 f"{sizes[c]} and {n}")
    for i, (spec, a) in enumerate(zip(ins, arrays)):
        want = tuple(sizes[c] for c in spec)
        if shape_of(a) != want:
            arrays[i] = broadcast_to(a, want)
    result = einsum_p(*arrays, subscripts=",".join(ins) + "->" + output)
    return result if dtype is None else astype(result, dtype)


def _einsum_operands(operands: tuple) -> tuple:
    """(subscripts, arrays) from either calling form: ('ij,jk', a, b) or (a, [0, 1], b, [1, 2], [0, 2])."""
    if not operands:
        raise ValueError("tinyad.numpy.einsum: no subscripts given")
    if isinstance(operands[0], str):
        return operands[0], list(operands[1:])
    arrays, specs = list(operands[0::2]), list(operands[1::2])
    output = None
    if len(operands) % 2:  # a trailing output sublist
        output, arrays = arrays[-1], arrays[:-1]

    def letters(sub: Any) -> str:
        return "".join("..." if s is Ellipsis else _LETTERS_ALL[int(s)] for s in sub)

    text = ",".join(letters(sp) for sp in specs)
    return (text if output is None else text + "->" + letters(output)), arrays


def _explicit_subscripts(subscripts: str, arrays: list) -> tuple:
    """Input specs and the output spec with ``...`` replaced by letters of their own (right-aligned, so
    that broadcast axes line up) and an implicit output made explicit (NumPy's rule)."""
    text = subscripts.replace(" ", "")
    lhs, arrow, rhs = text.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(arrays):
        raise ValueError(f"einsum: {subscripts!r} names {len(ins)} operands but {len(arrays)} were given")
    used = set(text) - set(",.->")
    spare = [c for c in _LETTERS_ALL if c not in used]
    ranks = []  # how many axes each operand's "..." stands for
    for spec, a in zip(ins, arrays):
        named = len(spec.replace("...", ""))
        rank = ndim_of(a) - named if "..." in spec else 0
        if rank < 0 or ("..." not in spec and named != ndim_of(a)):
            raise ValueError(f"einsum: operand {spec!r} names {named} axes but has {ndim_of(a)} dimensions")
        ranks.append(rank)
    width = max(ranks, default=0)
    ell = "".join(spare[:width])
    ins = [spec.replace("...", ell[width - r:]) for spec, r in zip(ins, ranks)]
    if arrow:
        if "..." not in rhs and width and any(c in "".join(ins) for c in ell):
            raise ValueError("output has more dimensions than subscripts given in einstein sum, but no '...' "
                             "ellipsis provided to broadcast the extra dimensions.")
        output = rhs.replace("...", ell)
    else:
        counts = {c: lhs.count(c) for c in used}
        output = ell + "".join(sorted(c for c, k in counts.items() if k == 1))
    for c in output:
        if output.count(c) > 1:
            raise ValueError(f"einsum: output subscript {c!r} appears more than once")
        if c not in "".join(ins):
            raise ValueError(f"einsum: output subscript {c!r} does not appear in the inputs")
    return ins, output


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    return _sum(diagonal(x, offset, axis1, axis2), axis=-1)


def vdot(a: Any, b: Any) -> Any:
    """sum(conj(a) b) over the flattened arrays."""
    a, b = reshape(as_array(a), (-1,)), reshape(as_array(b), (-1,))
    return _sum(multiply(conj(a) if is_complex(a) else a, b))


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """sum(conj(x1) x2) along ``axis``, broadcast over the others (the array API's vecdot)."""
    x1, x2 = as_array(x1), as_array(x2)
    return _sum(multiply(conj(x1) if is_complex(x1) else x1, x2), axis=axis)


def kron(a: Any, b: Any) -> Any:
    """The Kronecker product: every entry of ``a`` times the whole of ``b``, tiled (an outer product, reshaped)."""
    a, b = as_array(a), as_array(b)
    nd = max(ndim_of(a), ndim_of(b))
    sa = (1,) * (nd - ndim_of(a)) + shape_of(a)
    sb = (1,) * (nd - ndim_of(b)) + shape_of(b)
    wide_a = reshape(a, tuple(v for n in sa for v in (n, 1)))
    wide_b = reshape(b, tuple(v for n in sb for v in (1, n)))
    return reshape(multiply(wide_a, wide_b), tuple(m * n for m, n in zip(sa, sb)))


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None) -> Any:
    """The cross product of 3-vectors (a 2-vector has a zero third component; two 2-vectors give the z
    component alone, as NumPy), broadcast over the other axes."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(as_array(a), axisa, -1), moveaxis(as_array(b), axisb, -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product (dimension must be 2 or 3)")
    ax = [getitem(a, idx=(Ellipsis, i)) for i in range(na)] + ([0.0] if na == 2 else [])
    bx = [getitem(b, idx=(Ellipsis, i)) for i in range(nb)] + ([0.0] if nb == 2 else [])
    z = ax[0] * bx[1] - ax[1] * bx[0]
    if na == nb == 2:
        return z
    c = stack([ax[1] * bx[2] - ax[2] * bx[1], ax[2] * bx[0] - ax[0] * bx[2], z], axis=-1)
    return moveaxis(c, -1, axisc)


def convolve(a: Any, v: Any, mode: str = "full") -> Any:
    """The discrete linear convolution of two 1-d sequences: out[k] = sum_i a[i] v[k - i], as a gather of
    sliding windows of the zero-padded ``a`` times the reversed ``v`` ('full', 'same' or 'valid')."""
    a, v = as_array(a), as_array(v)
    if ndim_of(a) != 1 or ndim_of(v) != 1:
        raise ValueError("object too deep for desired array (convolve takes 1-d sequences)")
    n, m = shape_of(a)[0], shape_of(v)[0]
    if n == 0 or m == 0:
        raise ValueError("v cannot be empty" if m == 0 else "a cannot be empty")
    if m > n:  # NumPy convolves the longer with the shorter; the sum is the same either way
        a, v, n, m = v, a, m, n
    padded = concatenate([_np.zeros(m - 1), a, _np.zeros(m - 1)]) if m > 1 else a
    windows = getitem(padded, idx=_np.arange(n + m - 1)[:, None] + _np.arange(m)[None, :])
    full = matmul(windows, getitem(v, idx=slice(None, None, -1)))
    if mode == "full":
        return full
    if mode == "same":
        start = (m - 1) // 2
        return getitem(full, idx=slice(start, start + n))
    if mode == "valid":
        return getitem(full, idx=slice(m - 1, n))
    raise ValueError(f"mode must be one of 'full', 'same' or 'valid' (got {mode!r})")


def correlate(a: Any, v: Any, mode: str = "valid") -> Any:
    """Cross-correlation of two 1-d sequences, sum_n a[n + k] conj(v[n]): convolve with the reversed conjugate."""
    v = as_array(v)
    rev = getitem(v, idx=slice(None, None, -1))
    return convolve(a, conj(rev) if is_complex(rev) else rev, mode)


def polyval(p: Any, x: Any) -> Any:
    """p[0] x^(n-1) + ... + p[n-1] by Horner's rule (differentiable in the coefficients and in x)."""
    p = as_array(p)
    if ndim_of(p) != 1:
        raise ValueError("tinyad.numpy.polyval: p must be a 1-d sequence of coefficients")
    y = _np.zeros_like(_np.asarray(innermost(x), dtype=float))
    for i in range(shape_of(p)[0]):
        y = y * x + getitem(p, idx=i)
    return y
