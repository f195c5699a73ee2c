"""``tinyad.jit``: trace a function once per input signature, then replay the recorded program.

The signature of a call is its argument structure, the shape and dtype of each array, the value of each
static argument, and the nesting of the boxes that come in: which leaves are Duals (with how many tangent
directions) or Vars, of which enclosing traces in which order. The first call with a signature stages the
function (``staging``) into a flat program of plain-array primitives and compiles it (``program``); later
calls replay it: no boxes, no dispatch, no rule lookups.

Boxes of enclosing traces are handled one trace at a time, from the newest, the way the dispatch peels a
primitive's arguments:

* a forward trace (``jvp``, ``jacfwd``, ``hyper.hypergrad``): the jitted function's JVP is itself staged —
  primals and tangents go in as plain arrays, and the outputs are rebuilt as Duals of that trace;
* a reverse trace (``grad``, ``vjp``): the whole call becomes one node on that trace's tape, whose outputs
  are Vars of it; its VJP, needed only if the backward pass reaches it, is a staged program too.

So ``jit`` composes with every transform in both orders, and higher derivatives of a jitted function are
jitted functions as well.
"""

from __future__ import annotations

import inspect
import os
import sys
import threading
import warnings
from collections import OrderedDict
from typing import Any, Callable, Sequence

import numpy as np

from .checks import name_of
from .forward import Dual, ForwardTrace
from .fusion import fuse
from .primitive import STAGING, Primitive, dtype_of, shape_of
from .program import simplify, split_at, to_python
from .reverse import ReverseTrace, Var, backward
from .staging import CapturedBoxError, ConcretizationError, Program, Staged, stage
from .trace import Box, leaked_error, opened
from .tree import flatten, static_key

__all__ = ["jit", "Jitted", "ConcretizationError", "enabled"]

_ENABLED = os.environ.get("TINYAD_JIT", "1").strip().lower() not in ("0", "false", "no", "off")
CACHE_SIZE = 64


def enabled(value: bool | None = None) -> bool:
    """Whether ``tinyad.jit`` compiles (True, the default) or calls functions eagerly; pass a bool to set it.
    The environment variable ``TINYAD_JIT=0`` turns it off for a whole process."""
    global _ENABLED
    if value is not None:
        _ENABLED = bool(value)
    return _ENABLED


_DYNAMIC = (float, int, complex, bool, np.ndarray, np.generic)


def _is_dynamic(x: Any) -> bool:
    return isinstance(x, _DYNAMIC) or isinstance(x, Box)


