"""Reverse mode: ``Var`` boxes record the primitives applied to them; ``backward`` pulls cotangents back.

Each Var is a node: its value, the primitive that made it, that primitive's (unboxed) arguments and
keyword arguments, and its parents. The trace appends every node to its *tape* as it is made; since a
node is always made after its parents, walking the tape backwards is a topological order, so the
backward pass needs no sort and no recursion (a 100,000-op chain is fine). No closure is built while
recording: a VJP rule is looked up and called only in the backward pass, with the recorded arguments.
Cotangents live in a slot on each node and are freed as soon as they have been pulled back; they are
accumulated with tinyad ops, so when values are Duals or Vars of outer traces the backward pass is itself
differentiated (forward-over-reverse, reverse-over-reverse).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .box import ArrayBox
from .primitive import PY_NUMBERS, Primitive, Rule, numpy_scalars, shape_of
from .trace import Box, Trace, opened
from .vspace import add, cast_like, float_dtype, real_if_real, unbroadcast


class Var(ArrayBox):
    """A reverse-mode box: a value, and how it was computed from its parents (None for an input)."""

    __slots__ = ("_value", "_prim", "_args", "_kwargs", "_parents", "_ct")

    def __init__(self, value: Any, trace: "ReverseTrace", prim: Primitive | None = None,
                 args: tuple = (), kwargs: dict | None = None, parents: tuple = ()) -> None:
        self._value = value
        self._trace = trace
        self._prim = prim
        self._args = args
        self._kwargs = kwargs
        self._parents = parents  # ((argnum, parent Var), ...)
        self._ct = None  # cotangent, only during a backward pass

    def _inner(self) -> Any:
        return self._value

    @property
    def value(self) -> Any:
        return self._value

    def __repr__(self) -> str:
        op = self._prim.name if self._prim is not None else "input"
        return f"Var({op}, value={self._value!r}, trace=#{self._trace.id})"


class ReverseTrace(Trace):
    """One ``vjp``/``grad``: boxes of this trace are recorded on ``tape``; everything else is a constant.

    ``vjp`` takes the tape away when recording ends (``take_tape``), so that the trace, which every Var
    references, does not in turn reference the Vars: no reference cycle, memory freed promptly."""

    __slots__ = ("tape",)
    mode = "vjp"

    def __init__(self) -> None:
        super().__init__()
        self.tape: list | None = []

    def take_tape(self) -> list:
        tape, self.tape = self.tape, None
        return tape

    def process(self, prim: Primitive, args: tuple, kwargs: dict) -> Var:
        values = list(args)
        parents = []
        boxed = False  # does a box of an outer trace remain among the values?
        scalars = False  # a Python number among them?
        for i, a in enumerate(args):
            if type(a) is Var and a._trace is self:
                if prim.vjp_rule(i) is None:
                    raise prim.missing_rule("vjp", i)
                parents.append((i, a))
                a = values[i] = a._value
            if isinstance(a, Box):
                boxed = True
            elif type(a) in PY_NUMBERS:
                scalars = True
        values = tuple(numpy_scalars(values) if scalars else values)
        ans = prim(*values, **kwargs) if boxed else prim.apply_plain(values, kwargs)
        node = Var(ans, self, prim, values, kwargs, tuple(parents))
        self.tape.append(node)
        return node


def backward(tape: list, seeds: list[tuple[Var, Any]], inputs: list[Var]) -> list:
    """Pull the cotangents ``seeds`` [(output Var, cotangent)] back along ``tape``.

    Returns the cotangent of each of ``inputs`` (None where an input does not reach the outputs)."""
    try:
        for var, g in seeds:
            var._ct = g if var._ct is None else add(var._ct, g)
        for node in reversed(tape):
            g = node._ct
            if g is None:
                continue
            node._ct = None
            prim, args, kwargs = node._prim, node._args, node._kwargs
            if prim.joint_vjp is not None:  # a jitted call: one staged VJP gives every input's cotangent
                cts = prim.joint_vjp(g, node._value, args)
                for (i, parent), c in zip(node._parents, cts):
                    _accumulate(parent, cast_like(real_if_real(c, args[i]), args[i]))
                continue
            for i, parent in node._parents:
                c = prim.vjp_rule(i)(g, node._value, *args, **kwargs)
                if type(c) is tuple:  # an output of a jitted call: its slot of the call's cotangents
                    _accumulate(parent, c)
                    continue
                x = args[i]
                if prim.elementwise:
                    c = unbroadcast(c, shape_of(x))
                if not _same_kind(c, x):
                    c = cast_like(real_if_real(c, x), x)
                _accumulate(parent, c)
        return [v._ct for v in inputs]
    finally:  # leave no cotangent behind, even if a rule raised
        for v in inputs:
            v._ct = None
        for node in tape:
            node._ct = None


def _same_kind(c: Any, x: Any) -> bool:
    """Is cotangent ``c`` already of ``x``'s type and dtype? (The usual case, checked before the general cast.)"""
    t = type(c)
    return t is type(x) and (t is np.float64 or (t is np.ndarray and c.dtype == x.dtype))


def _accumulate(node: Var, c: Any) -> None:
    """Add cotangent ``c`` into ``node``'s (a jitted call's node gathers one per output, as a tuple)."""
    if node._ct is None:
        node._ct = c
    elif type(c) is tuple:
        node._ct = tuple(b if a is None else a if b is None else add(a, b) for a, b in zip(node._ct, c))
    else:
        node._ct = add(node._ct, c)


def transposed_jvps(prim: Primitive) -> tuple[Rule, ...]:
    """VJP rules for ``prim`` derived from its JVP rules, which are linear in the tangent: the VJP of
    argument i is the transpose of ``t -> jvp_i(t, ans, *args)``, found by recording that map on a tape and
    pulling the cotangent back through it. So a heavy linear-algebra op writes its derivative once; the
    derived rules are ordinary tinyad computations, differentiable again at any order."""
    return tuple(None if rule is None else _transpose_of(rule, i) for i, rule in enumerate(prim.jvps))


def _transpose_of(jvp_rule: Rule, argnum: int) -> Rule:
    def vjp_rule(g: Any, ans: Any, *args: Any, **kwargs: Any) -> Any:
        x = args[argnum]
        trace = ReverseTrace()
        t = Var(np.zeros(shape_of(x), dtype=float_dtype(x)), trace)
        with opened(trace):
            out = jvp_rule(t, ans, *args, **kwargs)
        tape = trace.take_tape()
        if type(out) is not Var or out._trace is not trace:  # the JVP does not depend on this argument
            return np.zeros(shape_of(x), dtype=float_dtype(x))
        (ct,) = backward(tape, [(out, g)], [t])
        return np.zeros(shape_of(x), dtype=float_dtype(x)) if ct is None else ct

    return vjp_rule
