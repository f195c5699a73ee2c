"""The operators users call: grad, value_and_grad, vjp, jvp, linearize, jacfwd, jacrev, hessian, hvp.

Names, signatures and return shapes follow JAX so that habits carry over. Each call opens a fresh trace
(see ``trace``), boxes the inputs, runs the user's function — loops, branches, recursion and containers
(pytrees, see ``tree``) are ordinary Python — and closes the trace before returning. Tangents and
cotangents have the dtype of the values they belong to: float32 in, float32 out.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .checks import ArgNums, argnums_tuple, check_differentiable, check_output, name_of, split_aux
from .forward import Dual, ForwardTrace
from .primitive import dtype_of, shape_of
from .reverse import ReverseTrace, Var, backward
from .trace import Box, opened
from .tree import flatten, mismatch, tree_map
from .vspace import float_dtype, getitem, reshape, stack, transpose

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "linearize", "jacfwd", "jacrev", "hessian", "hvp",
           "basis_tangents", "check_differentiable"]


def _unbox(x: Any, trace: Any) -> Any:
    return x._value if type(x) is Var and x._trace is trace else x


def _zeros_like(x: Any) -> np.ndarray:
    return np.zeros(shape_of(x), dtype=float_dtype(x))


def _like_input(c: Any, x: Any) -> Any:
    """The cotangent of input ``x`` (zeros if it does not reach the output), a NumPy scalar (a float) for a
    scalar input that was not an array."""
    if c is None:
        c = _zeros_like(x)
    if type(c) is np.ndarray and c.ndim == 0 and type(x) is not np.ndarray:
        return c[()]
    return c


# ---- reverse mode -----------------------------------------------------------------------------------
def vjp(f: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """Run ``f(*primals)`` and return ``(out, vjp_fn)``; ``vjp_fn(ct)`` gives one cotangent per primal.

    ``ct`` has the structure of ``out``; the result is a tuple with the structure of ``primals``. With
    ``has_aux=True``, ``f`` returns ``(out, aux)`` and this returns ``(out, vjp_fn, aux)``. Cotangents of
    complex values follow JAX's convention: a cotangent c of z means dL = Re(sum(c dz)).
    """
    return _vjp(f, primals, has_aux, range(len(primals)), transform="vjp")


def _vjp(f: Callable, primals: Sequence, has_aux: bool, argnums: Sequence[int],
         transform: str) -> tuple:
    """vjp, with the user's argument numbers for error messages (grad differentiates a selection)."""
    trace = ReverseTrace()
    in_leaves, in_defs = [], []
    for n, p in zip(argnums, primals):
        leaves, td = flatten(p)
        what = f"argument {n} of {name_of(f)}"
        in_leaves.append([Var(check_differentiable(x, what, allow_complex=True), trace) for x in leaves])
        in_defs.append(td)
    with opened(trace):
        try:
            out = f(*[td.unflatten(lv) for td, lv in zip(in_defs, in_leaves)])
        finally:
            tape = trace.take_tape()
    if has_aux:
        out, aux = split_aux(out, f, transform)
        aux = tree_map(lambda x: _unbox(x, trace), aux)
    check_output(out, f, transform)
    out_leaves, out_def = flatten(out)

    def vjp_fn(ct: Any) -> tuple:
        ct_leaves, ct_def = flatten(ct)
        if ct_def != out_def:
            raise ValueError(f"vjp_fn: the cotangent's structure differs from the output's: "
                             f"{mismatch(out_def, ct_def)} (output {out_def}, cotangent {ct_def})")
        seeds = []
        for o, c in zip(out_leaves, ct_leaves):
            if shape_of(c) != shape_of(o):
                raise ValueError(f"vjp_fn: cotangent of shape {shape_of(c)} for an output of shape {shape_of(o)}")
            if type(o) is Var and o._trace is trace:
                seeds.append((o, c))
        flat_inputs = [v for leaves in in_leaves for v in leaves]
        got = iter(backward(tape, seeds, flat_inputs) if seeds else [None] * len(flat_inputs))
        result = []
        for td, leaves in zip(in_defs, in_leaves):
            cts = [next(got) for _ in leaves]
            result.append(td.unflatten([_like_input(c, v._value) for v, c in zip(leaves, cts)]))
        return tuple(result)

    value = out_def.unflatten([_unbox(o, trace) for o in out_leaves])
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


