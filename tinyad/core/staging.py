"""Staging: running a function once on stand-ins for its array inputs and recording every primitive applied
to them, at the plain-array level, into a flat :class:`Program` (the first half of ``tinyad.jit``).

A :class:`Staged` value is a box of the :class:`StagingTrace`, whose id is 0: every real trace (a ``jvp``,
a ``grad``) outranks it, so the real traces do all their work — tangents, tapes, backward passes — and what
reaches the bottom is a plain primitive applied to staged values (and constants). The staging trace records
that application as an :class:`Eqn` and returns a new staged value. Staged values carry the concrete value
of the call being traced (the example), so shapes and dtypes are exact and the first call's result comes for
free; but reading that value for Python control flow (``if``, ``float()``, ``.item()``) would bake one
branch into a program replayed on other values, so it raises :class:`ConcretizationError` instead.
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .box import ArrayBox, set_operators
from .primitive import PY_NUMBERS, REGISTRY, STAGING, Primitive
from .trace import Box, Trace, _ids

_PY_NUMBERS = PY_NUMBERS + (bool,)  # Python's numbers, for its arithmetic


class ConcretizationError(TypeError):
    """A jitted function needed the value of an array computed from its inputs while it was being traced."""


class CapturedBoxError(TypeError):
    """A jitted function used a box of an enclosing differentiation that was not one of its arguments."""


@dataclass(frozen=True)
class Ref:
    """A variable of a program: an input, or the output of an equation."""

    var: int


@dataclass
class Eqn:
    """``out = prim(*args, **kwargs)``; staged inputs in ``args``/``kwargs`` appear as :class:`Ref`."""

    prim: Primitive
    args: tuple
    kwargs: dict
    out: int


@dataclass
class Program:
    """A flat program: ``n_in`` inputs (variables 0..n_in-1), equations in order, and outputs (each a
    :class:`Ref` or a constant)."""

    n_in: int
    eqns: list
    outputs: list
    avals: dict = field(default_factory=dict)  # var -> (shape, dtype), for the compiler


def refs_in(x: Any) -> list[int]:
    """The variables an argument (or a tuple/list of them) reads."""
    if type(x) is Ref:
        return [x.var]
    if type(x) is tuple or type(x) is list:
        return [v for e in x for v in refs_in(e)]
    return []


def eqn_inputs(e: Eqn) -> list[int]:
    return [v for a in e.args for v in refs_in(a)] + [v for a in e.kwargs.values() for v in refs_in(a)]



class StagingTrace(Trace):
    """The bottom of every differentiation while a function is staged (id 0: every real trace outranks it)."""

    __slots__ = ("eqns", "counter", "avals", "python_operator")
    mode = "jit"

    def __init__(self) -> None:  # no id from the counter: 0 is below every real trace
        self.id = 0
        self.live = True
        self.eqns: list = []
        self.counter = itertools.count()
        self.avals: dict = {}  # var -> (shape, dtype)
        self.python_operator = False  # set by a staged value's +, *, ... for the one primitive it applies

    def refuse(self, what: str) -> None:
        """Raise for ``what`` (a NumPy function tinyad.numpy cannot trace) applied to a staged value."""
        raise _concretization_error(what)

    def new(self, value: Any) -> "Staged":
        x = Staged(self, next(self.counter), value)
        self.avals[x.var] = _aval(value)
        return x

    def process(self, prim: Primitive, args: tuple | list, kwargs: dict) -> "Staged":
        python_operator, self.python_operator = self.python_operator, False
        if python_operator and prim.name in PYTHON_OPERATORS and not kwargs and all(
                type(a) in _PY_NUMBERS or (isinstance(a, Staged) and type(a.value) in _PY_NUMBERS) for a in args):
            # an operator on Python numbers (a dynamic Python argument): Python's arithmetic, as eagerly — the
            # result stays a Python number (weak in NumPy's promotion: 0.9 ** t keeps float32 float32), True +
            # True is 2, 2 ** -1 is 0.5, in the trace and in every replay
            prim = PYTHON_OPERATORS[prim.name]
        else:
            _check_static_shape(prim, args, kwargs)
        concrete_args = [_concrete(a, self) for a in args]
        concrete_kwargs = {k: _concrete(v, self) for k, v in kwargs.items()}
        out = self.new(prim.apply_plain(concrete_args, concrete_kwargs))
        self.eqns.append(Eqn(prim, tuple(_refs(a) for a in args), {k: _refs(v) for k, v in kwargs.items()}, out.var))
        return out


PYTHON_OPERATORS = {name: Primitive(fn, f"python_{name}") for name, fn in (
    ("add", operator.add), ("subtract", operator.sub), ("multiply", operator.mul), ("divide", operator.truediv),
    ("power", operator.pow), ("mod", operator.mod), ("floor_divide", operator.floordiv),
    ("negative", operator.neg), ("abs", abs))}


def _python_operator(name: str, reflected: bool = False, unary: bool = False) -> Callable:
    """A staged value's operator: marks the primitive it applies as Python arithmetic (see ``process``)."""

    def op(self: "Staged", other: Any = None) -> Any:
        # (with a box of an enclosing trace the operator is that box's, as eagerly: not Python arithmetic)
        self._trace.python_operator = not isinstance(other, Box) or isinstance(other, Staged)
        try:
            return REGISTRY[name](self) if unary else REGISTRY[name](other, self) if reflected else \
                REGISTRY[name](self, other)
        finally:
            self._trace.python_operator = False

    return op


