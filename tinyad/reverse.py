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

from .box import ArrayBox
from .primitive import Primitive, real_if_real, shape_of
from .primitives.elementwise import add
from .primitives.shapes import unbroadcast
from .tags import Box, Trace


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
        for i, a in enumerate(args):
            if type(a) is Var and a._trace is self:
                if i >= len(prim.vjps) or prim.vjps[i] is None:
                    raise prim.missing_rule("vjp", i)
                parents.append((i, a))
                a = values[i] = a._value
            if isinstance(a, Box):
                boxed = True
        values = tuple(values)
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
            for i, parent in node._parents:
                c = prim.vjps[i](g, node._value, *args, **kwargs)
                if prim.elementwise:
                    c = unbroadcast(c, shape_of(args[i]))
                c = real_if_real(c, args[i])
                parent._ct = c if parent._ct is None else add(parent._ct, c)
        return [v._ct for v in inputs]
    finally:  # leave no cotangent behind, even if a rule raised
        for v in inputs:
            v._ct = None
        for node in tape:
            node._ct = None
