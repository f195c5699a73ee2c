"""What every optimizer shares: hyperparameters, rebuilding with new ones, and leaf-by-leaf updates.

An optimizer is an object with two pure methods::

    state = opt.init(params)
    params, state = opt.update(grads, state, params)

``params`` is any container (dict, list, tuple, nesting) of arrays. Each hyperparameter is a float, a box
(a ``Dual`` when a hypergradient is being taken), or a container with the structure of ``params`` holding
one value (scalar or array) per parameter array: per-layer or per-weight hyperparameters. Optimizers are
plain objects of module-level classes, so they pickle (and can be sent to worker processes).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..core import jitting
from ..core.primitive import dtype_of, shape_of
from ..core.trace import Box
from ..core.tree import flatten, leaf_names, mismatch, tree_map
from ..core.vspace import cast_like, float_dtype
from .constraints import UNIT


class Optimizer:
    """Base class. Subclasses store their constructor's arguments with ``super().__init__(**hyperparams)``,
    name the numeric ones in ``numeric`` (checked here), and implement :meth:`init` and :meth:`apply` (the
    update equations); :meth:`update` runs them compiled with ``tinyad.jit``.

    ``hyperparams`` records the values an optimizer was built with and :meth:`with_hyperparams` rebuilds it
    with others: that is how a hyperoptimizer (:func:`tinyad.optim.stack`) differentiates one update with
    respect to them. ``tunable`` names the hyperparameters a stack tunes by default."""

    name = "optimizer"
    numeric: tuple[str, ...] = ()
    online = False  # whether it changes its own hyperparameters as it runs (HD optimizers, stacks)
    jit = True  # compile update(); set opt.jit = False (or TINYAD_JIT=0 for everything) to run it eagerly

    def __init__(self, **hyperparams: Any) -> None:
        for key in self.numeric:
            check_hyperparameter(self.name, key, hyperparams[key])
        for key in FLAGS:
            if key in hyperparams and not isinstance(hyperparams[key], (bool, np.bool_)):
                raise TypeError(f"{self.name}: {key} must be True or False, got {hyperparams[key]!r:.40}")
        self._hyperparams = hyperparams

    @property
    def hyperparams(self) -> tuple:
        """``((name, value), ...)`` in the constructor's order."""
        return tuple(self._hyperparams.items())

    @property
    def tunable(self) -> tuple[str, ...]:
        return ()

    def init(self, params: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def apply(self, grads: Any, state: Any, params: Any) -> tuple:  # pragma: no cover - abstract
        """The update equations, in tinyad ops (every hyperparameter may be a box)."""
        raise NotImplementedError

    def update(self, grads: Any, state: Any, params: Any) -> tuple:
        """``(new params, new state)``. Compiled by ``tinyad.jit`` per optimizer kind: the numeric
        hyperparameters go in as arguments (a new learning rate, or a Dual of a hypergradient, replays the
        same program), the others (flags, the base of a stack) are part of its signature."""
        try:
            if not (self.jit and jitting.enabled()):
                return self.apply(grads, state, params)
            dynamic = {k: v for k, v in self._hyperparams.items() if _traceable(v)}
            static = tuple((k, v) for k, v in self._hyperparams.items() if k not in dynamic)
            new_params, new_state = _compiled_update((type(self), static, self.parts()), dynamic, grads, state,
                                                     params)
        except KeyError as e:
            if isinstance(state, dict) and e.args and e.args[0] not in state:
                raise ValueError(f"{self.name}.update: the state has no {e.args[0]!r} (it has {sorted(state)}); "
                                 f"pass the state made by this optimizer's init (or by its last update)") from None
            raise
        self.check(new_state)
        return new_params, new_state

    def parts(self) -> tuple:
        """What besides its hyperparameters rebuilds this optimizer (a stack's base and hyperoptimizer)."""
        return ()

    @classmethod
    def assemble(cls, static: tuple, parts: tuple, dynamic: dict) -> "Optimizer":
        """The optimizer from :meth:`update`'s pieces (the inverse of taking it apart there)."""
        return cls(**dict(static), **dynamic)

    def check(self, state: Any) -> None:
        """Checks that need the values of a compiled update's result (online tuners: a finite learning rate)."""

    def with_hyperparams(self, **values: Any) -> "Optimizer":
        """The same optimizer with some hyperparameters replaced (e.g. by boxes)."""
        unknown = set(values) - set(self._hyperparams)
        if unknown:
            raise ValueError(f"{self.name} has no hyperparameters {sorted(unknown)}; it has {list(self._hyperparams)}")
        return self.rebuild(**{**self._hyperparams, **values})

    def rebuild(self, **hyperparams: Any) -> "Optimizer":
        return type(self)(**hyperparams)

    def levels(self, state: Any) -> list[dict]:
        """Hyperparameters in use, bottom level first; a plain optimizer has one level, its own constants
        (online tuners, which change theirs, report the values in use now)."""
        return [{k: as_floats(v) for k, v in self._hyperparams.items() if is_numeric(v)}]

    def __repr__(self) -> str:
        return f"<tinyad.optim.{self.name} {self._hyperparams}>"


def _traceable(v: Any) -> bool:
    """Numbers, arrays and boxes (and containers of them) go into a compiled update as arguments."""
    leaves = flatten(v)[0]
    return bool(leaves) and all(isinstance(x, (Box, np.ndarray)) or _is_number(x) for x in leaves)


def _apply_update(key: tuple, dynamic: dict, grads: Any, state: Any, params: Any) -> tuple:
    cls, static, parts = key
    return cls.assemble(static, parts, dynamic).apply(grads, state, params)


_compiled_update = jitting.jit(_apply_update, static_argnums=0, cache_size=256, fallback=True)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool)