_VALUE_SHAPED = {"nonzero": "tnp.nonzero (and tnp.where with one argument)", "unique": "tnp.unique"}


def _check_static_shape(prim: Primitive, args: tuple | list, kwargs: dict) -> None:
    """A traced program has fixed shapes: refuse an operation whose result's shape depends on the values of
    a traced array (a replay on other values would read or write past its arrays)."""
    if prim.name in _VALUE_SHAPED and any(isinstance(a, Staged) for a in args):
        what = _VALUE_SHAPED[prim.name]
    else:
        idx = kwargs.get("idx")
        parts = idx if type(idx) is tuple or type(idx) is list else (idx,)
        if not any(isinstance(i, Staged) and i.dtype.kind == "b" for i in parts):
            return
        what = "indexing with a boolean mask (x[mask]) computed from, or passed as, an input"
    raise ConcretizationError(
        f"{what}: the shape of the result depends on the values of an array traced by tinyad.jit (how many "
        "entries are true or nonzero), and a traced program has fixed shapes. Keep every shape fixed: "
        "tnp.where(mask, x, 0.0) (and sums over it) instead of x[mask], integer indices of a fixed length, or "
        "do it outside the jitted function.")


def _concrete(x: Any, trace: StagingTrace) -> Any:
    """The example value behind staged values (inside tuples and lists too, as in an index)."""
    if isinstance(x, Staged):
        if x._trace is not trace:
            raise ConcretizationError("a value staged by one tinyad.jit call reached another one")
        return x.value
    if type(x) is tuple or type(x) is list:
        return type(x)(_concrete(e, trace) for e in x)
    if type(x) is slice and any(isinstance(e, Staged) for e in (x.start, x.stop, x.step)):
        raise ConcretizationError(
            "a slice bound is an array computed from a jitted function's inputs: the shape of the result would "
            "depend on a value, which a traced program cannot. Pass the bound as a static argument "
            "(tinyad.jit(f, static_argnums=...)), or slice outside the jitted function.")
    if isinstance(x, Box):
        raise ConcretizationError(f"a tinyad {type(x).__name__} reached the bottom of a jitted function's trace")
    return x


def _refs(x: Any) -> Any:
    if isinstance(x, Staged):
        return Ref(x.var)
    if type(x) is tuple or type(x) is list:
        return type(x)(_refs(e) for e in x)
    return x


