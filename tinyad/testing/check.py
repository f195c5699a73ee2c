"""``check_grads``: derivatives checked against central differences, in both modes, to any order.

* forward: the JVP along a random direction v equals the central difference (f(x + εv) - f(x - εv)) / 2ε;
* reverse: the VJP of a random cotangent u satisfies <u, J v> = <Jᵀu, v>, with J v from differences;
* order n > 1: the same checks, recursively, on the functions x, v -> JVP and x, u -> VJP, so the rules'
  own derivatives (which second-order AD uses) are checked too.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..core.primitive import shape_of
from ..core.trace import innermost
from ..core.transforms import jvp, vjp
from ..core.tree import flatten, tree_map


class GradientCheckError(AssertionError):
    """A derivative disagreed with finite differences (the message says which mode and order)."""


def _leaves(t: Any) -> list[np.ndarray]:
    return [np.asarray(innermost(x)) for x in flatten(t)[0]]


def _inner(a: Any, b: Any) -> float:
    """The pairing of a cotangent with a tangent, Re(sum(a * b)): JAX's convention, under which a cotangent
    c of z means dL = Re(sum(c dz)) (for real values, the ordinary inner product)."""
    return float(sum(np.real(np.sum(x * y)) for x, y in zip(_leaves(a), _leaves(b))))


def _random_like(tree: Any, rng: np.random.Generator) -> Any:
    def one(x):
        r = rng.standard_normal(shape_of(x))
        return r + 1j * rng.standard_normal(shape_of(x)) if np.iscomplexobj(innermost(x)) else r
    return tree_map(one, tree)


def check_grads(
    f: Callable,
    args: Sequence[Any],
    order: int = 2,
    modes: Sequence[str] = ("fwd", "rev"),
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    seed: int = 0,
) -> None:
    """Check ``f``'s derivatives at ``args`` (a tuple of floats/arrays/containers); raise if one is wrong.
    The argument order is JAX's: ``check_grads(f, args, order, modes)``.

    ``modes`` picks forward ("fwd", JVP) and/or reverse ("rev", VJP); ``order`` how many times to recurse
    into the derivatives themselves. Directions are random (``seed``), so one call checks a random
    projection of the whole Jacobian.
    """
    args = tuple(args)
    for m in modes:
        if m not in ("fwd", "rev"):
            raise ValueError(f"check_grads: unknown mode {m!r}; use 'fwd' and/or 'rev'")
    rng = np.random.default_rng(seed)
    v = _random_like(args, rng)

    def along(t: float) -> Any:
        return f(*tree_map(lambda x, d: x + t * d, args, v))

    numeric = tree_map(lambda a, b: (np.asarray(a) - np.asarray(b)) / (2 * eps), along(eps), along(-eps))
    n = len(args)
    name = getattr(f, "__name__", "f")

    if "fwd" in modes:
        _, tangent = jvp(f, args, v)
        for i, (a, b) in enumerate(zip(_leaves(tangent), _leaves(numeric))):
            if np.shape(a) != np.shape(b) or not np.allclose(a, b, rtol=rtol, atol=atol):
                raise GradientCheckError(
                    f"{name}: forward-mode JVP (output {i}) disagrees with central differences "
                    f"(order {order} check):\n  jvp     = {a}\n  numeric = {b}"
                )
        if order > 1:
            def jvp_of_f(*xs):
                return jvp(f, xs[:n], xs[n:])[1]
            jvp_of_f.__name__ = f"jvp({name})"
            check_grads(jvp_of_f, args + v, order - 1, modes, eps, rtol, atol, seed + 1)

    if "rev" in modes:
        out, pullback = vjp(f, *args)
        u = _random_like(out, rng)
        lhs = _inner(u, numeric)
        rhs = _inner(pullback(u), v)
        scale = max(abs(lhs), abs(rhs), _inner(tree_map(np.abs, u), tree_map(np.abs, numeric)), 1.0)
        if not abs(lhs - rhs) <= atol + rtol * scale:
            raise GradientCheckError(
                f"{name}: reverse-mode VJP fails <u, J v> = <J^T u, v> (order {order} check): "
                f"<u, Jv> = {lhs!r} (central differences) but <J^T u, v> = {rhs!r}"
            )
        if order > 1:
            def vjp_of_f(*xs):
                return vjp(f, *xs[:n])[1](xs[n])
            vjp_of_f.__name__ = f"vjp({name})"
            check_grads(vjp_of_f, args + (u,), order - 1, modes, eps, rtol, atol, seed + 2)
