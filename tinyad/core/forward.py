"""Forward mode: ``Dual`` numbers and the trace that pushes tangents through primitives.

A Dual carries a primal and a tangent of the same shape, or — when its trace was opened with ``k``
directions — a tangent with a leading axis of length k, so one pass yields k directional derivatives
(d/d(lr, momentum, weight decay) of a whole training run at once). Primal and tangent may themselves be
boxes of outer traces: that is forward-over-anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .box import ArrayBox
from .primitive import PY_NUMBERS, Primitive, ndim_of, numpy_scalars, shape_of
from .trace import Box, Trace
from .vspace import add, align, broadcast_to, cast_like, float_dtype, map_directions


class Dual(ArrayBox):
    """A forward-mode box: ``primal + ε·tangent`` for the trace it belongs to."""

    __slots__ = ("_primal", "_tangent")

    def __init__(self, primal: Any, tangent: Any, trace: "ForwardTrace") -> None:
        self._primal = primal
        self._tangent = tangent
        self._trace = trace

    def _inner(self) -> Any:
        return self._primal

    @property
    def primal(self) -> Any:
        return self._primal

    @property
    def tangent(self) -> Any:
        return self._tangent

    def __repr__(self) -> str:
        return f"Dual(primal={self._primal!r}, tangent={self._tangent!r}, trace=#{self._trace.id})"


class ForwardTrace(Trace):
    """One ``jvp``: ``k`` is None for one tangent direction, or the number of stacked directions."""

    __slots__ = ("k",)
    mode = "jvp"

    def __init__(self, k: int | None = None) -> None:
        super().__init__()
        self.k = k

    def zeros(self, x: Any) -> Any:
        """The tangent of a constant ``x``: zeros of its shape (with the leading axis of k directions)."""
        shape = shape_of(x)
        return np.zeros(shape if self.k is None else (self.k,) + shape, dtype=float_dtype(x))

    def process(self, prim: Primitive, args: tuple, kwargs: dict) -> Dual:
        mine, primals = [], []
        boxed = scalars = False  # a box of an outer trace, a Python number among the primals?
        for a in args:
            m = type(a) is Dual and a._trace is self
            p = a._primal if m else a
            mine.append(m)
            primals.append(p)
            if isinstance(p, Box):
                boxed = True
            elif type(p) in PY_NUMBERS:
                scalars = True
        if scalars:
            primals = numpy_scalars(primals)
        ans = prim(*primals, **kwargs) if boxed else prim.apply_plain(primals, kwargs)  # boxed: dispatch again
        k = self.k

        if prim.linear:  # the JVP of a linear map is the map itself, applied to all tangents at once
            tangents = [a._tangent if m else self.zeros(a) for a, m in zip(args, mine)]
            batched = prim.batched_jvp_rule(0) if len(args) == 1 else None
            if k is None:
                out = prim(*tangents, **kwargs)
            elif batched is not None:
                out = batched(tangents[0], ans, *primals, **kwargs)
            else:
                out = map_directions(lambda *ts: prim(*ts, **kwargs), *tangents)
            return Dual(ans, cast_like(out, ans), self)

        out = None
        for i, m in enumerate(mine):
            if not m:
                continue
            rule = prim.jvp_rule(i)
            if rule is None:
                raise prim.missing_rule("jvp", i)
            g = args[i]._tangent
            if k is None:
                t = rule(g, ans, *primals, **kwargs)
            elif prim.elementwise:
                t = rule(align(g, ndim_of(ans)), ans, *primals, **kwargs)
            elif prim.batched_jvp_rule(i) is not None:
                t = prim.batched_jvp_rule(i)(g, ans, *primals, **kwargs)
            else:
                t = map_directions(lambda gj: rule(gj, ans, *primals, **kwargs), g)
            out = t if out is None else add(out, t)
        if prim.elementwise:
            want = shape_of(ans) if k is None else (k,) + shape_of(ans)
            if shape_of(out) != want:
                out = broadcast_to(out, want)
        return Dual(ans, cast_like(out, ans), self)