class Jitted:
    """A function compiled by :func:`jit`: call it like the function. ``.cache_size`` is how many compiled
    signatures it keeps, ``.traces`` how many times it has traced the function, ``.source()`` the Python
    source of the latest compiled program, for the curious."""

    def __init__(self, fn: Callable, static_argnums: Sequence[int] = (), static_argnames: Sequence[str] = (),
                 cache_size: int = CACHE_SIZE, fallback: bool = False) -> None:
        self.fn = fn
        # library use: a signature that cannot be traced runs eagerly (with one warning per function); other
        # signatures still compile, so one untraceable call does not slow every later caller of a shared jit
        self.fallback = fallback
        self.eager_signatures: set = set()
        self.static_argnames = _static_names(fn, tuple(static_argnums), tuple(static_argnames))
        self._signature = inspect.signature(fn) if self.static_argnames else None
        params = list(self._signature.parameters.values()) if self._signature else []
        # the parameters' names when all are plain positional ones: a call giving each by position is split
        # into static and dynamic arguments without binding (the library's calls, every training step)
        self._positional = tuple(p.name for p in params) if all(
            p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params) else None
        self.cache_size = cache_size
        self._cache: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._warned_retracing = False
        self.traces = 0  # how many times the function was staged
        self.__name__ = f"jit({name_of(fn)})"
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn
        self.__module__ = getattr(fn, "__module__", None)
        self.__qualname__ = getattr(fn, "__qualname__", None)

    def __reduce__(self) -> Any:
        """Pickled as the function it compiles (its programs are rebuilt where it is unpickled, e.g. in a
        worker process): by name when it is a module's global (``@tinyad.jit def step``), else as
        ``jit(fn, ...)``."""
        module = sys.modules.get(self.__module__ or "")
        if self.__qualname__ and module is not None and _lookup(module, self.__qualname__) is self:
            return self.__qualname__
        return _rebuild, (self.fn, self.static_argnames, self.cache_size, self.fallback)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not _ENABLED or STAGING.trace is not None:  # called while another jitted function is traced: inline
            return self.fn(*args, **kwargs)
        return self._call(args, kwargs)

    def _call(self, args: tuple, kwargs: dict) -> Any:
        call_args, call_kwargs = args, kwargs
        if self._signature is not None:  # static arguments, by position or keyword, defaults filled in
            if not kwargs and self._positional is not None and len(args) == len(self._positional):
                arguments = dict(zip(self._positional, args))
            else:
                try:
                    bound = self._signature.bind(*args, **kwargs)
                except TypeError as e:
                    raise TypeError(f"{self.__name__}: {e}") from None
                bound.apply_defaults()
                arguments = bound.arguments
            statics = tuple((k, arguments[k]) for k in self.static_argnames)
            dynamic = {k: v for k, v in arguments.items() if k not in self.static_argnames}
            args, kwargs = (dynamic,), {}
        else:
            statics = ()
        leaves, treedef = flatten((args, kwargs) if kwargs else args)
        dynamic, values, static_leaves = [], [], list(leaves)
        for i, x in enumerate(leaves):
            if type(x) is np.ndarray or _is_dynamic(x):
                dynamic.append(i)
                values.append(x)
                static_leaves[i] = None
                if isinstance(x, Box) and isinstance(_bottom(x), Staged):  # inside a function being staged: inline
                    return self.fn(*call_args, **call_kwargs)
        static_leaves = tuple(static_leaves)
        try:
            key = (treedef, static_key(static_leaves), static_key(statics))
            hash(key)
        except TypeError:
            bad = [x for x in static_leaves + tuple(v for _, v in statics) if not _hashable(x)]
            raise TypeError(f"{self.__name__}: a non-array argument must be hashable, since its value is part of "
                            f"the compiled program's signature; got {type(bad[0]).__name__} {bad[0]!r:.60}. Pass "
                            "arrays (or floats) for values that change, and hashable objects for static ones."
                            ) from None

        has_kwargs = bool(kwargs)

        def flat_fn(*dyn_values: Any) -> list:
            full = list(static_leaves)
            for i, v in zip(dynamic, dyn_values):
                full[i] = v
            a, kw = treedef.unflatten(full) if has_kwargs else (treedef.unflatten(full), {})
            if statics:
                arguments = {**a[0], **dict(statics)}
                bound = inspect.BoundArguments(self._signature, OrderedDict(
                    (k, arguments[k]) for k in self._signature.parameters if k in arguments))
                a, kw = bound.args, bound.kwargs
            out = self.fn(*a, **kw)
            out_leaves, out_def = flatten(out)
            return [out_def, *out_leaves]

        if not self.fallback:
            out = _call(self, flat_fn, values, key)
        elif key in self.eager_signatures:
            return self.fn(*call_args, **call_kwargs)
        else:
            try:
                out = _call(self, flat_fn, values, key)
            except (ConcretizationError, CapturedBoxError) as e:
                if not self.eager_signatures:
                    warnings.warn(f"{self.__name__} cannot be compiled ({type(e).__name__}: {str(e)[:200]}...); "
                                  "calls with this signature run eagerly from now on.", RuntimeWarning, stacklevel=3)
                self.eager_signatures.add(key)
                return self.fn(*call_args, **call_kwargs)
        return out[0].unflatten(out[1:])

    def source(self) -> str:
        """The Python source of the most recently compiled program (after peeling boxes), for the curious."""
        return next(reversed(self._cache.values())).source if self._cache else ""

    def _compiled(self, key: Any) -> Any:
        with self._lock:  # threads share the cache
            entry = self._cache.get(key)
            if entry is not None:
                self._cache.move_to_end(key)
        return entry

    def _store(self, key: Any, entry: Any) -> None:
        with self._lock:
            self._cache[key] = entry
            self.traces += 1
            full = len(self._cache) > self.cache_size
            if full:
                self._cache.popitem(last=False)
        if full and self.traces > 4 * self.cache_size and not self._warned_retracing:
            self._warned_retracing = True
            warnings.warn(f"{self.__name__} keeps being traced for new signatures ({self.traces} so far, "
                          f"{self.cache_size} kept): an argument that changes every call is probably static "
                          "(a Python object, or a number in static_argnums) where it should be an array.",
                          RuntimeWarning, stacklevel=4)