def value_and_grad(f: Callable, argnums: ArgNums = 0, has_aux: bool = False) -> Callable:
    """Like :func:`grad`, but the new function returns ``(value, gradient)`` (``((value, aux), gradient)``
    with ``has_aux``)."""

    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple:
        nums = argnums_tuple(argnums, len(args), "grad")
        res = _vjp(_select(f, args, nums, kwargs), [args[n] for n in nums], has_aux, nums, transform="grad")
        out, pullback = res[0], res[1]
        if isinstance(out, (tuple, list, dict)) or shape_of(out) != ():
            raise TypeError(
                f"grad requires {name_of(f)} to return a scalar, but it returned "
                f"{'an array of shape ' + str(shape_of(out)) if not isinstance(out, (tuple, list, dict)) else 'a ' + type(out).__name__}. "  # noqa: E501
                "Use tinyad.jacrev (or tinyad.jacfwd) for the Jacobian of a vector output, or reduce the "
                "output first (e.g. .sum()).")
        dt = dtype_of(out)
        if dt.kind != "f":
            raise TypeError(f"grad requires a real floating-point output; {name_of(f)} returned dtype {dt}")
        grads = pullback(np.ones((), dtype=dt))
        grads = grads[0] if isinstance(argnums, (int, np.integer)) else grads
        return ((out, res[2]) if has_aux else out), grads

    value_and_grad_f.__name__ = f"value_and_grad({name_of(f)})"
    return value_and_grad_f


def grad(f: Callable, argnums: ArgNums = 0, has_aux: bool = False) -> Callable:
    """The gradient of scalar-valued ``f`` with respect to argument(s) ``argnums``, as a new function.

    The gradient has the structure (container, shapes, dtypes) of the differentiated argument; with a tuple
    of argnums, a tuple of gradients. With ``has_aux=True``, ``f`` returns ``(out, aux)`` and the new
    function returns ``(gradient, aux)``. The output must be real; an input may be complex, and then its
    gradient is JAX's: df/dx - i df/dy for z = x + iy.
    """
    vg = value_and_grad(f, argnums, has_aux)

    def grad_f(*args: Any, **kwargs: Any) -> Any:
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    grad_f.__name__ = f"grad({name_of(f)})"
    return grad_f


# ---- forward mode -----------------------------------------------------------------------------------
def jvp(f: Callable, primals: Sequence, tangents: Sequence, *, has_aux: bool = False,
        batched: bool = False) -> tuple:
    """``(f(*primals), J·tangents)``: push tangents forward through ``f`` in one pass.

    ``primals`` and ``tangents`` are tuples/lists of the same structure (each entry a float, array or
    container of them); each tangent takes its primal's dtype. With ``batched=True`` every tangent leaf
    carries a leading axis of length k and the output tangent does too: k directional derivatives for the
    price of one pass (and one primal). With ``has_aux=True``, ``f`` returns ``(out, aux)`` and this returns
    ``(out, tangent, aux)``.
    """
    return _jvp(f, primals, tangents, has_aux, batched, "jvp")


