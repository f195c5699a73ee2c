"""Primitives: an op's value and its derivative rules side by side, and how a primitive applied to boxes
is dispatched.

A primitive is a function on plain numbers (floats, ndarrays) plus its rules:

* ``jvp`` rules, one per positional argument: ``rule(g, ans, *args, **kwargs)`` maps that argument's
  tangent ``g`` to the output's tangent;
* ``vjp`` rules, one per positional argument: ``rule(g, ans, *args, **kwargs)`` maps the output's
  cotangent ``g`` to that argument's cotangent.

Rules are written in tinyad ops, never raw NumPy, so when ``ans``/``args``/``g`` are themselves boxes of
an outer differentiation the rules are differentiated too: that is all higher-order and mixed-mode AD
needs. Shortcuts keep math from being written twice:

* ``elementwise=True`` with ``partials`` (one ``d(ans, *args)`` per argument): both rules follow,
  JVP ``g * d`` and VJP ``g * d`` summed back over broadcast axes. Broadcasting is handled by the
  engine, once.
* ``linear=True``: the JVP is the primitive itself applied to the tangents; only the VJP (the transpose)
  is written.
* ``nondiff=True``: the output is a constant (comparisons, floor, argmax): boxes are stripped first.
* a VJP may be derived from the JVP by transposing it (``tinyad.core.reverse.transposed_jvps``): the
  heavy linear algebra writes its math once.

Positional arguments are the differentiable ones; static parameters (shapes, axes, indices) are keyword
arguments. Built-in primitives are listed in :data:`REGISTRY` (the sweep in tests/test_primitives.py
checks every one of them); a user's primitive (:func:`primitive`) is an ordinary object, not registered,
so it may be redefined freely and may share a name with a built-in.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as _np

from .trace import Box, innermost, leaked_error, strip

REGISTRY: dict[str, "Primitive"] = {}  # the built-in primitives, by name (filled by tinyad.core and tinyad.ops)

Rule = Callable[..., Any]


class NonDifferentiableError(TypeError):
    """A primitive was differentiated through an argument for which it has no rule."""


class Primitive:
    """An op with its value, JVP rules and VJP rules in one place. Call it like the function it wraps."""

    def __init__(self, impl: Callable, name: str | None = None, *, elementwise: bool = False,
                 linear: bool = False, nondiff: bool = False) -> None:
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
        self.variadic: tuple | None = None  # (vjp maker, jvp maker) for any number of operands
        self.scalar: str | None = None  # elementwise: the op on scalars, for fused kernels ("{0} + {1}")

    # ---- defining rules -------------------------------------------------------------------------
    def defjvp(self, *rules: Rule | None) -> "Primitive":
        """Per positional argument, ``rule(g, ans, *args, **kwargs) -> output tangent`` (None: no rule)."""
        self.jvps = rules
        return self

    def defvjp(self, *rules: Rule | None) -> "Primitive":
        """Per positional argument, ``rule(g, ans, *args, **kwargs) -> argument cotangent`` (None: no rule)."""
        self.vjps = rules
        return self

    def defvariadic(self, vjp: Callable[[int], Rule], jvp: Callable[[int], Rule] | None = None) -> "Primitive":
        """Primitives of any number of operands (concatenate, einsum): ``vjp(i)`` (and, unless the primitive
        is linear, ``jvp(i)``) make the rule for operand i."""
        assert self.linear or jvp is not None, "a nonlinear variadic primitive needs its JVP maker too"
        self.variadic = (vjp, jvp)
        return self

    def defjvp_batched(self, *rules: Rule | None) -> "Primitive":
        """Optional, per argument: a JVP for a tangent ``g`` with a leading axis of k directions.

        Without it, k directions go through the ordinary rule one by one (correct, a little slower);
        elementwise primitives need none (their rules broadcast over the leading axis)."""
        self.jvp_batched = rules
        return self

    def def_partials(self, *partials: Callable | float | None) -> "Primitive":
        """Elementwise primitives: ``d_i(ans, *args)``, the derivative of the output w.r.t. argument i.

        One formula gives both modes: JVP ``g * d_i``, VJP ``g * d_i`` (the engine un-broadcasts). A partial
        may be a number (1 for ``add``, -1 for ``negative``). For complex values the VJP multiplies by the
        same derivative (JAX's convention: a cotangent c of z means dL = Re(sum(c dz)))."""
        assert self.elementwise, "partials define rules for elementwise primitives only"
        rules = tuple(_times_partial(d) for d in partials)
        self.jvps = self.vjps = rules
        return self

    joint_vjp = None  # a call of a jitted function: one VJP for all inputs, ``joint_vjp(g, ans, args)``

    # ---- reading rules --------------------------------------------------------------------------
    @property
    def arity(self) -> int | None:
        """How many positional arguments have rules (None: any number, for variadic primitives)."""
        return None if self.variadic is not None else len(self.vjps)

    def vjp_rule(self, i: int) -> Rule | None:
        if self.variadic is not None:
            return self.variadic[0](i)
        return self.vjps[i] if i < len(self.vjps) else None

    def jvp_rule(self, i: int) -> Rule | None:
        if self.variadic is not None and self.variadic[1] is not None:
            return self.variadic[1](i)
        return self.jvps[i] if i < len(self.jvps) else None

    def batched_jvp_rule(self, i: int) -> Rule | None:
        return self.jvp_batched[i] if i < len(self.jvp_batched) else None

    # ---- applying -------------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        top, nested = None, False
        for a in args:
            if isinstance(a, Box):
                if top is None or a._trace.id > top._trace.id:
                    top = a
            elif type(a) is list or type(a) is tuple:
                nested = True
        if nested and top is None and any(holds_box(a) for a in args):
            return self(*[stack_nested(a) for a in args], **kwargs)
        staging = STAGING.trace
        if top is None:
            if staging is not None and holds_box(tuple(kwargs.values())):  # a staged index (x[i], i traced)
                return staging.process(self, args, kwargs)
            return self.apply_plain(args, kwargs)
        if not top._trace.live:
            raise leaked_error(top, f"tinyad.numpy.{self.name}")
        if staging is not None and 0 < top._trace.id < STAGING.floor:
            raise STAGING.captured(top, self)
        if self.nondiff:
            values = [strip(a) for a in args]
            if staging is not None and any(isinstance(v, Box) for v in values):  # staged: the result is traced too
                return staging.process(self, values, kwargs)
            return self.impl(*values, **kwargs)
        return top._trace.process(self, args, kwargs)

    def apply_plain(self, args: tuple | list, kwargs: dict) -> Any:
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


def holds_box(x: Any) -> bool:
    if type(x) is list or type(x) is tuple:
        return any(holds_box(e) for e in x)
    return isinstance(x, Box)


def stack_nested(x: Any) -> Any:
    """A (nested) list or tuple of numbers, some of them boxes, stacked into one array the way ``np.array``
    stacks numbers — differentiably (``tnp.sum([x, y])``, ``tnp.array([x, y])`` work as in JAX)."""
    if not (type(x) is list or type(x) is tuple) or not holds_box(x):
        return x
    parts = [stack_nested(e) for e in x]
    reshape, concatenate = REGISTRY["reshape"], REGISTRY["concatenate"]
    return concatenate(*[reshape(p, shape=(1,) + shape_of(p)) for p in parts], axis=0)


class _Staging(threading.local):
    """What the dispatch needs to know while ``tinyad.jit`` traces a function (``tinyad.core.staging`` sets
    it): the active staging trace, the first trace id that belongs to the traced function (a box of an
    older trace is a value captured from outside it), and how to say so. Per thread: a function traced in
    one thread leaves the others' work alone (trials on a thread pool)."""

    trace: Any = None
    floor = 0
    captured: Callable = None  # type: ignore[assignment]


STAGING = _Staging()


def _times_partial(d: Callable | float | None) -> Rule | None:
    """The rule ``g -> g * d(ans, *args)`` of an elementwise primitive's partial derivative ``d``."""
    if d is None:
        return None
    if isinstance(d, (int, float)):
        if d == 1:
            return lambda g, ans, *args, **kw: g
        return lambda g, ans, *args, **kw: g * d
    return lambda g, ans, *args, **kw: g * d(ans, *args, **kw)


def builtin(impl: Callable, name: str, **options: Any) -> Primitive:
    """A built-in primitive, listed in :data:`REGISTRY` (used by tinyad.core and tinyad.ops only)."""
    if name in REGISTRY:
        raise ValueError(f"two built-in primitives are named {name!r}")
    prim = REGISTRY[name] = Primitive(impl, name, **options)
    return prim


def primitive(impl: Callable | None = None, **options: Any) -> Any:
    """Make a user-defined primitive (decorator). Add rules with ``.defjvp``/``.defvjp``/``.def_partials``.

    Example::

        @tinyad.primitive
        def softplus(x):
            return np.logaddexp(0.0, x)
        softplus.defjvp(lambda g, ans, x: g * tnp.sigmoid(x))
        softplus.defvjp(lambda g, ans, x: g * tnp.sigmoid(x))

    A mode whose rule is missing raises :class:`NonDifferentiableError` when used, naming the op; the other
    mode still works. Rules must use tinyad ops so that they can be differentiated again. User primitives
    are not registered anywhere: defining one again (re-running a notebook cell) simply makes a new one.
    """
    if impl is None:
        return lambda f: Primitive(f, **options)
    return Primitive(impl, **options)


PY_NUMBERS = (float, int, complex)
_F64 = _np.dtype(_np.float64)


def numpy_scalars(args: list) -> list:
    """Python numbers among a primitive's arguments as NumPy scalars of the dtype the op computes in.

    The derivative rules do arithmetic on the arguments; on Python floats that arithmetic has Python's
    semantics — ``1.0 / 0.0`` raises ZeroDivisionError and ``(-8.0) ** (1/3)`` is complex — where arrays
    give inf and nan. As NumPy scalars of the op's own dtype (NumPy's promotion treats Python numbers as
    weak, so a float32 op stays float32) they follow array semantics, as the same call on 0-d arrays does."""
    for a in args:  # the usual case, float64 arrays and real Python numbers, without NumPy's type resolution
        t = type(a)
        if not (t is float or t is int or t is _np.float64 or (t is _np.ndarray and a.dtype == _F64)):
            break
    else:
        return [_np.float64(a) if type(a) is float or type(a) is int else a for a in args]
    if not any(type(a) in PY_NUMBERS for a in args):
        return args
    try:
        dt = _np.result_type(*[a if type(a) in PY_NUMBERS else dtype_of(a) for a in args])
    except TypeError:  # an argument NumPy cannot type (the op itself will say what is wrong)
        return args
    if dt.kind not in "fc":
        dt = _np.dtype(_np.float64)
    return [dt.type(a) if type(a) in PY_NUMBERS else a for a in args]


def shape_of(x: Any) -> tuple:
    """Shape of a float, ndarray or box (a box reports the shape of the number it carries)."""
    try:
        return x.shape
    except AttributeError:
        return _np.shape(x)


def ndim_of(x: Any) -> int:
    return len(shape_of(x))


def dtype_of(x: Any) -> _np.dtype:
    """The dtype of the number under any boxes (a staged value knows its dtype without a value)."""
    x = innermost(x)
    dt = getattr(x, "dtype", None)
    return dt if isinstance(dt, _np.dtype) else _np.result_type(x)


def is_complex(x: Any) -> bool:
    """Whether the number under any boxes is complex (exact-type checks first: the common case is real)."""
    t = type(x)
    if t is _np.ndarray:
        return x.dtype.kind == "c"
    if t is float or t is _np.float64:
        return False
    x = innermost(x)
    dt = getattr(x, "dtype", None)
    return dt.kind == "c" if dt is not None else isinstance(x, complex)
