"""Exactly reversible learning: reverse-mode hypergradients in O(parameters) memory.

Maclaurin, Duvenaud and Adams, "Gradient-based Hyperparameter Optimization through Reversible Learning"
(ICML 2015). SGD with momentum in their form,

    v_t = gamma_t v_{t-1} - (1 - gamma_t) grad L(w_{t-1}, meta, t);    w_t = w_{t-1} + alpha_t v_t,

runs in int64 fixed point (``radix_bits`` fractional bits; 52 by default: resolution 2.2e-16, values
below 2**(62 - radix_bits) = 1024 in magnitude). Every step is a bijection on the exact state: adding the
rounded increments is undone by subtracting the same rounded increments, and multiplying v by the
rational gamma = n/d keeps the bits it destroys in an integer information buffer
(``tinyad.kernels.exact``). So after T steps forward, the T steps can be run backwards, recovering every
w_t and v_t bit for bit, while the hypergradients accumulate (Algorithm 2 of the paper): memory holds
the final state and the buffer, never the trajectory.

The buffer is one int64 word per parameter while training. All words of a group of parameter arrays grow
by the same factor d/n per step, so they fill together: when one of them could overflow, the whole group's
words are stored away (a *spill*) and restart from zero, and running backwards restores them at the same
step. A stored array needs no indices, only (step, group, bit width): it is bit-packed at the width of its
largest word, and so is the live buffer at the end. The buffer then occupies close to the information it
holds, log2(1/gamma) bits per parameter and step (see :meth:`ReversibleSGD.memory_stats`).

Per step backwards the engine computes one VJP of the training gradient (a Hessian-vector product and,
for meta-parameters such as per-weight L2 strengths or the training inputs, the mixed second derivative:
reverse-over-reverse in one call).

Every argument is validated before training starts, and every value is checked where it arises (before
the float -> int64 conversion, which wraps silently): a run either gives the exact answer or raises an
error that names the step, the array and what to do.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from .core.transforms import grad, value_and_grad, vjp
from .core.tree import flatten, leaf_names
from .kernels.exact import mul_rational, pack_bits, unmul_rational, unpack_bits

RADIX_BITS = 52
LIMIT = 2 ** 62  # |fixed-point values| stay below this (a margin below int64's 2**63)
INT64_MAX = 2 ** 63 - 1
MAX_RADIX_BITS = 60  # leaves |x| < 4 of range


class ExactArithmeticError(ArithmeticError):
    """A value left the fixed-point range, training produced NaN/inf, or a hyperparameter cannot be
    represented exactly."""


class RecoveryError(RuntimeError):
    """Running training backwards did not return to its start: the training loss is not deterministic."""


def as_rational(gamma: Any, what: str = "momentum", max_denominator: int = 2 ** 16) -> tuple[int, int]:
    """``gamma`` as (n, d) with 0 < n <= d <= max_denominator; floats must be such a fraction to 1e-12."""
    if isinstance(gamma, Fraction):
        f = gamma
    else:
        if isinstance(gamma, bool) or not isinstance(gamma, (numbers.Real, np.ndarray)) or np.ndim(gamma) != 0:
            raise TypeError(f"{what} = {gamma!r} is not a number: a momentum is a fraction in (0, 1] such as 0.9 "
                            "or Fraction(7, 8)")
        g = float(gamma)
        if not math.isfinite(g):
            raise ValueError(f"{what} = {g} is not finite: a momentum is a fraction in (0, 1] such as 0.9")
        f = Fraction(g).limit_denominator(max_denominator)
        if abs(float(f) - g) > 1e-12 * max(1.0, abs(g)):
            raise ExactArithmeticError(
                f"{what} = {gamma!r} is not a fraction n/d with d <= {max_denominator}, which exact reversal "
                f"needs (the closest is {f}); pass e.g. Fraction({f.numerator}, {f.denominator}) or a value "
                "such as 0.9 = 9/10")
    if not 0 < f <= 1 or f.denominator > max_denominator:
        raise ExactArithmeticError(f"{what} = {f} must be a fraction in (0, 1] with denominator <= {max_denominator}")
    return f.numerator, f.denominator


# ---- checking the arguments -------------------------------------------------------------------------------
def _real_array(x: Any, what: str) -> np.ndarray:
    """``x`` as a float64 array; refuses anything that is not real numbers (a complex value would lose its
    imaginary part silently)."""
    if x is None:
        raise TypeError(f"{what} is None; pass one value per step (and per group)")
    try:
        a = np.asarray(x)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"{what} must be a (T,) or (T, groups) array of numbers: {e}") from None
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{what} must hold real numbers, got dtype {a.dtype}")
    return a.astype(np.float64)


def _require_float_leaves(tree: Any, what: str) -> None:
    """Every array of ``tree`` (the argument ``what``) has a real floating-point dtype and finite values."""
    leaves, _ = flatten(tree)
    container = isinstance(tree, (dict, list, tuple))
    for name, x in zip(_leaf_names(tree), leaves):
        label = f"{what} {name!r}" if container else what
        a = np.asarray(x)
        if a.dtype.kind != "f":
            raise TypeError(f"{label} has dtype {a.dtype}, but reversible training differentiates real "
                            "floating-point arrays: pass e.g. np.asarray(x, dtype=float)")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{label} contains {a[~np.isfinite(a)].flat[0]}; it must be finite")


def _leaf_names(tree: Any) -> list[str]:
    """Readable names of the arrays of a container, in flattening order ('w', 'layer.W', '[0]')."""
    return leaf_names(flatten(tree)[1], root="params")


def _in_key_order_of(tree: Any, like: Any) -> Any:
    """``tree`` with every dict rebuilt in the key order of the matching dict of ``like`` (when both have the
    same keys), so that flattening lines their leaves up by key. Once flattening sorts dict keys this is a
    no-op; anything else is left for the structure comparison to refuse."""
    if isinstance(tree, dict) and isinstance(like, dict) and set(tree) == set(like):
        return {k: _in_key_order_of(tree[k], like[k]) for k in like}
    if type(tree) is type(like) and isinstance(tree, (list, tuple)) and len(tree) == len(like):
        items = [_in_key_order_of(a, b) for a, b in zip(tree, like)]
        return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)
    return tree


def _describe(tree: Any) -> str:
    return f"a {type(tree).__name__} of arrays {_leaf_names(tree)}"


def _learning_rates(alphas: Any) -> np.ndarray:
    """``alphas`` as a (T, G) float array with T, G >= 1 and finite entries."""
    a = _real_array(alphas, "alphas")
    a = a[:, None] if a.ndim == 1 else a
    if a.ndim != 2:
        raise ValueError(f"alphas must have shape (T,) or (T, groups), got {np.shape(alphas)}; for a constant "
                         "learning rate use np.full(T, alpha)")
    T, G = a.shape
    if T == 0 or G == 0:
        raise ValueError(f"alphas has shape {np.shape(alphas)}: it needs at least one step (T >= 1) and group")
    bad = ~np.isfinite(a)
    if bad.any():
        t, g = np.argwhere(bad)[0]
        raise ValueError(f"alphas[{t}, {g}] = {a[t, g]} is not finite (step {t}, group {g}; steps count from 0 "
                         f"to T - 1 = {T - 1}): learning rates must be finite numbers")
    return a


def _momenta(gammas: Any, T: int, G: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, d), two (T, G) int64 arrays with gammas = n / d exactly (a scalar or (T,) gammas is broadcast)."""
    if gammas is None:
        raise TypeError("gammas is None: pass the momentum, a scalar such as 0.9 or one per step (and group)")
    gam = np.asarray(gammas, dtype=object)
    if gam.ndim == 0:
        gam = np.full((T, G), gammas, dtype=object)
    elif gam.ndim == 1:
        gam = np.repeat(gam[:, None], G, axis=1)
    if gam.shape != (T, G):
        raise ValueError(f"gammas must be a scalar or have shape (T,) or (T, groups) like alphas {(T, G)}, "
                         f"got {np.shape(gammas)}")
    nd = [[as_rational(gam[t, g], f"gammas[{t}, {g}]") for g in range(G)] for t in range(T)]
    return (np.array([[n for n, _ in row] for row in nd], dtype=np.int64),
            np.array([[d for _, d in row] for row in nd], dtype=np.int64))