def _concretization_error(what: str) -> ConcretizationError:
    return ConcretizationError(
        f"{what} needs the value of an array computed from the inputs of a function that tinyad.jit is tracing. "
        "A traced function runs once, on stand-ins, and is then replayed on new values, so Python control flow "
        "on such a value (if/while/bool, float(), int(), .item(), NumPy functions tinyad does not provide) "
        "would bake one outcome into every replay. Move that code out of the jitted function, make the input "
        "static (tinyad.jit(f, static_argnums=...)), or write it with array operations (tnp.where for a branch).")


class Staged(ArrayBox):
    """A stand-in for an array while a function is staged: its program variable and the example value."""

    __slots__ = ("var", "value")
    wraps = False  # the bottom of every box: peeling stops here

    def __init__(self, trace: StagingTrace, var: int, value: Any) -> None:
        self._trace = trace
        self.var = var
        self.value = value

    def _inner(self) -> Any:
        return self

    @property
    def shape(self) -> tuple:
        return np.shape(self.value)

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype if hasattr(self.value, "dtype") else np.result_type(self.value)

    __neg__, __abs__ = _python_operator("negative", unary=True), _python_operator("abs", unary=True)

    def __bool__(self) -> bool:
        raise _concretization_error("bool() (an if/while/and/or on an array)")

    def _concrete(self, *_: Any, **__: Any) -> Any:
        raise _concretization_error("converting it to a Python number or a NumPy array")

    __float__ = __int__ = __index__ = __complex__ = __array__ = item = tolist = _concrete

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __repr__(self) -> str:
        return f"Staged({self.dtype}{list(self.shape)}, v{self.var})"


set_operators(Staged, _python_operator)  # +, *, ... on a staged value: Python's arithmetic on Python numbers


def captured_error(box: Box, prim: Primitive) -> CapturedBoxError:
    return CapturedBoxError(
        f"a function being traced by tinyad.jit used a tinyad {type(box).__name__} of {box._trace!r} (in "
        f"tinyad.numpy.{prim.name}) that is not one of its arguments: a value being differentiated by an enclosing "
        "transformation, captured from outside (a closure, a global, an attribute, an optimizer built outside). "
        "Its derivative would be lost, and a replay would reuse its old value. Pass it to the jitted function as "
        "an argument instead.")


def stage(fn: Callable, example_inputs: list) -> tuple[Program, list]:
    """Run ``fn(*staged inputs)`` once, recording every primitive applied to the staged values.

    ``fn`` returns a flat list of outputs. Returns the program and the outputs of this call, with staged
    values replaced by their example values (the traced call's result is at hand without replaying)."""
    if STAGING.trace is not None:
        raise RuntimeError("stage() called while another function is being staged")
    trace = StagingTrace()
    inputs = [trace.new(x) for x in example_inputs]
    STAGING.trace, STAGING.floor, STAGING.captured = trace, _next_id(), captured_error
    try:
        outs = fn(*inputs)
    finally:
        STAGING.trace, STAGING.floor = None, 0
        trace.live = False
    refs, values = [], []
    for o in outs:
        if isinstance(o, Staged) and o._trace is trace:
            refs.append(Ref(o.var))
            values.append(o.value)
        elif isinstance(o, Box):
            raise CapturedBoxError(
                f"a function traced by tinyad.jit returned a tinyad {type(o).__name__} of {o._trace!r} that is not "
                "one of its arguments (captured from outside, or kept from an earlier call). Pass the value to the "
                "jitted function as an argument.")
        else:
            refs.append(o)
            values.append(o.copy() if type(o) is np.ndarray else o)  # the program keeps the original
    return Program(len(inputs), trace.eqns, refs, trace.avals), values


def _aval(x: Any) -> tuple:
    return (np.shape(x), x.dtype if hasattr(x, "dtype") else np.result_type(x))


def _next_id() -> int:
    """The id the next real trace will get (traces made while staging belong to the staged function)."""
    n = next(_ids)
    return n + 1
