"""Traces: which differentiation a box belongs to, and whether that differentiation is still running.

Every ``grad``/``vjp``/``jvp`` call opens a fresh :class:`Trace` whose ``id`` comes from a counter that
never repeats, and closes it on return. Because ids only grow, the box with the largest id among a
primitive's arguments is always the innermost live differentiation: the one to peel first. Every other box
is a constant at that level and is peeled later, one level down. A box whose trace has closed can only
reach a primitive if it leaked out of its ``grad`` (stored in a global, a list, a closure); using it would
silently mix two differentiations (perturbation confusion), so it raises :class:`LeakedBoxError` instead.

This module knows nothing about forward or reverse mode: a trace subclass says how to ``process`` a
primitive applied to its boxes.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from typing import Any, Iterator

_ids = itertools.count(1)


class LeakedBoxError(TypeError):
    """A box from a differentiation that has already returned reached a primitive."""


class Trace:
    """One differentiation in progress. Subclasses implement :meth:`process` for their mode."""

    __slots__ = ("id", "live")
    mode = "?"

    def __init__(self) -> None:
        self.id = next(_ids)
        self.live = True

    def process(self, prim: Any, args: tuple, kwargs: dict) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.mode} trace #{self.id}{'' if self.live else ' (closed)'}>"


@contextmanager
def opened(trace: Trace) -> Iterator[Trace]:
    """Keep ``trace`` live for the duration of a ``with`` block; close it however the block exits."""
    try:
        yield trace
    finally:
        trace.live = False


class Box:
    """Base of every tinyad box (forward ``Dual`` and reverse ``Var``): a value tagged with a trace.

    A staged value of ``tinyad.jit`` is a box too, but the bottom one: it stands for an array and wraps
    nothing (``wraps = False``), so peeling stops there."""

    __slots__ = ("_trace",)
    wraps = True

    @property
    def trace(self) -> Trace:
        """The differentiation this box belongs to."""
        return self._trace

    def _inner(self) -> Any:  # pragma: no cover - abstract
        """The number this box wraps (which may itself be a box of an outer trace)."""
        raise NotImplementedError


def leaked_error(box: Box, where: str) -> LeakedBoxError:
    kind = type(box).__name__
    return LeakedBoxError(
        f"a tinyad {kind} from {box._trace!r} reached {where}, but the grad/vjp/jvp call that made it has "
        "already returned. This happens when a value computed inside a differentiated function is kept "
        "(in a global, a list, an attribute or a closure) and used after that call finished. Return the "
        "value from the function instead, or keep tinyad.stop_gradient(value) if you only need its number."
    )


def strip(x: Any) -> Any:
    """Remove every level of boxing: the plain float/ndarray underneath (a constant for every trace), or
    the staged value standing for it while ``tinyad.jit`` traces a function."""
    while isinstance(x, Box) and x.wraps:
        if not x._trace.live:
            raise leaked_error(x, "stop_gradient/strip")
        x = x._inner()
    return x


def innermost(x: Any) -> Any:
    """The plain number under every box (or the staged value), without liveness checks: for shape queries,
    printing, ``bool``."""
    while isinstance(x, Box) and x.wraps:
        x = x._inner()
    return x
