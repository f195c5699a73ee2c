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

Per step backwards the engine computes one VJP of the training gradient (a Hessian-vector product and,
for meta-parameters such as per-weight L2 strengths or the training inputs, the mixed second derivative:
reverse-over-reverse in one call).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np

from .core.transforms import grad, value_and_grad, vjp
from .core.tree import flatten, leaf_names
from .kernels.exact import mul_rational, unmul_rational

RADIX_BITS = 52
LIMIT = 2 ** 62  # |fixed-point values| stay below this (a margin below int64's 2**63)
INT64_MAX = 2 ** 63 - 1


class ExactArithmeticError(ArithmeticError):
    """A value left the fixed-point range, or a hyperparameter cannot be represented exactly."""


class RecoveryError(RuntimeError):
    """Running training backwards did not return to its start: the training loss is not deterministic."""


def as_rational(gamma: Any, what: str = "momentum", max_denominator: int = 2 ** 16) -> tuple[int, int]:
    """``gamma`` as (n, d) with 0 < n <= d <= max_denominator; floats must be such a fraction to 1e-12."""
    if isinstance(gamma, Fraction):
        f = gamma
    else:
        g = float(gamma)
        f = Fraction(g).limit_denominator(max_denominator)
        if abs(float(f) - g) > 1e-12 * max(1.0, abs(g)):
            raise ExactArithmeticError(
                f"{what} = {gamma!r} is not a fraction n/d with d <= {max_denominator}, which exact reversal "
                f"needs (the closest is {f}); pass e.g. Fraction({f.numerator}, {f.denominator}) or a value "
                "such as 0.9 = 9/10")
    if not 0 < f <= 1 or f.denominator > max_denominator:
        raise ExactArithmeticError(f"{what} = {f} must be a fraction in (0, 1] with denominator <= {max_denominator}")
    return f.numerator, f.denominator


class _Layout:
    """Parameters (any container of float arrays) <-> one flat float64 vector; element -> group index."""

    def __init__(self, params: Any, groups: Sequence[int] | None, n_groups: int) -> None:
        leaves, self.treedef = flatten(params)
        self.shapes = [np.shape(x) for x in leaves]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.names = _leaf_names(params)
        if groups is None:
            groups = [0] * len(leaves) if n_groups == 1 else list(range(len(leaves)))
        if len(groups) != len(leaves) or any(not 0 <= g < n_groups for g in groups):
            raise ValueError(f"groups must give each of the {len(leaves)} parameter arrays ({self.names}) a group "
                             f"index in [0, {n_groups}); got {list(groups)}")
        self.groups = list(groups)
        self.element_group = np.concatenate([np.full(n, g) for n, g in zip(self.sizes, groups)])
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

    def per_group_sum(self, x: np.ndarray) -> np.ndarray:
        return np.bincount(self.element_group, weights=x, minlength=self.n_groups)


def _leaf_names(tree: Any) -> list[str]:
    return leaf_names(flatten(tree)[1])


@dataclass
class ExactState:
    """The whole memory of a reversible run: final w and v (fixed point), the buffer, the spills."""

    w: np.ndarray
    v: np.ndarray
    buffer: np.ndarray
    spills: list = field(default_factory=list)  # (step, indices, spilled buffer words)
    steps: int = 0

    def nbytes(self) -> int:
        return (self.w.nbytes + self.v.nbytes + self.buffer.nbytes
                + sum(i.nbytes + b.nbytes for _, i, b in self.spills))

    def information_bits(self) -> float:
        """Bits the buffer holds (live words and spilled ones): what momentum decay destroyed."""
        live = float(np.sum(np.log2(self.buffer.astype(np.float64) + 1.0)))
        return live + sum(float(np.sum(np.log2(b.astype(np.float64) + 1.0))) for _, _, b in self.spills)