def _check_radix_bits(radix_bits: Any) -> int:
    if isinstance(radix_bits, bool) or not isinstance(radix_bits, (int, np.integer)):
        raise TypeError(f"radix_bits must be an int (fractional bits of the fixed point), got {radix_bits!r}")
    if not 1 <= radix_bits <= MAX_RADIX_BITS:
        raise ValueError(
            f"radix_bits = {radix_bits} is outside 1..{MAX_RADIX_BITS}: values are int64 with radix_bits "
            f"fractional bits, so the range is |x| < 2**(62 - radix_bits) (radix_bits = 52: |x| < 1024, "
            f"resolution 2.2e-16; radix_bits = {MAX_RADIX_BITS}: |x| < 4)")
    return int(radix_bits)


def _check_groups(groups: Any, n_groups: int, shape: tuple) -> Any:
    """``groups`` (a list in flattening order, or params0's structure with an int per array) with ints in
    [0, n_groups) that use every column of alphas (an unused column would be ignored silently). Which
    array each entry belongs to is settled against params0 in :class:`_Layout`."""
    if groups is None:
        return None
    groups = groups.tolist() if isinstance(groups, np.ndarray) else groups
    if not isinstance(groups, (dict, list, tuple)):
        raise TypeError(f"groups must give the group of each parameter array, as a list in flattening order or "
                        f"in the structure of params0 (e.g. {{'w': 0, 'b': 1}}); got {groups!r}")
    values, treedef = flatten(groups)
    if any(isinstance(g, bool) or not isinstance(g, (int, np.integer)) for g in values):
        raise TypeError(f"groups must be ints (column indices of alphas and gammas), got {groups}")
    values = [int(g) for g in values]
    if any(not 0 <= g < n_groups for g in values):
        raise ValueError(f"groups must give each parameter array a group index in [0, {n_groups}) (alphas has "
                         f"shape {shape}: {n_groups} groups); got {groups}")
    unused = sorted(set(range(n_groups)) - set(values))
    if unused:
        raise ValueError(f"alphas has shape {shape}: {n_groups} groups, but groups = {groups} puts no parameter "
                         f"array in group(s) {unused}, whose learning rates would be ignored; give alphas and "
                         "gammas one column per group used")
    return treedef.unflatten(values)


