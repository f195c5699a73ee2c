"""Reverse mode: ``Var`` boxes record the primitives applied to them; ``backward`` pulls cotangents back.

Each Var is a node of the tape: its value, the primitive that made it, that primitive's (unboxed)
arguments and keyword arguments, and its parents. No closure is built while recording: a VJP rule is
looked up and called only in the backward pass, with the recorded arguments. The backward pass is
iterative (no recursion limit), frees each cotangent as soon as it has been pulled back, and accumulates
with tinyad ops, so when values are Duals or Vars of outer traces the backward pass is itself
differentiated (forward-over-reverse, reverse-over-reverse).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from .box import ArrayBox
from .primitive import Primitive, shape_of
from .primitives.elementwise import add
from .primitives.shapes import unbroadcast
from .tags import Trace


class Var(ArrayBox):
    """A reverse-mode box: a value, and how it was computed from its parents (None for an input)."""

    __slots__ = ("_value", "_prim", "_args", "_kwargs", "_parents")

    def __init__(self, value: Any, trace: "ReverseTrace", prim: Primitive | None = None,
                 args: tuple = (), kwargs: dict | None = None, parents: tuple = ()) -> None:
        self._value = value
        self._trace = trace
        self._prim = prim
        self._args = args
        self._kwargs = kwargs
        self._parents = parents  # ((argnum, parent Var), ...)

    def _inner(self) -> Any:
        return self._value

    @property
    def value(self) -> Any:
        return self._value

    def __repr__(self) -> str:
        op = self._prim.name if self._prim is not None else "input"
        return f"Var({op}, value={self._value!r}, trace=#{self._trace.id})"


class ReverseTrace(Trace):
    """One ``vjp``/``grad``: boxes of this trace are recorded, everything else is a constant."""

    __slots__ = ()
    mode = "vjp"

    def process(self, prim: Primitive, args: tuple, kwargs: dict) -> Var:
        values = []
        parents = []
        for i, a in enumerate(args):
            if type(a) is Var and a._trace is self:
                if i >= len(prim.vjps) or prim.vjps[i] is None:
                    raise prim.missing_rule("vjp", i)
                parents.append((i, a))
                values.append(a._value)
            else:
                values.append(a)
        values = tuple(values)
        return Var(prim(*values, **kwargs), self, prim, values, kwargs, tuple(parents))


def _reverse_topological(roots: Iterable[Var]) -> Iterator[Var]:
    """Nodes reachable from ``roots``, each after every node that uses it (Kahn's algorithm, no recursion)."""
    children: dict[int, int] = {}
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for _, parent in node._parents:
            children[id(parent)] = children.get(id(parent), 0) + 1
            stack.append(parent)
    ready, queued = [], set()
    for r in roots:
        if children.get(id(r), 0) == 0 and id(r) not in queued:
            queued.add(id(r))
            ready.append(r)
    while ready:
        node = ready.pop()
        yield node
        for _, parent in node._parents:
            children[id(parent)] -= 1
            if children[id(parent)] == 0:
                ready.append(parent)


def backward(seeds: list[tuple[Var, Any]]) -> dict[int, Any]:
    """Pull the cotangents ``seeds`` [(output Var, cotangent)] back; returns {id(input Var): cotangent}."""
    cts: dict[int, Any] = {}
    for var, g in seeds:
        cts[id(var)] = g if id(var) not in cts else add(cts[id(var)], g)
    inputs: dict[int, Any] = {}
    for node in _reverse_topological([v for v, _ in seeds]):
        g = cts.pop(id(node), None)
        prim = node._prim
        if prim is None:
            if g is not None:
                inputs[id(node)] = g
            continue
        if g is None:
            continue
        args, kwargs = node._args, node._kwargs
        for i, parent in node._parents:
            c = prim.vjps[i](g, node._value, *args, **kwargs)
            if prim.elementwise:
                c = unbroadcast(c, shape_of(args[i]))
            pid = id(parent)
            prev = cts.get(pid)
            cts[pid] = c if prev is None else add(prev, c)
    return inputs
