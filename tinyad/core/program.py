"""Compiling a staged :class:`~tinyad.core.staging.Program` into a plain Python function (the second half of
``tinyad.jit``).

Passes, in order: dead-code elimination (only what the outputs need is kept — in a backward pass, only what
the VJPs need), common-subexpression elimination (rules recompute values their forward already had: one
evaluation each), then code generation: one line per equation calling the primitive's implementation on
NumPy arrays — no boxes, no dispatch, no rule lookups — each intermediate released right after its last use.
The fusion of elementwise runs into generated numba kernels plugs in between (``tinyad.core.fusion``).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np

from .fusion import buffer_pool, fuse
from .staging import Eqn, Program, Ref, eqn_inputs, refs_in
from .tree import static_key


def dead_code_elimination(p: Program) -> Program:
    live = {v for o in p.outputs for v in refs_in(o)}
    kept = []
    for e in reversed(p.eqns):
        if e.out in live:
            kept.append(e)
            live.update(eqn_inputs(e))
    return Program(p.n_in, kept[::-1], p.outputs, p.avals)


def _key(x: Any) -> Any:
    """A hashable stand-in for an argument: by value for small immutable things, by identity otherwise."""
    if isinstance(x, (float, complex, np.floating, np.complexfloating)):
        return static_key(x)  # 0.0 and -0.0 are different constants (1/x tells them apart)
    if type(x) is Ref or isinstance(x, (int, str, bool, type(None), slice, type(Ellipsis), np.dtype)):
        return (type(x), x) if not isinstance(x, slice) else ("slice", _key(x.start), _key(x.stop), _key(x.step))
    if type(x) is tuple or type(x) is list:
        return (type(x), tuple(_key(e) for e in x))
    if isinstance(x, np.generic):
        return (type(x), x.item())
    return ("id", id(x))


def common_subexpressions(p: Program) -> Program:
    """Equations applying the same primitive to the same inputs and parameters compute the same value."""
    seen: dict = {}
    rename: dict[int, int] = {}

    def sub(x: Any) -> Any:
        if type(x) is Ref:
            return Ref(rename.get(x.var, x.var))
        if type(x) is tuple or type(x) is list:
            return type(x)(sub(e) for e in x)
        return x

    eqns = []
    for e in p.eqns:
        e = Eqn(e.prim, tuple(sub(a) for a in e.args), {k: sub(v) for k, v in e.kwargs.items()}, e.out)
        key = (e.prim, tuple(_key(a) for a in e.args), tuple(sorted((k, _key(v)) for k, v in e.kwargs.items())))
        if key in seen:
            rename[e.out] = seen[key]
        else:
            seen[key] = e.out
            eqns.append(e)
    return Program(p.n_in, eqns, [sub(o) for o in p.outputs], p.avals)


def simplify(p: Program) -> Program:
    return dead_code_elimination(common_subexpressions(dead_code_elimination(p)))


class _Buffers(threading.local):
    """A compiled program's reusable intermediate buffers, allocated once per thread. A replay that starts
    while another is using them (a primitive calling back into the same program) gets fresh ones."""

    def __init__(self, specs: list) -> None:
        self.specs = specs
        self.arrays: list | None = None
        self.busy = False

    def acquire(self) -> list:
        if self.busy:
            return [np.empty(shape, dtype) for shape, dtype in self.specs]
        if self.arrays is None:
            self.arrays = [np.empty(shape, dtype) for shape, dtype in self.specs]
        self.busy = True
        return self.arrays

    def release(self, arrays: list) -> None:
        if arrays is self.arrays:
            self.busy = False


def split_at(p: Program, n_first: int, n_values: int) -> tuple[Program, Program, int]:
    """Split a program whose inputs are (first..., second...) into the part that needs only the first inputs
    and the rest: (A, B, r). A computes outputs[:n_values] and r residuals (its values that B reads); B takes
    (residuals..., second...) and computes outputs[n_values:]. For a staged VJP, A is the forward pass
    keeping only what the backward pass needs, and B the backward pass."""
    later = set(range(n_first, p.n_in))
    for e in p.eqns:
        if later.intersection(eqn_inputs(e)):
            later.add(e.out)
    first = [e for e in p.eqns if e.out not in later]
    second = [e for e in p.eqns if e.out in later]
    read_later = {v for e in second for v in eqn_inputs(e)} | {v for o in p.outputs[n_values:] for v in refs_in(o)}
    residuals = sorted(v for v in read_later if v not in later)
    a = Program(n_first, first, p.outputs[:n_values] + [Ref(v) for v in residuals], p.avals)
    b = _renumbered(second, residuals + list(range(n_first, p.n_in)), p.outputs[n_values:], p.avals)
    return a, b, len(residuals)


def _renumbered(eqns: list, inputs: list, outputs: list, avals: dict) -> Program:
    """A program of ``eqns`` whose inputs are the variables ``inputs`` (renumbered 0, 1, ...)."""
    new = {v: i for i, v in enumerate(inputs)}
    for e in eqns:
        new[e.out] = len(new)

    def sub(x: Any) -> Any:
        if type(x) is Ref:
            return Ref(new[x.var])
        if type(x) is tuple or type(x) is list:
            return type(x)(sub(e) for e in x)
        return x

    body = [Eqn(e.prim, tuple(sub(a) for a in e.args), {k: sub(v) for k, v in e.kwargs.items()}, new[e.out])
            for e in eqns]
    return Program(len(inputs), body, [sub(o) for o in outputs], {new[v]: a for v, a in avals.items() if v in new})


def to_python(p: Program, name: str = "program") -> Callable:
    """The program as a Python function of its inputs returning the list of its outputs."""
    env: dict[str, Any] = {}
    names: dict[int, str] = {}

    def const(x: Any) -> str:
        key = f"c{len(env)}"
        env[key] = x
        return key

    def src(x: Any) -> str:
        if type(x) is Ref:
            return f"v{x.var}"
        if type(x) is tuple:
            return "(" + "".join(src(e) + ", " for e in x) + ")"
        if type(x) is list:
            return "[" + ", ".join(src(e) for e in x) + "]"
        if x is None or isinstance(x, (bool, int)) or (type(x) is float and np.isfinite(x)):
            return repr(x)
        return const(x)

    last_use: dict[int, int] = {}
    for i, e in enumerate(p.eqns):
        for v in eqn_inputs(e):
            last_use[v] = i
    outputs = {v for o in p.outputs for v in refs_in(o)}
    lines = [f"def {name}({', '.join(f'v{i}' for i in range(p.n_in))}):"]
    pool = buffer_pool(p)
    pooled = {v: slot for v, (slot, _, _) in pool.items()}
    body_start = len(lines)
    for i, e in enumerate(p.eqns):
        emit = getattr(e.prim, "emit", None)
        if emit is not None:  # the primitive writes its own replay code (a fused kernel: allocate, call)
            lines += ["    " + line for line in emit(e, src, const, pooled)]
        else:
            fn = names.get(id(e.prim))
            if fn is None:
                fn = names[id(e.prim)] = const(e.prim.impl)
            call = ", ".join([src(a) for a in e.args] + [f"{k}={src(v)}" for k, v in e.kwargs.items()])
            target = "".join(f"v{o}, " for o in e.out) if type(e.out) is tuple else f"v{e.out}"
            lines.append(f"    {target} = {fn}({call})")
        dead = sorted(v for v in set(eqn_inputs(e)) if last_use.get(v) == i and v not in outputs)
        if dead:
            lines.append("    del " + ", ".join(f"v{v}" for v in dead))
    # an output computed from constants only is a constant of the program: each call gets its own copy, so
    # that writing into one result cannot change the next
    lines.append("    return [" + ", ".join(f"{src(o)}.copy()" if type(o) is np.ndarray else src(o)
                                          for o in p.outputs) + "]")
    if pool:  # intermediate buffers reused from replay to replay: no allocation, no page faults
        buffers = const(_Buffers([(s, d) for _, s, d in sorted(pool.values())]))
        lines[body_start:] = ([f"    buffers = {buffers}.acquire()", "    try:"] + ["    " + line for line in
                              lines[body_start:]] + ["    finally:", f"        {buffers}.release(buffers)"])
    source = "\n".join(lines)
    exec(compile(source, f"<tinyad.jit {name}>", "exec"), env)  # noqa: S102 - our own generated code
    fn = env[name]
    fn.source = source
    return fn


def compile_program(p: Program, name: str = "program", fused: bool = False) -> Callable:
    """``p`` simplified (and with its elementwise runs fused into numba kernels) as a Python function."""
    p = simplify(p)
    if fused:
        p = fuse(p)
    return to_python(p, name)