def _group_of_each_array(groups: Any, params: Any, treedef: Any, names: list[str], n_groups: int) -> list[int]:
    """The group of each array of params, in flattening order: ``groups`` in params' structure is matched
    by key (robust to how dicts are ordered); a flat list is taken in flattening order."""
    by_key, structure = flatten(_in_key_order_of(groups, params))
    if structure == treedef:
        return by_key
    if isinstance(groups, (list, tuple)) and len(groups) == len(names) and not any(
            isinstance(g, (dict, list, tuple)) for g in groups):
        return list(groups)
    raise ValueError(f"groups must give each of the {len(names)} parameter arrays ({names}) a group index in "
                     f"[0, {n_groups}), as a list in that order or in the structure of params0; got {groups}")


class _Layout:
    """Parameters (any container of float arrays) <-> one flat float64 vector; element -> group index."""

    def __init__(self, params: Any, groups: Any, n_groups: int, shape: tuple) -> None:
        leaves, self.treedef = flatten(params)
        self.names = _leaf_names(params)
        if not leaves:
            raise ValueError(f"params0 holds no arrays ({params!r}); pass the initial parameters, e.g. "
                             "{'w': np.zeros(5)}")
        _require_float_leaves(params, "params0")
        self.shapes = [np.shape(x) for x in leaves]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        if sum(self.sizes) == 0:
            raise ValueError(f"params0 holds only empty arrays (shapes {self.shapes}); there is nothing to train")
        if groups is None:
            if n_groups not in (1, len(leaves)):
                raise ValueError(
                    f"alphas has shape {shape}: {n_groups} groups, but params0 has {len(leaves)} arrays "
                    f"{self.names} and no groups were given; pass groups=[...] (the group of each array, in this "
                    "order), or one column per array")
            groups = [0] * len(leaves) if n_groups == 1 else list(range(len(leaves)))
        else:
            groups = _group_of_each_array(groups, params, self.treedef, self.names, n_groups)
        self.groups = groups
        self.element_group = np.concatenate([np.full(n, g) for n, g in zip(self.sizes, groups)])
        self.group_index = [np.flatnonzero(self.element_group == g) for g in range(n_groups)]
        self.n_groups = n_groups

    def flat(self, tree: Any) -> np.ndarray:
        return np.concatenate([np.ravel(np.asarray(x, dtype=np.float64)) for x in flatten(tree)[0]])

    def unflat(self, vec: np.ndarray) -> Any:
        out, start = [], 0
        for s, n in zip(self.shapes, self.sizes):
            out.append(vec[start:start + n].reshape(s))
            start += n
        return self.treedef.unflatten(out)

    def leaf_of(self, index: int) -> str:
        return self.names[int(np.searchsorted(np.cumsum(self.sizes), index, side="right"))]

    def group_of(self, index: int) -> int:
        return int(self.element_group[index])

    def per_group_sum(self, x: np.ndarray) -> np.ndarray:
        return np.bincount(self.element_group, weights=x, minlength=self.n_groups)


