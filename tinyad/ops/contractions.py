"""Contractions: matmul (bilinear; BLAS, via NumPy ``@``, does the work in every mode) and einsum
(multilinear in any number of operands). Complex operands follow JAX's convention, so the VJPs are plain
transposes."""

from __future__ import annotations

import numpy as np

from ..core.primitive import builtin, ndim_of, shape_of
from ..core.vspace import broadcast_to, map_directions, reshape, swap_last, unbroadcast


def _as_matrices(x, y, g):
    """Promote 1-D operands to matrices the way matmul does, and ``g`` to the matching shape."""
    x2 = reshape(x, (1,) + shape_of(x)) if ndim_of(x) == 1 else x
    y2 = reshape(y, shape_of(y) + (1,)) if ndim_of(y) == 1 else y
    gshape = np.broadcast_shapes(shape_of(x2)[:-2], shape_of(y2)[:-2]) + (shape_of(x2)[-2], shape_of(y2)[-1])
    return x2, y2, reshape(g, gshape)


def _vjp_x(g, ans, x, y):
    if ndim_of(x) == 2 and ndim_of(y) == 2:  # the common case, without the promotions
        return matmul(g, swap_last(y))
    x2, y2, g2 = _as_matrices(x, y, g)
    return reshape(unbroadcast(matmul(g2, swap_last(y2)), shape_of(x2)), shape_of(x))


def _vjp_y(g, ans, x, y):
    if ndim_of(x) == 2 and ndim_of(y) == 2:
        return matmul(swap_last(x), g)
    x2, y2, g2 = _as_matrices(x, y, g)
    return reshape(unbroadcast(matmul(swap_last(x2), g2), shape_of(y2)), shape_of(y))


# Batched JVPs: k tangents ride NumPy's stacked matmul, (k, n, m) @ (m, p). Measured on the digits MLP
# this beats folding k into one large BLAS call (whose transposes and copies cost up to 3.6x more).
def _jvp_x_batched(g, ans, x, y):
    if ndim_of(y) <= 2 or ndim_of(x) >= ndim_of(y):  # batch axes of x and y right-align; k leads
        return matmul(g, y)
    return map_directions(lambda gj: matmul(gj, y), g)


def _jvp_y_batched(g, ans, x, y):
    if ndim_of(y) == 1:  # x @ y_j for each direction = y_j @ x^T, one call
        if ndim_of(x) == 2:
            return matmul(g, swap_last(x))
        if ndim_of(x) == 1:
            return matmul(g, x)
    elif ndim_of(x) <= ndim_of(y):
        return matmul(x, g)
    return map_directions(lambda gj: matmul(x, gj), g)


matmul = builtin(np.matmul, "matmul")
matmul.defjvp(lambda g, ans, x, y: matmul(g, y), lambda g, ans, x, y: matmul(x, g))
matmul.defvjp(_vjp_x, _vjp_y)
matmul.defjvp_batched(_jvp_x_batched, _jvp_y_batched)


# ---- einsum: multilinear in its operands --------------------------------------------------------------
def parse_einsum(subscripts: str, n_operands: int) -> tuple[list[str], str]:
    """'ij,jk->ik' -> (['ij', 'jk'], 'ik'); an implicit output is the once-occurring indices, sorted."""
    if "." in subscripts:
        raise NotImplementedError("tinyad.numpy.einsum: '...' (ellipsis) is not supported; spell the axes out")
    lhs, _, rhs = subscripts.replace(" ", "").partition("->")
    ins = lhs.split(",")
    if len(ins) != n_operands:
        raise ValueError(f"einsum: {subscripts!r} names {len(ins)} operands but {n_operands} were given")
    for s in ins:
        if len(set(s)) != len(s):
            raise NotImplementedError(f"einsum: an index repeated within one operand ({s!r}) is not supported; use "
                                      "tnp.diagonal / tnp.trace")
    if not _:
        counts = {c: lhs.count(c) for c in set(lhs) - {","}}
        rhs = "".join(sorted(c for c, k in counts.items() if k == 1))
    return ins, rhs


def _einsum(*operands, subscripts):
    return np.einsum(subscripts, *operands)


def _einsum_vjp(i):
    def rule(g, ans, *ops, subscripts):
        ins, out = parse_einsum(subscripts, len(ops))
        others = [s for j, s in enumerate(ins) if j != i]
        present = set(out).union(*others) if others else set(out)
        kept = "".join(c for c in ins[i] if c in present)
        reduced = einsum_p(g, *[o for j, o in enumerate(ops) if j != i],
                           subscripts=",".join([out] + others) + "->" + kept)
        shape_i = shape_of(ops[i])
        expanded = reshape(reduced, tuple(n if c in present else 1 for c, n in zip(ins[i], shape_i)))
        return broadcast_to(expanded, shape_i)

    return rule


def _einsum_jvp(i):
    def rule(t, ans, *ops, subscripts):
        return einsum_p(*[t if j == i else o for j, o in enumerate(ops)], subscripts=subscripts)

    return rule


einsum_p = builtin(_einsum, "einsum").defvariadic(_einsum_vjp, _einsum_jvp)