def is_numeric(v: Any) -> bool:
    """A plain number, or a container of plain numbers and real arrays (per-parameter values): not a flag, not a
    box."""
    leaves = flatten(v)[0]
    return bool(leaves) and all(_is_number(x) or (isinstance(x, np.ndarray) and x.dtype.kind in "fiu") for x in leaves)


def as_floats(v: Any) -> Any:
    """A numeric hyperparameter as floats (and float arrays), in its own structure."""
    return tree_map(lambda x: float(x) if np.ndim(x) == 0 else np.array(x, dtype=float), v)


FLAGS = ("nesterov", "nonneg", "multiplicative")  # switches: True or False, never a truthy string


def check_hyperparameter(owner: str, key: str, value: Any) -> None:
    """A hyperparameter is a real number, a box, or a container of them (one per parameter array); decay
    rates (``constraints.UNIT``: momentum, betas, decay) lie in [0, 1] and ``eps`` is not negative — outside
    them the updates give NaN or diverge. (Learning rates and weight decay may take either sign: an online
    optimizer can drive them below 0.)"""
    leaves = flatten(value)[0]
    what = "a real number (or a box, or a container with one per parameter array)"
    if not leaves:
        raise TypeError(f"{owner}: hyperparameter {key!r} must be {what}, got {value!r:.60}")
    for leaf in leaves:
        if isinstance(leaf, Box):
            continue
        ok = _is_number(leaf) or (isinstance(leaf, np.ndarray) and leaf.dtype.kind in "fiu")
        if not ok:
            raise TypeError(f"{owner}: hyperparameter {key!r} must be {what}, got {type(leaf).__name__} {leaf!r:.60}")
        if not np.all(np.isfinite(leaf)):
            raise ValueError(f"{owner}: hyperparameter {key!r} is {leaf!r:.60}, which is not finite")
        if key in UNIT and not np.all((np.asarray(leaf) >= 0) & (np.asarray(leaf) <= 1)):
            raise ValueError(f"{owner}: hyperparameter {key!r} = {leaf!r:.60} must lie in [0, 1]")
        if key == "eps" and np.any(np.asarray(leaf) < 0):
            raise ValueError(f"{owner}: hyperparameter 'eps' = {leaf!r:.60} must be >= 0")


def is_zero(h: Any) -> bool:
    return _is_number(h) and h == 0


def zeros_like_params(params: Any) -> Any:
    return tree_map(lambda p: np.zeros(shape_of(p), dtype=float_dtype(p)), params)


def per_param(h: Any, td: Any, n: int, key: str = "hyperparameter") -> list:
    """A hyperparameter as one value per parameter array: shared if scalar/box, else given per array."""
    h_leaves, h_def = flatten(h)
    if h_def.is_leaf:
        return [h] * n
    if h_def == td:
        return h_leaves
    raise ValueError(f"{key} must be a scalar (or box), or a container with the structure of the parameters "
                     f"({td}); got {h_def}")


def check_like_params(what: str, tree: Any, params: Any) -> list:
    """The leaves of ``tree`` (gradients, a state) after checking it matches ``params`` exactly: the same
    structure, and each leaf the shape of its parameter (NumPy would broadcast a wrong shape silently)."""
    leaves, td = flatten(tree)
    p_leaves, p_td = flatten(params)
    if td != p_td:
        raise ValueError(f"the {what} are not shaped like the parameters: {mismatch(p_td, td)} (parameters {p_td}, "
                         f"{what} {td})")
    for name, x, p in zip(leaf_names(p_td, root="params"), leaves, p_leaves):
        if shape_of(x) != shape_of(p):
            raise ValueError(f"the {what} for parameter {name!r} have shape {shape_of(x)}, but the parameter has "
                             f"shape {shape_of(p)}; they must match exactly")
        if dtype_of(x).kind == "c" and dtype_of(p).kind != "c":
            raise TypeError(f"the {what} for parameter {name!r} are complex ({dtype_of(x)}) but the parameter is "
                            f"real ({dtype_of(p)}); take the real part (tnp.real) or make the parameter complex")
    return leaves


def like_param(x: Any, p: Any) -> Any:
    """``x`` (a new parameter value, or a state shaped like the parameter) in the parameter's dtype, as optax
    keeps it: float32 parameters stay float32 whatever the dtype of the gradients or hyperparameters."""
    return cast_like(x, p)


def leafwise(fn: Callable, n_out: int, params: Any, trees: dict, hparams: tuple) -> tuple:
    """Apply ``fn(*tree_leaves, *hyperparameter_values)`` per parameter array; return ``n_out`` params-shaped
    trees. ``trees`` maps a name ("gradients", "state 'b'") to a container shaped like ``params``;
    ``hparams`` are (name, value) pairs, each value shared or given per parameter array."""
    leaves, td = flatten(params)
    columns = [check_like_params(what, t, params) for what, t in trees.items()]
    columns += [per_param(h, td, len(leaves), key) for key, h in hparams]
    outs = [fn(*xs) for xs in zip(*columns)]
    return tuple(td.unflatten([like_param(o[i], p) for o, p in zip(outs, leaves)]) for i in range(n_out))
