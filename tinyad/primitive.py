"""The one registry of primitives, and how a primitive applied to boxes is dispatched.

A primitive is a function on plain numbers (floats, ndarrays) plus, side by side, its derivative rules:

* ``jvp`` rules, one per positional argument: ``rule(g, ans, *args, **kwargs)`` maps that argument's
  tangent ``g`` to the output's tangent;
* ``vjp`` rules, one per positional argument: ``rule(g, ans, *args, **kwargs)`` maps the output's
  cotangent ``g`` to that argument's cotangent.

Rules are written in tinyad ops, never raw NumPy, so when ``ans``/``args``/``g`` are themselves boxes of
an outer differentiation the rules are differentiated too: that is all higher-order and mixed-mode AD
needs. Three shortcuts keep math from being written twice:

* ``elementwise=True`` with ``partials`` (one ``d(ans, *args)`` per argument): both rules follow,
  JVP ``g * d`` and VJP ``g * d`` summed back over broadcast axes. Broadcasting is handled here, once.
* ``linear=True``: the JVP is the primitive itself applied to the tangents; only the VJP (the transpose)
  is written.
* ``nondiff=True``: the output is a constant (comparisons, floor, argmax): boxes are stripped first.

Rules are looked up and called only when a box of the live trace is an argument; on plain numbers a
primitive costs one scan of its arguments and the call of its implementation.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as _np

from .tags import Box, leaked_error, strip

_ndarray, _float64 = _np.ndarray, _np.float64

REGISTRY: dict[str, "Primitive"] = {}


class NonDifferentiableError(TypeError):
    """A primitive was differentiated through an argument for which it has no rule."""


class Primitive:
    """An op with its value, JVP rules and VJP rules in one place. Call it like the function it wraps."""

    def __init__(
        self,
        impl: Callable,
        name: str | None = None,
        *,
        elementwise: bool = False,
        linear: bool = False,
        nondiff: bool = False,
        register: bool = True,
    ) -> None:
        self.impl = impl
        self.name = name or impl.__name__
        self.__name__ = self.name
        self.__doc__ = impl.__doc__
        self.elementwise = elementwise
        self.linear = linear
        self.nondiff = nondiff
        self.jvps: tuple = ()
        self.vjps: tuple = ()
        self.jvp_batched: tuple = ()
        if register:
            if self.name in REGISTRY:
                raise ValueError(f"a primitive named {self.name!r} is already registered")
            REGISTRY[self.name] = self

    # ---- defining rules -------------------------------------------------------------------------
    def defjvp(self, *rules: Callable | None) -> "Primitive":
        """Per positional argument, ``rule(g, ans, *args, **kwargs) -> output tangent`` (None: no rule)."""
        self.jvps = rules
        return self

    def defvjp(self, *rules: Callable | None) -> "Primitive":
        """Per positional argument, ``rule(g, ans, *args, **kwargs) -> argument cotangent`` (None: no rule)."""
        self.vjps = rules
        return self

    def defjvp_batched(self, *rules: Callable | None) -> "Primitive":
        """Optional, per argument: a JVP for a tangent ``g`` with a leading axis of k directions.

        Without it, k directions go through the ordinary rule one by one (correct, a little slower);
        elementwise primitives need none (their rules broadcast over the leading axis)."""
        self.jvp_batched = rules
        return self

    def def_partials(self, *partials: Callable | None) -> "Primitive":
        """Elementwise primitives: ``d_i(ans, *args)``, the derivative of the output w.r.t. argument i.

        One formula gives both modes: JVP ``g * d_i``, VJP ``g * d_i`` (the dispatch un-broadcasts).
        A partial may be a number (1 for ``add``, -1 for ``negative``)."""
        assert self.elementwise, "partials define rules for elementwise primitives only"

        def rule(d: Callable | float | None, transpose: bool) -> Callable | None:
            if d is None:
                return None
            if d == 1:
                return lambda g, ans, *args, **kw: g
            if isinstance(d, (int, float)):
                return lambda g, ans, *args, **kw: g * d
            if transpose:  # for complex values the VJP multiplies by the conjugate derivative
                return lambda g, ans, *args, **kw: g * conj_if_complex(d(ans, *args, **kw))
            return lambda g, ans, *args, **kw: g * d(ans, *args, **kw)

        self.jvps = tuple(rule(d, False) for d in partials)
        self.vjps = tuple(rule(d, True) for d in partials)
        return self

    # ---- applying -------------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        top = None
        for a in args:
            if isinstance(a, Box) and (top is None or a._trace.id > top._trace.id):
                top = a
        if top is None:
            return self.apply_plain(args, kwargs)
        if not top._trace.live:
            raise leaked_error(top, f"tinyad.numpy.{self.name}")
        if self.nondiff:
            return self.impl(*[strip(a) for a in args], **kwargs)
        return top._trace.process(self, args, kwargs)

    def apply_plain(self, args: tuple, kwargs: dict) -> Any:
        """The implementation on plain numbers; shape errors name the op and the shapes it was given."""
        try:
            return self.impl(*args, **kwargs)
        except ValueError as e:
            shapes = ", ".join(str(shape_of(a)) for a in args)
            raise ValueError(f"tinyad.numpy.{self.name}: {e} (argument shapes: {shapes})") from None

    def missing_rule(self, mode: str, argnum: int) -> NonDifferentiableError:
        return NonDifferentiableError(
            f"tinyad.numpy.{self.name} is not differentiable with respect to its argument {argnum} in "
            f"{mode} mode: it has no {mode.upper()} rule for it. Wrap that input in tinyad.stop_gradient "
            f"if it is meant to be a constant, or give the rule with {self.name}.def{mode}(...)."
        )

    def __repr__(self) -> str:
        return f"<tinyad primitive {self.name}>"


def primitive(impl: Callable | None = None, **options: Any) -> Any:
    """Make a user-defined primitive (decorator). Add rules with ``.defjvp``/``.defvjp``/``.def_partials``.

    Example::

        @tinyad.primitive
        def softplus(x):
            return np.logaddexp(0.0, x)
        softplus.defjvp(lambda g, ans, x: g * tnp.sigmoid(x))
        softplus.defvjp(lambda g, ans, x: g * tnp.sigmoid(x))

    A mode whose rule is missing raises :class:`NonDifferentiableError` when used, naming the op; the other
    mode still works. Rules must use tinyad ops so that they can be differentiated again.
    """
    if impl is None:
        return lambda f: Primitive(f, **options)
    return Primitive(impl, **options)


def shape_of(x: Any) -> tuple:
    """Shape of a float, ndarray or box (a box reports the shape of the number it carries)."""
    try:
        return x.shape
    except AttributeError:
        return _np.shape(x)


def ndim_of(x: Any) -> int:
    return len(shape_of(x))


def is_complex(x: Any) -> bool:
    """Whether the number under any boxes is complex (exact-type checks first: the common case is real)."""
    t = type(x)
    if t is _ndarray:
        return x.dtype.kind == "c"
    if t is float or t is _float64:
        return False
    while isinstance(x, Box):
        x = x._inner()
    dt = getattr(x, "dtype", None)
    return dt.kind == "c" if dt is not None else isinstance(x, complex)


def conj_if_complex(x: Any) -> Any:
    if not is_complex(x):
        return x
    from .primitives.elementwise import conj

    return conj(x)


def real_if_real(c: Any, x: Any) -> Any:
    """A cotangent for ``x``: its real part when x is real (a real input only feels Re of a complex one)."""
    if type(c) is _ndarray and c.dtype.kind != "c":
        return c
    if is_complex(c) and not is_complex(x):
        from .primitives.elementwise import real

        return real(c)
    return c