# ---- the stored state ---------------------------------------------------------------------------------------
@dataclass
class PackedWords:
    """Non-negative int64 words stored back to back at the bit width of the largest one."""

    data: np.ndarray  # uint64, see tinyad.kernels.exact.pack_bits
    width: int
    count: int

    @classmethod
    def pack(cls, words: np.ndarray) -> PackedWords:
        width = int(words.max()).bit_length() if words.size else 0
        return cls(pack_bits(words, width), width, int(words.size))

    def unpack(self) -> np.ndarray:
        return unpack_bits(self.data, self.width, self.count)

    @property
    def nbytes(self) -> int:
        return self.data.nbytes + 16  # the words, and width and count as two 8-byte integers


@dataclass
class ExactState:
    """The whole memory of a reversible run: final w and v (fixed point) and the information buffer, as
    the live words of each group at the end (``buffer``) and the groups' earlier words (``spills``)."""

    w: np.ndarray
    v: np.ndarray
    buffer: list = field(default_factory=list)  # PackedWords per group
    spills: list = field(default_factory=list)  # (step, group, PackedWords), in the order they were made
    steps: int = 0

    def buffer_nbytes(self) -> int:
        """Bytes the information buffer occupies as stored (a spill also stores its step and group)."""
        return sum(p.nbytes for p in self.buffer) + sum(16 + p.nbytes for _, _, p in self.spills)

    def nbytes(self) -> int:
        return self.w.nbytes + self.v.nbytes + self.buffer_nbytes()

    def information_bits(self) -> float:
        """Bits the buffer holds, sum of log2(word + 1) over live and spilled words: what momentum destroyed."""
        packed = list(self.buffer) + [p for _, _, p in self.spills]
        return sum(float(np.sum(np.log2(p.unpack().astype(np.float64) + 1.0))) for p in packed)