def _jvp(f: Callable, primals: Sequence, tangents: Sequence, has_aux: bool, batched: bool, transform: str) -> tuple:
    """:func:`jvp`, with the name of the transform the user called for its error messages."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp(f, primals, tangents): primals and tangents must be tuples or lists "
                        "(e.g. jvp(f, (x,), (v,)))")
    p_leaves, p_def, t_leaves, k = _tangents_of(primals, tangents, batched, "jvp: ")
    for i, p in enumerate(p_leaves):
        check_differentiable(p, f"primal {i} of jvp({name_of(f)})", allow_complex=True)
    trace = ForwardTrace(k if batched else None)
    boxed = [Dual(p, t if isinstance(t, Box) else np.asarray(t, dtype=_tangent_dtype(t, p)), trace)
             for p, t in zip(p_leaves, t_leaves)]
    with opened(trace):
        out = f(*p_def.unflatten(boxed))
    aux = None
    if has_aux:
        out, aux = split_aux(out, f, transform)
        aux = tree_map(lambda x: x._primal if type(x) is Dual and x._trace is trace else x, aux)
    check_output(out, f, transform)
    o_leaves, o_def = flatten(out)
    values, tans = [], []
    for o in o_leaves:
        if type(o) is Dual and o._trace is trace:
            values.append(o._primal)
            tans.append(o._tangent)
        else:
            values.append(o)
            tans.append(trace.zeros(o))
    res = (o_def.unflatten(values), o_def.unflatten(tans))
    return res + (aux,) if has_aux else res


def _tangents_of(primals: Sequence, tangents: Sequence, batched: bool, who: str) -> tuple:
    """``(primal leaves, their structure, tangent leaves, k)`` after checking that the tangents are shaped like
    the primals (with a leading axis of k directions, the same for all, when ``batched``); ``who`` begins
    the error messages."""
    p_leaves, p_def = flatten(tuple(primals))
    t_leaves, t_def = flatten(tuple(tangents))
    if p_def != t_def:
        raise ValueError(f"{who}tangents' structure differs from the primals': {mismatch(p_def, t_def)} "
                         f"(primals {p_def}, tangents {t_def})")
    k = None
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        ps, ts = shape_of(p), shape_of(t)
        if batched:
            if len(ts) != len(ps) + 1 or ts[1:] != ps or (k is not None and ts[0] != k):
                raise ValueError(f"{who}tangent {i} has shape {ts}; with batched=True it must be (k, *{ps}), with "
                                 "the same k for every tangent")
            k = ts[0]
        elif ts != ps:
            raise ValueError(f"{who}tangent {i} has shape {ts}, its primal {ps}; they must match")
    return p_leaves, p_def, t_leaves, k


def _tangent_dtype(t: Any, p: Any) -> np.dtype:
    """A tangent takes its primal's floating dtype (complex if either is complex)."""
    dt = float_dtype(p)
    return np.result_type(dt, np.complex64) if np.iscomplexobj(t) and dt.kind != "c" else dt


def linearize(f: Callable, *primals: Any) -> tuple:
    """``(f(*primals), f_jvp)`` where ``f_jvp(*tangents)`` is the JVP at ``primals``: ``f`` runs once.

    ``f_jvp`` is the transpose of the VJP (which is linear in its cotangent): each call pulls the tangents
    back through one recorded backward pass, so nothing of ``f`` is re-run. Memory holds ``f``'s tape, as
    JAX's linearize holds its residuals."""
    out, vjp_fn = vjp(f, *primals)
    zero_ct = tree_map(_zeros_like, out)

    def f_jvp(*tangents: Any) -> Any:
        if len(tangents) != len(primals):
            raise TypeError(f"linearize: f_jvp takes {len(primals)} tangents (one per primal), got {len(tangents)}")
        _tangents_of(primals, tangents, False, "linearize: f_jvp's ")
        _, transpose_fn = vjp(vjp_fn, zero_ct)
        (out_tangent,) = transpose_fn(tuple(tangents))
        return out_tangent

    return out, f_jvp


def hvp(f: Callable, x: Any, v: Any) -> Any:
    """Hessian-vector product ``H(x) v`` of scalar ``f`` (forward-over-reverse: one grad, pushed forward)."""
    return jvp(grad(f), (x,), (v,))[1]


# ---- Jacobians --------------------------------------------------------------------------------------
def _select(f: Callable, args: tuple, nums: tuple[int, ...], kwargs: dict) -> Callable:
    def g(*diff_args):
        full = list(args)
        for n, a in zip(nums, diff_args):
            full[n] = a
        return f(*full, **kwargs)

    g.__name__ = name_of(f)
    return g