def _lookup(module: Any, qualname: str) -> Any:
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


def _rebuild(fn: Callable, names: tuple, cache_size: int, fallback: bool) -> "Jitted":
    return Jitted(fn, (), names, cache_size, fallback)


def jit(fn: Callable | None = None, *, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = (), cache_size: int = CACHE_SIZE, fallback: bool = False) -> Any:
    """Compile ``fn`` for each input signature, like ``jax.jit``; usable as a decorator.

    Arrays, NumPy scalars and Python numbers are *dynamic* (a new value replays the same program); any other
    argument (strings, None, objects) is *static*: its value is part of the signature. ``static_argnums`` /
    ``static_argnames`` make numbers static too (for Python control flow on them). Up to ``cache_size``
    signatures are kept (least recently used first out). With ``fallback=True`` a function that cannot be
    traced (Python control flow on a traced value) runs eagerly instead, with a warning: how tinyad's own
    libraries compile what they can. See docs/jit.md for what a traced function may do.
    """
    if fn is None:
        return lambda f: jit(f, static_argnums=static_argnums, static_argnames=static_argnames, cache_size=cache_size,
                             fallback=fallback)
    if isinstance(fn, Jitted):
        return fn
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    return Jitted(fn, nums, names, cache_size, fallback)


def _static_names(fn: Callable, nums: tuple, names: tuple) -> tuple:
    """Static arguments (numbers and names) as parameter names: an argument is static however it is passed, by
    position or by keyword, and a static parameter left out takes its default. Negative numbers count from
    the last positional parameter, as in JAX."""
    if not nums and not names:
        return ()
    who = f"jit({name_of(fn)})"
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        raise TypeError(f"{who}: static arguments need a function whose signature Python can read") from None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    by_name = {p.name: p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    out = list(names)
    for i in nums:
        if not isinstance(i, int) or isinstance(i, bool):
            raise TypeError(f"{who}: static_argnums must be ints, got {i!r}")
        if not -len(positional) <= i < len(positional):
            raise ValueError(f"{who}: static_argnums={i} but {name_of(fn)} takes {len(positional)} positional "
                             f"argument(s): {[p.name for p in positional]}")
        out.append(positional[i].name)
    for n in names:
        if n not in by_name:
            raise ValueError(f"{who}: static_argnames names {n!r}, which is not a parameter of {name_of(fn)} "
                             f"that can be passed by name: {list(by_name)}")
    return tuple(dict.fromkeys(out))


# ---- signatures -----------------------------------------------------------------------------------------
def _bottom(x: Any) -> Any:
    while isinstance(x, Box) and x.wraps:
        x = x._inner()
    return x


def _has_trace(x: Any, t: Any) -> bool:
    while isinstance(x, Box) and x.wraps:
        if x._trace is t:
            return True
        x = x._inner()
    return False


def _hashable(x: Any) -> bool:
    try:
        hash(x)
        return True
    except TypeError:
        return False


def _signature(x: Any, traces: list) -> tuple:
    """What of a dynamic leaf the compiled program depends on (traces as objects, replaced by positions)."""
    t = type(x)
    if t is np.ndarray:
        return ("a", x.shape, x.dtype.str)
    if t is Dual:
        if x._trace not in traces:
            traces.append(x._trace)
        return ("D", x._trace, x._trace.k, _signature(x._primal, traces), _signature(x._tangent, traces))
    if t is Var:
        if x._trace not in traces:
            traces.append(x._trace)
        return ("V", x._trace, _signature(x._value, traces))
    if isinstance(x, np.generic):
        return ("g", x.dtype.str)
    if t in (float, int, complex, bool):
        return ("p", t)  # a Python number stays one (NumPy's promotion treats it as weak)
    raise TypeError(f"tinyad.jit cannot take a {t.__name__} as a dynamic argument")


def _positions(sig: tuple, position: dict) -> tuple:
    """``sig`` with each trace replaced by its rank among the call's traces (oldest first)."""
    kind = sig[0]
    if kind == "D":
        return ("D", position[sig[1]], sig[2], _positions(sig[3], position), _positions(sig[4], position))
    if kind == "V":
        return ("V", position[sig[1]], _positions(sig[2], position))
    return sig


# ---- peeling the enclosing traces, newest first ---------------------------------------------------------
def _call(jitted: Jitted, fn: Callable, values: list, key: Any) -> list:
    """``fn(*values)`` -> [head, *out leaves], compiled for the signature of ``values`` under ``key``."""
    traces: list = []
    sigs = tuple(_signature(x, traces) for x in values)
    traces.sort(key=lambda t: t.id)
    for t in traces:
        if not t.live:
            raise leaked_error(next(x for x in values if _has_trace(x, t)), jitted.__name__)
    position = {t: i for i, t in enumerate(traces)}
    return _run(jitted, fn, values, traces, (key, tuple(_positions(s, position) for s in sigs)))


def _run(jitted: Jitted, fn: Callable, values: list, traces: list, key: Any) -> list:
    """``fn(*values)`` -> [out treedef, *out leaves], with the boxes of ``traces`` (oldest first) peeled."""
    if not traces:
        return _plain(jitted, fn, values, key)
    top = traces[-1]
    if isinstance(top, ForwardTrace):
        return _through_forward(jitted, fn, values, traces, key)
    if isinstance(top, ReverseTrace):
        return _through_reverse(jitted, fn, values, traces, key)
    raise TypeError(f"tinyad.jit cannot take boxes of {top!r}")


def _through_forward(jitted: Jitted, fn: Callable, values: list, traces: list, key: Any) -> list:
    """Stage the JVP: primals and tangents of the top trace go in as values of the traces below it."""
    top = traces[-1]
    mine = [i for i, x in enumerate(values) if type(x) is Dual and x._trace is top]
    primals = [x._primal if i in mine else x for i, x in enumerate(values)]
    tangents = [values[i]._tangent for i in mine]
    n, k = len(values), top.k

    def jvp_fn(*xs: Any) -> list:
        trace = ForwardTrace(k)
        inputs = list(xs[:n])
        for i, t in zip(mine, xs[n:]):
            inputs[i] = Dual(inputs[i], t, trace)
        with opened(trace):
            out = fn(*inputs)
        treedef, leaves = out[0], out[1:]
        prim_out = [x._primal if type(x) is Dual and x._trace is trace else x for x in leaves]
        has_tangent = [type(x) is Dual and x._trace is trace for x in leaves]
        tan_out = [x._tangent for x, h in zip(leaves, has_tangent) if h]
        return [(treedef, has_tangent), *prim_out, *tan_out]

    out = _run(jitted, jvp_fn, primals + tangents, traces[:-1], (key, "jvp", len(traces)))
    (treedef, has_tangent), rest = out[0], out[1:]
    prim_out, tan_out = rest[:len(has_tangent)], iter(rest[len(has_tangent):])
    leaves = [Dual(p, next(tan_out), top) if h else p for p, h in zip(prim_out, has_tangent)]
    return [treedef, *leaves]


def _differentiable(x: Any) -> bool:
    x = _bottom(x)
    dt = getattr(x, "dtype", None)
    return dt.kind in "fc" if dt is not None else isinstance(x, (float, complex))


def _through_reverse(jitted: Jitted, fn: Callable, values: list, traces: list, key: Any) -> list:
    """The call becomes one node on the top trace's tape. With no boxes below, its forward program keeps the
    residuals its staged backward program needs (as JAX's linearization does); otherwise the VJP, staged when
    a backward pass reaches it, recomputes the forward work (under the traces below)."""
    top = traces[-1]
    mine = [i for i, x in enumerate(values) if type(x) is Var and x._trace is top]
    inner = [x._value if i in mine else x for i, x in enumerate(values)]
    if len(traces) == 1:
        out, call = _split_call(jitted, fn, inner, mine, (key, "split"))
    else:
        out = _run(jitted, fn, inner, traces[:-1], (key, "fwd", len(traces)))
        call = _CallVJP(jitted, fn, mine, (key, "vjp", len(traces)))
    treedef, leaves = out[0], out[1:]
    diff = [j for j, x in enumerate(leaves) if _differentiable(x)]
    if not diff:
        return out
    call.diff = diff
    node = Var(tuple(leaves[j] for j in diff), top, call, tuple(inner), {}, tuple((i, values[i]) for i in mine))
    top.tape.append(node)
    for slot, j in enumerate(diff):
        leaves[j] = Var(leaves[j], top, _SELECT[slot] if slot < len(_SELECT) else _select(slot), (node._value,),
                        {}, ((0, node),))
        top.tape.append(leaves[j])
    return [treedef, *leaves]


def _select(slot: int) -> Primitive:
    """Output ``slot`` of a jitted call on a tape: its VJP places the cotangent in that slot of a tuple."""
    prim = Primitive(lambda outs: outs[slot], f"jit_output_{slot}")
    prim.defvjp(lambda g, ans, outs: tuple(g if j == slot else None for j in range(len(outs))))
    return prim


_SELECT = [_select(i) for i in range(16)]


def _zeros_like(x: Any) -> np.ndarray:
    return np.zeros(shape_of(x), dtype=dtype_of(x))


def _forward_and_vjp(fn: Callable, mine: list, diff: list, n: int) -> Callable:
    """``(*inputs, *output cotangents) -> [None, *fn's outputs, *cotangents of the inputs in mine]``: fn with
    its inputs ``mine`` on a fresh tape, then the backward pass from its outputs ``diff``."""

    def forward_and_vjp(*xs: Any) -> list:
        trace = ReverseTrace()
        inputs = list(xs[:n])
        boxed = [Var(inputs[i], trace) for i in mine]
        for i, b in zip(mine, boxed):
            inputs[i] = b
        with opened(trace):
            out = fn(*inputs)
        tape = trace.take_tape()
        leaves = out[1:]
        seeds = [(leaves[j], c) for j, c in zip(diff, xs[n:]) if type(leaves[j]) is Var and leaves[j]._trace is trace]
        got = backward(tape, seeds, boxed) if seeds else [None] * len(boxed)
        values = [x._value if type(x) is Var and x._trace is trace else x for x in leaves]
        return [None, *values, *[_zeros_like(b._value) if c is None else c for b, c in zip(boxed, got)]]

    return forward_and_vjp


class _CallVJP(Primitive):
    """The tape node of a jitted call: one VJP for all its inputs (``joint_vjp``), a staged program that
    recomputes the call's forward work (under whatever traces its inputs still carry)."""

    def __init__(self, jitted: Jitted, fn: Callable, mine: list, key: Any) -> None:
        super().__init__(fn, f"call of {jitted.__name__}")
        self.jitted, self.fn, self.mine, self.key = jitted, fn, mine, key
        self.diff: list = []

    def joint_vjp(self, g: tuple, outs: tuple, inner: tuple) -> list:
        """Cotangents of the call's inputs (those on the tape) from the cotangents of its outputs."""
        cts = [_zeros_like(o) if c is None else c for c, o in zip(g, outs)]
        full = _call(self.jitted, _forward_and_vjp(self.fn, self.mine, self.diff, len(inner)), list(inner) + cts,
                     self.key)
        return full[-len(self.mine):]


class _Split:
    """A jitted call's forward program, which also returns the residuals, and its backward program."""

    def __init__(self, forward: Any, backward: Any, n_out: int, n_res: int) -> None:
        self.forward, self.backward, self.n_out, self.n_res = forward, backward, n_out, n_res


class _SplitVJP(Primitive):
    """The tape node of a jitted call that kept its residuals: the VJP is the backward program on them —
    for plain cotangents. Cotangents that are boxes (the VJP itself differentiated: a grad of a vjp, a
    linearize) take ``general``, which stages the backward pass under their traces."""

    def __init__(self, split: _Split, residuals: list, general: _CallVJP) -> None:
        super().__init__(lambda *a: None, "call of a jitted function")
        self.split, self.residuals, self.general = split, residuals, general
        self.diff: list = []

    def joint_vjp(self, g: tuple, outs: tuple, inner: tuple) -> list:
        cts = [_zeros_like(o) if c is None else c for c, o in zip(g, outs)]
        if any(isinstance(c, Box) for c in cts):
            self.general.diff = self.diff
            return self.general.joint_vjp(g, outs, inner)
        return self.split.backward(self.residuals + cts)


def _split_call(jitted: Jitted, fn: Callable, inner: list, mine: list, key: Any) -> tuple[list, Primitive]:
    """Run the forward program of a call on plain values, keeping the residuals of its backward program."""
    split = jitted._compiled(key)
    if split is None:
        out = _plain(jitted, fn, inner, (key, "outputs"))  # to learn the outputs' shapes, once
        head, leaves = out[0], out[1:]
        diff = [j for j, x in enumerate(leaves) if _differentiable(x)]
        program, _ = stage(_forward_and_vjp(fn, mine, diff, len(inner)), inner + [_zeros_like(leaves[j]) for j in diff])
        forward, back, n_res = split_at(_drop_head(program), len(inner), len(leaves))
        name = f"jit_{_ident(name_of(jitted.fn))}"
        split = _Split(_Compiled(forward, head, name + "_forward"), _Compiled(back, None, name + "_backward"),
                       len(leaves), n_res)
        jitted._store(key, split)
    results = split.forward(inner)
    outs, residuals = results[:split.n_out], results[split.n_out:]
    return [split.forward.head, *outs], _SplitVJP(split, residuals, _CallVJP(jitted, fn, mine, (key, "vjp", 1)))


# ---- the bottom: plain values, a staged program -------------------------------------------------------------
class _Compiled:
    """A staged program and its compiled forms: plain NumPy calls at first, fused kernels once it has been
    replayed ``FUSE_AFTER`` times (so a program run once or twice never waits for numba)."""

    def __init__(self, program: Program, head: Any, name: str) -> None:
        self.program, self.head, self.name = simplify(program), head, name
        self.run = to_python(self.program, name)
        self.calls = 0

    def __call__(self, values: list) -> list:
        self.calls += 1
        if self.calls == FUSE_AFTER and _FUSE:
            self.run = to_python(fuse(self.program), self.name)
        return self.run(*values)

    @property
    def source(self) -> str:
        return self.run.source


FUSE_AFTER = 3
_FUSE = os.environ.get("TINYAD_FUSE", "1").strip().lower() not in ("0", "false", "no", "off")


def _plain(jitted: Jitted, fn: Callable, values: list, key: Any) -> list:
    entry = jitted._compiled(key)
    if entry is not None:
        return [entry.head, *entry(values)]
    program, outs = stage(fn, values)
    jitted._store(key, _Compiled(_drop_head(program), outs[0], f"jit_{_ident(name_of(jitted.fn))}"))
    return outs


def _drop_head(program: Program) -> Program:
    """The program without its first output: the structure of the function's output (a constant)."""
    program.outputs = program.outputs[1:]
    return program


def _ident(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)