class ReversibleSGD:
    """SGD with momentum that can be run backwards exactly (see the module docstring).

    ``train_loss(params, meta, t)`` is the training loss at step t = 0 .. T-1 (deterministic: same
    minibatch for the same t). ``alphas`` has shape (T,) or (T, G), one column per group of parameter
    arrays; ``gammas`` is a scalar, (T,) or (T, G). ``groups`` gives each array its group, in the structure
    of params0 (e.g. ``{'W1': 0, 'b1': 0, 'W2': 1, 'b2': 1}``, matched by key) or as a list in flattening
    order; without it, G = 1 or one group per array. Gammas must be fractions n/d (floats such as 0.9 are
    converted exactly, see :func:`as_rational`).
    """

    def __init__(self, train_loss: Callable, alphas: Any, gammas: Any, groups: Any = None,
                 radix_bits: int = RADIX_BITS) -> None:
        if not callable(train_loss):
            raise TypeError(f"train_loss must be a function (params, meta, t) -> loss, got {train_loss!r}")
        self.train_loss = train_loss
        self.alphas = _learning_rates(alphas)
        self.T, self.G = T, G = self.alphas.shape
        self.n, self.d = _momenta(gammas, T, G)
        self.gammas = self.n / self.d
        # a buffer word B is spilled before the push B d + r (r < d) could exceed int64
        self.spill_above = (INT64_MAX - (self.d - 1)) // self.d
        self.groups = _check_groups(groups, G, self.alphas.shape)
        self.radix_bits = _check_radix_bits(radix_bits)
        self.scale = 2.0 ** self.radix_bits
        self.bound = LIMIT / self.scale

    # ---- fixed point and its checks -------------------------------------------------------------------
    def _counting(self) -> str:
        return f"steps count from 0 to T - 1 = {self.T - 1}"

    def _range(self) -> str:
        return f"the fixed-point range |x| < {self.bound:g} (radix_bits = {self.radix_bits})"

    def _encode(self, x: np.ndarray, what: str, t: int | None, layout: _Layout,
                advice: str = "Use fewer radix_bits for more range (each bit fewer doubles it).") -> np.ndarray:
        """rint(x 2**radix_bits) as int64, once every value is known to be in range: np.rint of nan, inf or a
        huge value cast to int64 wraps around silently, so the check comes before the conversion. ``t`` is
        the step (None: before training); ``advice`` may name the offending element's group ``{g}``."""
        with np.errstate(over="ignore", invalid="ignore"):
            y = np.rint(x * self.scale)
        bad = ~(np.abs(y) < LIMIT)
        if bad.any():
            i = int(np.argmax(bad))
            step, counting = ("", "") if t is None else (f"step {t}: ", f"; {self._counting()}")
            raise ExactArithmeticError(
                f"{step}{what} of {layout.leaf_of(i)!r} is {x[i]:.10g}, outside {self._range()}{counting}. "
                f"{advice.format(g=layout.group_of(i))}")
        return y.astype(np.int64)

    def _check_range(self, x: np.ndarray, what: str, t: int, layout: _Layout) -> None:
        """|x| < LIMIT after adding two values below it (no int64 wrap is possible, so x is the true value)."""
        bad = ~(np.abs(x) < LIMIT)
        if bad.any():
            i = int(np.argmax(bad))
            raise ExactArithmeticError(
                f"step {t}: {what} {layout.leaf_of(i)!r} reached {self._decode(x[i:i + 1])[0]:.10g}, outside "
                f"{self._range()}; {self._counting()}. Training diverged: lower the learning rates, or pass fewer "
                "radix_bits for more range (each bit fewer doubles the range).")

    def _decode(self, x: np.ndarray) -> np.ndarray:
        return x.astype(np.float64) / self.scale

    def _initial(self, layout: _Layout, params0: Any, v0: Any) -> tuple[np.ndarray, np.ndarray]:
        """(w_0, v_0) in fixed point. ``v0`` must have exactly the structure of params0 (containers, keys,
        shapes), so that every velocity belongs to its parameter array."""
        w = self._encode(layout.flat(params0), "the initial value", None, layout)
        if v0 is None:
            return w, np.zeros_like(w)
        v0 = _in_key_order_of(v0, params0)
        leaves, treedef = flatten(v0)
        if treedef != layout.treedef:
            raise ValueError(f"v0 must have exactly the structure of params0 (the same containers, keys and array "
                             f"shapes), so that each velocity belongs to its parameter array: params0 is "
                             f"{_describe(params0)}, v0 is {_describe(v0)}")
        for name, x, shape in zip(layout.names, leaves, layout.shapes):
            if np.shape(x) != shape:
                raise ValueError(f"v0 {name!r} has shape {np.shape(x)}, but params0 {name!r} has shape {shape}")
        _require_float_leaves(v0, "v0")
        return w, self._encode(layout.flat(v0), "the initial velocity", None, layout)

    def _step_rationals(self, t: int, layout: _Layout) -> tuple:
        g = layout.element_group
        return self.alphas[t][g], self.gammas[t][g], self.n[t][g], self.d[t][g]

    def _gradient(self, w: np.ndarray, meta: Any, t: int, layout: _Layout) -> np.ndarray:
        """grad train_loss at the step's parameters, flat; refuses a missing loss and NaN/inf gradients."""
        try:
            _, g = value_and_grad(self.train_loss)(layout.unflat(self._decode(w)), meta, t)
        except TypeError as e:  # e.g. it returned None or a vector: say at which step
            raise TypeError(f"step {t}: train_loss: {e}") from None
        g = layout.flat(g)
        bad = ~np.isfinite(g)
        if bad.any():
            i = int(np.argmax(bad))
            raise ExactArithmeticError(
                f"step {t}: train_loss returned non-finite gradients ({g[i]} for {layout.leaf_of(i)!r}; "
                f"{int(bad.sum())} of {g.size} entries); {self._counting()}. The loss itself produced NaN/inf (e.g. "
                "log or division by zero, or an overflow), so this is not a fixed-point range problem: check "
                "train_loss at the parameters of this step.")
        return g

    # ---- forward --------------------------------------------------------------------------------------
    def layout(self, params0: Any) -> _Layout:
        return _Layout(params0, self.groups, self.G, self.alphas.shape)

    def forward(self, params0: Any, meta: Any = None, v0: Any = None) -> tuple[ExactState, _Layout]:
        """Train T steps in exact arithmetic; returns the final exact state (and the parameter layout)."""
        layout = self.layout(params0)
        w, v = self._initial(layout, params0, v0)
        buf = np.zeros_like(w)
        state = ExactState(w, v)
        for t in range(self.T):
            alpha, gamma, n, d = self._step_rationals(t, layout)
            g = self._gradient(w, meta, t, layout)
            self._spill_full_groups(buf, t, layout, state.spills)
            mul_rational(v, buf, n, d)
            v -= self._grad_step(gamma, g, t, layout)
            self._check_range(v, "the velocity of", t, layout)
            w += self._param_step(alpha, v, t, layout)
            self._check_range(w, "the parameter", t, layout)
        state.buffer = [PackedWords.pack(buf[idx]) for idx in layout.group_index]
        state.steps = self.T
        return state, layout

    def _grad_step(self, gamma: np.ndarray, g: np.ndarray, t: int, layout: _Layout) -> np.ndarray:
        return self._encode((1.0 - gamma) * g, "the gradient step (1 - gamma) grad", t, layout,
                            "The training gradient is too large here: lower the learning rates before this step, "
                            "scale the loss down, or pass fewer radix_bits for more range.")

    def _param_step(self, alpha: np.ndarray, v: np.ndarray, t: int, layout: _Layout) -> np.ndarray:
        return self._encode(alpha * self._decode(v), "the parameter step alpha v", t, layout,
                            f"The learning rate alphas[{t}, {{g}}] is too large for this velocity: lower it, or "
                            "pass fewer radix_bits for more range.")

    def _spill_full_groups(self, buf: np.ndarray, t: int, layout: _Layout, spills: list) -> None:
        """Before step t's push, store away (and zero) the buffer of every group that has a word the push
        could overflow. A group's words fill at the same rate, so spilling them together wastes little and
        needs no indices: backwards, the same step restores the whole group."""
        full = buf > self.spill_above[t][layout.element_group]
        if full.any():
            for g in np.unique(layout.element_group[full]):
                idx = layout.group_index[g]
                spills.append((t, int(g), PackedWords.pack(buf[idx])))
                buf[idx] = 0

    # ---- backward -------------------------------------------------------------------------------------
    def backward(self, state: ExactState, layout: _Layout, meta: Any = None, dw: np.ndarray | None = None,
                 w0_check: np.ndarray | None = None, v0_check: np.ndarray | None = None) -> dict:
        """Run training backwards to the start, recovering every state exactly. With ``dw`` (the gradient
        of the objective w.r.t. the final parameters, flat) accumulate the hypergradients on the way.

        Returns {"w0", "v0" (exact ints), and with dw: "d_alphas", "d_gammas", "d_w0", "d_v0", "d_meta"}.
        Raises :class:`RecoveryError` if the buffer does not come back empty, or w_0 / v_0 differ from
        ``w0_check`` / ``v0_check`` when given (a non-deterministic loss)."""
        w, v = state.w.copy(), state.v.copy()
        buf = np.zeros_like(w)
        for idx, packed in zip(layout.group_index, state.buffer):
            buf[idx] = packed.unpack()
        spills = list(state.spills)
        hyper = dw is not None
        if hyper:
            if meta is not None:
                _require_float_leaves(meta, "meta")
            dw = np.array(dw, dtype=np.float64)
            if dw.shape != w.shape:
                raise ValueError(f"dw must be flat like the parameters, shape {w.shape}; got {dw.shape}")
            dv = np.zeros_like(dw)
            d_alphas = np.zeros((self.T, self.G))
            d_gammas = np.zeros((self.T, self.G))
            d_meta = None
        for t in range(self.T - 1, -1, -1):
            alpha, gamma, n, d = self._step_rationals(t, layout)
            if hyper:
                v_t = self._decode(v)
                d_alphas[t] = layout.per_group_sum(dw * v_t)
                dv = dv + alpha * dw
            try:  # the same computations succeeded forwards: an error now means the loss is not deterministic
                w -= self._param_step(alpha, v, t, layout)
                g = self._gradient(w, meta, t, layout)
                v += self._grad_step(gamma, g, t, layout)
            except ExactArithmeticError as e:
                raise RecoveryError(_NOT_DETERMINISTIC.format(t=t) + f" ({e})") from e
            unmul_rational(v, buf, n, d)
            while spills and spills[-1][0] == t:
                _, group, packed = spills.pop()
                idx = layout.group_index[group]
                if np.any(buf[idx] != 0):
                    raise RecoveryError(_NOT_DETERMINISTIC.format(t=t))
                buf[idx] = packed.unpack()
            if hyper:
                d_gammas[t] = layout.per_group_sum(dv * (self._decode(v) + g))
                # v_t = gamma v_{t-1} - (1 - gamma) grad L(w_{t-1}, meta): pull (1 - gamma) dv back through grad L
                hv, dm = self._second_order(w, meta, t, layout, (1.0 - gamma) * dv)
                dw = dw - hv
                if dm is not None:
                    d_meta = _add_trees(d_meta, dm, -1.0)
                dv = gamma * dv
        if (np.any(buf != 0) or spills or (w0_check is not None and not np.array_equal(w, w0_check))
                or (v0_check is not None and not np.array_equal(v, v0_check))):
            raise RecoveryError(_NOT_DETERMINISTIC.format(t=0))
        out = {"w0": w, "v0": v}
        if hyper:
            out.update(d_alphas=d_alphas, d_gammas=d_gammas, d_w0=dw, d_v0=dv, d_meta=d_meta)
        return out

    def _second_order(self, w: np.ndarray, meta: Any, t: int, layout: _Layout, dv: np.ndarray) -> tuple:
        """(H dv, (d grad / d meta)^T dv) at the step's parameters: one reverse-over-reverse VJP."""
        params = layout.unflat(self._decode(w))
        if meta is None:
            _, pullback = vjp(lambda p: grad(self.train_loss)(p, None, t), params)
            (hv,) = pullback(layout.unflat(dv))
            return layout.flat(hv), None
        _, pullback = vjp(lambda p, m: grad(self.train_loss)(p, m, t), params, meta)
        hv, dm = pullback(layout.unflat(dv))
        return layout.flat(hv), dm

    # ---- memory -----------------------------------------------------------------------------------------
    def memory_stats(self, state: ExactState, layout: _Layout) -> dict:
        """What the run stores, against the information it must store and against storing the trajectory.

        ``buffer_bytes``: the information buffer as stored (packed live words and spills, with their
        headers); ``information_bits``: sum of log2(word + 1) over its words; per parameter and step, the
        buffer ``occupied_bits_per_param_step`` vs ``buffer_bits_per_param_step`` (the information) vs
        ``expected_bits_per_param_step`` (log2(d/n)). ``ratio_vs_float32_w``: a float32 trajectory of w
        (32 bits x parameters x T, as the paper compares) over the buffer; ``ratio_vs_float64_wv``: a float64
        trajectory of (w, v) (``trajectory_bytes``) over everything the run keeps (``bytes``: final w and v
        in int64 and the buffer). ``spills``: spill events; ``spilled_words``: words stored by them."""
        P, T = state.w.size, state.steps
        buffer_bits = 8 * state.buffer_nbytes()
        info = state.information_bits()
        sizes = np.array([len(idx) for idx in layout.group_index])
        trajectory = 2 * T * state.w.nbytes
        return {
            "bytes": state.nbytes(),
            "buffer_bytes": state.buffer_nbytes(),
            "information_bits": info,
            "buffer_bits_per_param_step": info / (T * P),
            "occupied_bits_per_param_step": buffer_bits / (T * P),
            "expected_bits_per_param_step": float(np.sum(np.log2(self.d / self.n) @ sizes) / (T * P)),
            "ratio_vs_float32_w": 32 * P * T / buffer_bits if buffer_bits else math.inf,
            "trajectory_bytes": trajectory,
            "ratio_vs_float64_wv": trajectory / state.nbytes(),
            "spills": len(state.spills),
            "spilled_words": int(sum(p.count for _, _, p in state.spills)),
        }


