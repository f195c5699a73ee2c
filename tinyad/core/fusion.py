"""Fusing runs of elementwise equations of a program into generated numba kernels.

An elementwise primitive that declares its scalar form (``prim.scalar``, e.g. ``"({0} + {1})"``) can be
computed inside a loop nest with its neighbours: value, tangent and cotangent work alike — the VJP of tanh,
``g * (1 - y*y)``, is three NumPy passes and two temporaries, one kernel here. Only arithmetic declares a
scalar form: NumPy's SIMD exp/log/tanh beat a loop of scalar libm calls several times over.

Groups are grown greedily in program order, one open group per output shape — the loop nest's (inputs may
broadcast to it: a primal value read by the k tangent directions), so primal and tangent work interleaved in
a program fuse into one kernel each. An equation that reads a value of another open group (fusible or not)
closes that group first: it runs before. Open groups never read each other, so they close in any order. Only float64
and boolean values are fused, so every result is the computation NumPy would do; values needed outside the
group are written out, the rest never reach memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels.fusion import LoopNest, compile_nest
from .primitive import Primitive
from .staging import Eqn, Program, Ref, eqn_inputs, refs_in

MIN_GROUP = 2  # fusing a single operation gains nothing over NumPy's own loop

_F64, _BOOL = np.dtype(np.float64), np.dtype(bool)


def _fusible(e: Eqn, avals: dict) -> bool:
    if e.prim.scalar is None or e.kwargs or avals.get(e.out) is None:
        return False
    if avals[e.out][1] not in (_F64, _BOOL):
        return False
    for a in e.args:
        if type(a) is Ref:
            if avals[a.var][1] not in (_F64, _BOOL):
                return False
        elif not (type(a) in (float, int, bool) or (isinstance(a, (np.ndarray, np.generic)) and
                                                    a.dtype in (_F64, _BOOL))):
            return False
    return True


class _Group:
    def __init__(self) -> None:
        self.eqns: list[Eqn] = []
        self.produced: set[int] = set()
        self.shape: tuple = ()
        self.last = -1  # position in the program of its last member


def fuse(p: Program) -> Program:
    """``p`` with runs of fusible elementwise equations replaced by fused-kernel equations."""
    avals = p.avals
    used_later: dict[int, int] = {}  # var -> index of its last reader (len(eqns) for program outputs)
    for i, e in enumerate(p.eqns):
        for v in eqn_inputs(e):
            used_later[v] = i
    for o in p.outputs:
        for v in refs_in(o):
            used_later[v] = len(p.eqns)

    out: list[Eqn] = []
    groups: dict[tuple, _Group] = {}  # the open group of each shape; open groups never read each other

    def close(shape: tuple) -> None:
        group = groups.pop(shape)
        if len(group.eqns) >= MIN_GROUP:
            out.append(_fused_eqn(group, avals, used_later))
        else:
            out.extend(group.eqns)

    for i, e in enumerate(p.eqns):
        reads = set(eqn_inputs(e))
        fusible = _fusible(e, avals)
        shape = avals[e.out][0] if fusible else None
        for s in [s for s, g in groups.items() if s != shape and g.produced & reads]:
            close(s)  # e needs that group's values: it runs first
        if fusible:
            group = groups.setdefault(shape, _Group())
            group.eqns.append(e)
            group.produced.add(e.out)
            group.shape = shape
            group.last = i
        else:
            out.append(e)
    for s in list(groups):
        close(s)
    return Program(p.n_in, out, p.outputs, avals)


def _pattern(shape: tuple, loop: tuple) -> tuple:
    """Which loop dimension indexes each axis of an array of ``shape`` broadcast to ``loop`` (-1: axis of 1)."""
    lead = len(loop) - len(shape)
    return tuple(-1 if n == 1 and loop[lead + k] != 1 else lead + k for k, n in enumerate(shape))


def _fused_eqn(group: _Group, avals: dict, used_later: dict) -> Eqn:
    members = group.eqns
    last = group.last
    inputs: list[Any] = []  # the atoms the kernel reads: Refs from outside the group, array constants
    patterns: list[tuple | None] = []
    names: dict[Any, str] = {}

    def name_of(a: Any) -> str:
        if type(a) is Ref and a.var in group.produced:
            return f"t{a.var}"
        if type(a) in (float, int, bool):
            if type(a) is bool:
                return repr(a)
            a = float(a)
            return repr(a) if np.isfinite(a) else "np.nan" if a != a else "np.inf" if a > 0 else "(-np.inf)"
        key = ("ref", a.var) if type(a) is Ref else ("const", id(a))
        if key not in names:
            names[key] = f"x{len(inputs)}"
            inputs.append(a)
            shape = avals[a.var][0] if type(a) is Ref else np.shape(a)
            patterns.append(None if shape == () else _pattern(shape, group.shape))
        return names[key]

    # a boolean result is made one explicitly: in a scalar loop True + True is 2 and `x and y` is x or y
    body = tuple((f"t{e.out}", _as_bool(e.prim.scalar.format(*[name_of(a) for a in e.args]))
                  if avals[e.out][1] == _BOOL else e.prim.scalar.format(*[name_of(a) for a in e.args]))
                 for e in members)
    outs = [e.out for e in members if used_later.get(e.out, -1) > last]
    out_patterns = tuple((f"t{v}", _pattern(avals[v][0], group.shape)) for v in outs)
    nest = LoopNest(len(group.shape), tuple(patterns), body, out_patterns)
    in_dtypes = [avals[a.var][1] if type(a) is Ref else np.result_type(a) for a in inputs]
    prim = FusedKernel(nest, [avals[v] for v in outs], group.shape, [e.prim.name for e in members], in_dtypes)
    return Eqn(prim, tuple(inputs), {}, tuple(outs))


def _as_bool(expr: str) -> str:
    return f"(({expr}) != 0)"


class FusedKernel(Primitive):
    """A fused group: allocate its outputs, run the generated kernel. In a compiled program it writes that
    code inline (:meth:`emit`); called as a function (``impl``) it does the same."""

    def __init__(self, nest: LoopNest, out_avals: list, shape: tuple, ops: list, in_dtypes: list) -> None:
        super().__init__(self._run, f"fused[{'+'.join(ops)}]")
        self.nest, self.out_avals, self.shape = nest, out_avals, shape
        self.scalars = {k: (bool if dt == _BOOL else float) for k, (pat, dt) in enumerate(zip(nest.inputs, in_dtypes))
                        if pat is None}
        self.kernel = compile_nest(nest)

    def _run(self, *inputs: Any) -> tuple:
        ins = [self.scalars[k](x) if k in self.scalars else x for k, x in enumerate(inputs)]
        outs = [np.empty(shape, dtype) for shape, dtype in self.out_avals]
        self.kernel(*ins, *outs, *self.shape)
        return tuple(o[()] if o.ndim == 0 else o for o in outs)

    def emit(self, e: Eqn, src: Any, const: Any, pooled: dict) -> list[str]:
        """Replay code: each output from the program's buffer pool (``pooled``: var -> slot) or a fresh
        ``empty(shape, dtype)``, then one call of the kernel."""
        empty, kernel = const(np.empty), const(self.kernel)
        args = [f"{self.scalars[k].__name__}({src(a)})" if k in self.scalars else src(a) for k, a in enumerate(e.args)]
        lines = [f"v{o} = buffers[{pooled[o]}]" if o in pooled else f"v{o} = {empty}({shape!r}, {const(dtype)})"
                 for o, (shape, dtype) in zip(e.out, self.out_avals)]
        lines.append(f"{kernel}({', '.join(args + [f'v{o}' for o in e.out] + [str(n) for n in self.shape])})")
        # a 0-d result as the NumPy scalar NumPy's own ufuncs give (and eager tinyad), not a 0-d array
        lines += [f"v{o} = v{o}[()]" for o, (shape, _) in zip(e.out, self.out_avals) if shape == ()]
        return lines


_FRESH = {"sum", "max", "logsumexp", "softmax", "softmax_cross_entropy", "concatenate", "scatter_add", "cumsum"}


def returns_fresh(prim: Primitive) -> bool:
    """Whether ``prim``'s result never shares memory with its inputs (ufuncs, matmul, reductions, fused
    kernels), so a buffer it reads may be reused by the next replay. Views (reshape, transpose, indexing,
    np.real of a real array) share memory and could carry a reused buffer out of the program."""
    return isinstance(prim, FusedKernel) or isinstance(prim.impl, np.ufunc) or prim.name in _FRESH


def buffer_pool(p: Program) -> dict:
    """Outputs of fused kernels whose memory can be reused from one replay to the next: intermediates (not
    program outputs) read only by operations that return fresh arrays. var -> (slot, shape, dtype)."""
    readers: dict[int, list] = {}
    for e in p.eqns:
        for v in eqn_inputs(e):
            readers.setdefault(v, []).append(e.prim)
    outputs = {v for o in p.outputs for v in refs_in(o)}
    pool = {}
    for e in p.eqns:
        if isinstance(e.prim, FusedKernel):
            for o, (shape, dtype) in zip(e.out, e.prim.out_avals):
                if o not in outputs and all(returns_fresh(r) for r in readers.get(o, [])):
                    pool[o] = (len(pool), shape, dtype)
    return pool