def basis_tangents(leaves: list) -> tuple[list, list]:
    """Tangents for all n input directions at once: leaf i gets shape (n, *leaf.shape), the identity's
    columns for its entries. Returns (tangents, sizes of the leaves)."""
    sizes = [int(np.prod(shape_of(x))) for x in leaves]
    n = sum(sizes)
    eye = np.eye(n)
    tangents, start = [], 0
    for x, s in zip(leaves, sizes):
        tangents.append(eye[:, start:start + s].reshape((n,) + shape_of(x)).astype(float_dtype(x)))
        start += s
    return tangents, sizes


def jacfwd(f: Callable, argnums: ArgNums = 0, has_aux: bool = False) -> Callable:
    """Jacobian by forward mode: all input directions in one batched pass. Shape ``out.shape + in.shape``.
    With ``has_aux=True`` the new function returns ``(jacobian, aux)``."""

    def jac(*args: Any, **kwargs: Any) -> Any:
        nums = argnums_tuple(argnums, len(args), "jacfwd")
        diff = [args[n] for n in nums]
        leaves, td = flatten(tuple(diff))
        tans, sizes = basis_tangents(leaves)
        res = _jvp(_select(f, args, nums, kwargs), tuple(diff), td.unflatten(tans), has_aux, True, "jacfwd")
        out, t = res[0], res[1]

        def split(o, tt):  # tt: (n, *out_shape) -> per input leaf (*out_shape, *in_shape)
            oshape = shape_of(o)
            moved = transpose(tt, tuple(range(1, len(oshape) + 1)) + (0,))
            parts, start = [], 0
            for x, s in zip(leaves, sizes):
                part = getitem(moved, idx=(Ellipsis, slice(start, start + s)))
                parts.append(reshape(part, oshape + shape_of(x)))
                start += s
            jacs = td.unflatten(parts)
            return jacs[0] if isinstance(argnums, (int, np.integer)) else jacs

        j = tree_map(split, out, t)
        return (j, res[2]) if has_aux else j

    return jac


def jacrev(f: Callable, argnums: ArgNums = 0, has_aux: bool = False) -> Callable:
    """Jacobian by reverse mode: one pullback per output element. Shape ``out.shape + in.shape``.
    With ``has_aux=True`` the new function returns ``(jacobian, aux)``."""

    def jac(*args: Any, **kwargs: Any) -> Any:
        nums = argnums_tuple(argnums, len(args), "jacrev")
        diff = tuple(args[n] for n in nums)
        res = _vjp(_select(f, args, nums, kwargs), diff, has_aux, nums, transform="jacrev")
        out, pullback = res[0], res[1]
        o_leaves, o_def = flatten(out)
        in_leaves, in_def = flatten(diff)
        per_out = []
        for j, o in enumerate(o_leaves):
            oshape = shape_of(o)
            rows = []
            for idx in np.ndindex(*oshape):
                cts = [_zeros_like(q) for q in o_leaves]
                cts[j][idx] = 1.0
                rows.append(flatten(pullback(o_def.unflatten(cts)))[0])
            blocks = [reshape(stack([r[i] for r in rows]) if rows else np.zeros((0,) + shape_of(x)),
                              oshape + shape_of(x)) for i, x in enumerate(in_leaves)]
            jacs = in_def.unflatten(blocks)
            per_out.append(jacs[0] if isinstance(argnums, (int, np.integer)) else jacs)
        jac_tree = o_def.unflatten(per_out)
        return (jac_tree, res[2]) if has_aux else jac_tree

    return jac


def hessian(f: Callable, argnums: ArgNums = 0, has_aux: bool = False) -> Callable:
    """Hessian of scalar ``f``: ``jacfwd(jacrev(f))`` (forward-over-reverse). With ``has_aux=True`` the new
    function returns ``(hessian, aux)``."""
    return jacfwd(jacrev(f, argnums, has_aux), argnums, has_aux)