_NOT_DETERMINISTIC = (
    "running training backwards did not recover its starting state (at step {t}): the training loss must "
    "return bit-identical gradients for the same parameters and step t. Random minibatches, dropout or "
    "other randomness must be derived from t (e.g. np.random.default_rng(t)), never from global state.")


def _add_trees(a: Any, b: Any, scale: float) -> Any:
    """a + scale * b, leaf by leaf (a may be None: then scale * b)."""
    lb, td = flatten(b)
    la = flatten(a)[0] if a is not None else [0.0] * len(lb)
    return td.unflatten([x + scale * y for x, y in zip(la, lb)])


@dataclass
class Hypergradients:
    """What :func:`hypergrad` returns."""

    val_loss: float
    d_alphas: np.ndarray  # (T, G)
    d_gammas: np.ndarray  # (T, G)
    d_params0: Any  # structure of params0
    d_v0: Any
    d_meta: Any  # structure of meta (None without meta)
    params_final: Any
    stats: dict


def hypergrad(train_loss: Callable, val_loss: Callable, params0: Any, alphas: Any, gammas: Any,
              meta: Any = None, groups: Any = None, v0: Any = None,
              radix_bits: int = RADIX_BITS) -> Hypergradients:
    """d val_loss(w_T) / d (every alpha_t, every gamma_t, w_0, v_0, meta), by exactly reversible SGD.

    Trains T = len(alphas) steps forward in exact arithmetic, evaluates ``val_loss(w_T)``, then runs
    training backwards to w_0 and v_0 (checked bit for bit), accumulating the hypergradients. ``stats``
    reports the memory, see :meth:`ReversibleSGD.memory_stats`."""
    run = ReversibleSGD(train_loss, alphas, gammas, groups, radix_bits)
    if not callable(val_loss):
        raise TypeError(f"val_loss must be a function params -> loss, got {val_loss!r}")
    if meta is not None:
        _require_float_leaves(meta, "meta")
    state, layout = run.forward(params0, meta, v0)
    params_T = layout.unflat(run._decode(state.w))
    value, dw = value_and_grad(val_loss)(params_T)
    dw = layout.flat(dw)
    if value is None or not np.isfinite(value) or not np.all(np.isfinite(dw)):
        raise ValueError(f"val_loss returned {value} with {'finite' if np.all(np.isfinite(dw)) else 'NaN/inf'} "
                         "gradients at the trained parameters; hypergradients need a finite validation loss "
                         "and gradient (training itself stayed finite and in range)")
    stats = run.memory_stats(state, layout)
    w0, v0_exact = run._initial(layout, params0, v0)
    back = run.backward(state, layout, meta, dw, w0, v0_exact)
    return Hypergradients(float(value), back["d_alphas"], back["d_gammas"], layout.unflat(back["d_w0"]),
                          layout.unflat(back["d_v0"]), back["d_meta"], params_T, stats)