class ReversibleSGD:
    """SGD with momentum that can be run backwards exactly (see the module docstring).

    ``train_loss(params, meta, t)`` is the training loss at step t (deterministic: same minibatch for the
    same t). ``alphas`` has shape (T,) or (T, G) and ``gammas`` the same, one column per group of parameter
    arrays (``groups[i]`` is the group of the i-th array, in container order); gammas must be fractions
    n/d (floats such as 0.9 are converted exactly, see :func:`as_rational`).
    """

    def __init__(self, train_loss: Callable, alphas: Any, gammas: Any, groups: Sequence[int] | None = None,
                 radix_bits: int = RADIX_BITS) -> None:
        self.train_loss = train_loss
        self.alphas = np.asarray(alphas, dtype=np.float64)
        if self.alphas.ndim == 1:
            self.alphas = self.alphas[:, None]
        if self.alphas.ndim != 2:
            raise ValueError(f"alphas must have shape (T,) or (T, groups), got {np.shape(alphas)}")
        T, G = self.alphas.shape
        gam = np.asarray(gammas, dtype=object)
        if gam.ndim == 0:
            gam = np.full((T, G), gammas, dtype=object)
        elif gam.ndim == 1:
            gam = np.repeat(gam[:, None], G, axis=1)
        if gam.shape != (T, G):
            raise ValueError(f"gammas must have shape (T,) or (T, groups) like alphas {self.alphas.shape}, "
                             f"got {gam.shape}")
        nd = [[as_rational(gam[t, g], f"gamma[{t}, {g}]") for g in range(G)] for t in range(T)]
        self.n = np.array([[a for a, _ in row] for row in nd], dtype=np.int64)
        self.d = np.array([[b for _, b in row] for row in nd], dtype=np.int64)
        self.gammas = self.n / self.d
        self.groups = groups
        self.radix_bits = radix_bits
        self.scale = 2.0 ** radix_bits
        self.T, self.G = T, G

    # ---- fixed point ----------------------------------------------------------------------------------
    def _encode(self, x: np.ndarray, what: str, t: int, layout: _Layout) -> np.ndarray:
        y = np.rint(x * self.scale)
        bad = ~(np.abs(y) < LIMIT)
        if bad.any():
            i = int(np.argmax(bad))
            raise ExactArithmeticError(
                f"step {t}: {what} of {layout.leaf_of(i)!r} is {x[i]!r}, outside the fixed-point range "
                f"|x| < {LIMIT / self.scale:g} (radix 2^{self.radix_bits}). Lower the learning rate, or use fewer "
                "radix bits for more range.")
        return y.astype(np.int64)

    def _decode(self, x: np.ndarray) -> np.ndarray:
        return x.astype(np.float64) / self.scale

    def _check(self, x: np.ndarray, what: str, t: int, layout: _Layout) -> None:
        bad = ~(np.abs(x) < LIMIT)
        if bad.any():
            i = int(np.argmax(bad))
            raise ExactArithmeticError(
                f"step {t}: {what} of {layout.leaf_of(i)!r} reached {self._decode(x[i:i + 1])[0]!r}, outside the "
                f"fixed-point range |x| < {LIMIT / self.scale:g} (radix 2^{self.radix_bits}).")

    def _step_rationals(self, t: int, layout: _Layout) -> tuple:
        g = layout.element_group
        return self.alphas[t][g], self.gammas[t][g], self.n[t][g], self.d[t][g]

    def _gradient(self, w: np.ndarray, meta: Any, t: int, layout: _Layout) -> np.ndarray:
        return layout.flat(grad(self.train_loss)(layout.unflat(self._decode(w)), meta, t))

    # ---- forward --------------------------------------------------------------------------------------
    def layout(self, params0: Any) -> _Layout:
        return _Layout(params0, self.groups, self.G)

    def forward(self, params0: Any, meta: Any = None, v0: Any = None) -> tuple[ExactState, _Layout]:
        """Train T steps in exact arithmetic; returns the final exact state (and the parameter layout)."""
        layout = self.layout(params0)
        w = self._encode(layout.flat(params0), "the initial value", 0, layout)
        v = (np.zeros_like(w) if v0 is None else self._encode(layout.flat(v0), "the initial velocity", 0, layout))
        buf = np.zeros_like(w)
        state = ExactState(w, v, buf)
        for t in range(self.T):
            alpha, gamma, n, d = self._step_rationals(t, layout)
            g = self._gradient(w, meta, t, layout)
            full = buf > (INT64_MAX - d) // d  # the next push could overflow: spill those words
            if full.any():
                idx = np.nonzero(full)[0]
                state.spills.append((t, idx, buf[idx].copy()))
                buf[idx] = 0
            mul_rational(v, buf, n, d)
            v -= self._encode((1.0 - gamma) * g, "the gradient step", t, layout)
            self._check(v, "the velocity", t, layout)
            w += np.rint(alpha * v.astype(np.float64)).astype(np.int64)
            self._check(w, "the parameter", t, layout)
        state.steps = self.T
        return state, layout

    # ---- backward -------------------------------------------------------------------------------------
    def backward(self, state: ExactState, layout: _Layout, meta: Any = None, dw: np.ndarray | None = None,
                 w0_check: np.ndarray | None = None) -> dict:
        """Run training backwards to the start, recovering every state exactly. With ``dw`` (the gradient
        of the objective w.r.t. the final parameters, flat) accumulate the hypergradients on the way.

        Returns {"w0", "v0" (exact ints), and with dw: "d_alphas", "d_gammas", "d_w0", "d_v0", "d_meta"}.
        Raises :class:`RecoveryError` if the buffer does not come back empty (a non-deterministic loss)."""
        w, v, buf = state.w.copy(), state.v.copy(), state.buffer.copy()
        spills = list(state.spills)
        hyper = dw is not None
        if hyper:
            dw = np.array(dw, dtype=np.float64)
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
            w -= np.rint(alpha * v.astype(np.float64)).astype(np.int64)
            g = self._gradient(w, meta, t, layout)
            v += self._encode((1.0 - gamma) * g, "the gradient step", t, layout)
            unmul_rational(v, buf, n, d)
            while spills and spills[-1][0] == t:
                _, idx, words = spills.pop()
                if np.any(buf[idx] != 0):
                    raise RecoveryError(_NOT_DETERMINISTIC.format(t=t))
                buf[idx] = words
            if hyper:
                d_gammas[t] = layout.per_group_sum(dv * (self._decode(v) + g))
                # v_t = gamma v_{t-1} - (1 - gamma) grad L(w_{t-1}, meta): pull (1 - gamma) dv back through grad L
                hv, dm = self._second_order(w, meta, t, layout, (1.0 - gamma) * dv)
                dw = dw - hv
                if dm is not None:
                    d_meta = _add_trees(d_meta, dm, -1.0)
                dv = gamma * dv
        if np.any(buf != 0) or spills or (w0_check is not None and not np.array_equal(w, w0_check)):
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
              meta: Any = None, groups: Sequence[int] | None = None, v0: Any = None,
              radix_bits: int = RADIX_BITS) -> Hypergradients:
    """d val_loss(w_T) / d (every alpha_t, every gamma_t, w_0, v_0, meta), by exactly reversible SGD.

    Trains T = len(alphas) steps forward in exact arithmetic, evaluates ``val_loss(w_T)``, then runs
    training backwards to w_0, accumulating the hypergradients. ``stats`` reports the memory used, the
    buffer's information per step and parameter, and how many buffer words spilled."""
    run = ReversibleSGD(train_loss, alphas, gammas, groups, radix_bits)
    state, layout = run.forward(params0, meta, v0)
    w0_check = run._encode(layout.flat(params0), "the initial value", 0, layout)
    params_T = layout.unflat(run._decode(state.w))
    value, dw = value_and_grad(val_loss)(params_T)
    info_bits = state.information_bits()
    stats = {
        "bytes": state.nbytes(),
        "trajectory_bytes": 2 * run.T * state.w.nbytes,  # what storing every (w_t, v_t) would take
        "buffer_bits_per_param_step": info_bits / (run.T * state.w.size) if run.T else 0.0,
        "spilled_words": int(sum(len(i) for _, i, _ in state.spills)),
        "expected_bits_per_param_step": float(np.mean(np.log2(run.d / run.n))),
    }
    back = run.backward(state, layout, meta, layout.flat(dw), w0_check)
    return Hypergradients(float(value), back["d_alphas"], back["d_gammas"], layout.unflat(back["d_w0"]),
                          layout.unflat(back["d_v0"]), back["d_meta"], params_T, stats)

