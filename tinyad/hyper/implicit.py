"""Hypergradients by implicit differentiation: at an inner optimum, no training run needs differentiating.

If w*(λ) minimises the training loss, then ∇w L_train(w*(λ), λ) = 0 for every λ. Differentiating that
identity (the implicit function theorem) gives H dw*/dλ = -∂λ∇w L_train, with H = ∂²L_train/∂w² at w*,
so for the validation loss (Lorraine, Vicol & Duvenaud, AISTATS 2020)::

    dL_val/dλ = ∂λ L_val(w*, λ) - (∂λ∇w L_train)ᵀ x,    H x = ∇w L_val(w*, λ)

(H is symmetric, so Hᵀ = H). Everything here is composed from the engine's public operators:

* H v is ``tinyad.hvp`` (forward-over-reverse); the linear system is solved by conjugate gradients or a
  truncated Neumann series, which need nothing but those products;
* (∂λ∇w L_train)ᵀ x is ONE ``tinyad.vjp`` of λ ↦ ∇w L_train(w*, λ) with cotangent x
  (reverse-over-reverse), however many hyperparameters there are.

Cost: one solve (tens to hundreds of Hessian-vector products) plus a few gradients; memory O(weights),
whatever inner optimiser found w* and however many steps it took. The price is the assumption: w* must be
a minimum (∇w L_train = 0, H positive definite). The diagnostics say how well that held and how well
the solve went, and :class:`ImplicitWarning` says when not.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .. import numpy as tnp
from ..core.forward import Dual
from ..core.jitting import jit
from ..core.primitive import Primitive
from ..core.reverse import Var
from ..core.transforms import grad, hvp, jvp, value_and_grad, vjp
from ..core.tree import flatten

SOLVERS = ("cg", "neumann")
NEUMANN_MAXITER = 1000


class ImplicitWarning(RuntimeWarning):
    """The implicit hypergradient may be inaccurate: w* is not stationary, the linear solve did not
    converge, or the training loss's Hessian is not positive definite at w*."""


@dataclass
class ImplicitResult:
    """What :func:`implicit_hypergrad` returns.

    ``value``: L_val(w*, λ). ``hypergrad``: dL_val/dλ in the structure of the hyperparameters.
    Solve diagnostics: ``residual`` = ‖H x − ∇w L_val‖ / ‖∇w L_val‖, recomputed with one more
    Hessian-vector product after the solver stopped (not the solver's own running estimate);
    ``iterations`` (Hessian-vector products in the solve); ``converged`` (``residual <= tol``);
    ``status`` ("converged", "maxiter", "negative curvature", "diverged", "non-finite", or "inexact": the
    solver's running residual reached ``tol`` but the recomputed one did not).
    Stationarity of the given w*: ``grad_norm`` = ‖∇w L_train(w*, λ)‖ and ``distance``, an estimate of
    ‖w* − w_opt‖ / ‖w_opt‖ from one steepest-descent step on the local quadratic model (a lower
    bound on the Newton step's length; ``inf`` if that model has no minimum along the gradient).
    """

    value: float
    hypergrad: Any
    residual: float
    iterations: int
    converged: bool
    status: str
    grad_norm: float
    distance: float
    solver: str


# ---- containers <-> flat vectors -----------------------------------------------------------------
class _Flat:
    """Converts between a container of floats/float arrays and one flat float64 vector.

    The solvers work on flat vectors; the user's functions see the original container. ``unravel``
    also works on a tinyad box (slices and reshapes are differentiable ops)."""

    def __init__(self, tree: Any) -> None:
        leaves, self.treedef = flatten(tree)
        self.shapes = [np.shape(x) for x in leaves]
        self.scalar = [s == () for s in self.shapes]  # 0-d leaves come back as floats, as in hyper.hypergrad
        self.sizes = [math.prod(s) for s in self.shapes]
        self.size = sum(self.sizes)

    def ravel(self, tree: Any) -> np.ndarray:
        leaves, td = flatten(tree)
        if td != self.treedef:
            raise ValueError(f"expected a container of structure {self.treedef}, got {td}")
        if not leaves:
            return np.zeros(0)
        return np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in leaves])

    def unravel(self, v: Any) -> Any:
        plain = isinstance(v, np.ndarray)
        leaves, start = [], 0
        for shape, size, scalar in zip(self.shapes, self.sizes, self.scalar):
            piece = v[start:start + size]
            if plain:
                leaves.append(float(piece[0]) if scalar else piece.reshape(shape).copy())
            else:
                leaves.append(tnp.reshape(piece, shape))
            start += size
        return self.treedef.unflatten(leaves)


def _is_box(x: Any) -> bool:
    return isinstance(x, (Dual, Var))


def _check_floats(tree: Any, what: str, allow_boxes: bool = False) -> None:
    """Weights and hyperparameters must be real floats (or float arrays), finite, at least one of them."""
    leaves, _ = flatten(tree)
    if not leaves:
        raise ValueError(f"{what} is empty: give at least one float or float array")
    for i, x in enumerate(leaves):
        where = f"{what}" if len(leaves) == 1 else f"{what} (leaf {i} of {len(leaves)})"
        if _is_box(x):
            if allow_boxes:
                continue
            raise TypeError(f"{where} is a tinyad {type(x).__name__}: implicit_hypergrad works on plain numbers "
                            "and cannot itself be differentiated. To differentiate through an inner solution, "
                            "decorate the inner solver with tinyad.hyper.implicit_solution.")
        if not (isinstance(x, (float, np.floating)) or (isinstance(x, np.ndarray) and x.dtype.kind == "f")):
            dt = getattr(x, "dtype", type(x).__name__)
            raise TypeError(f"{where} is {type(x).__name__} ({dt}); implicit differentiation needs real "
                            "floating-point values: pass floats or float arrays (e.g. 1.0, x.astype(float)).")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{where} contains NaN or inf")


def _check_scalar(value: Any, what: str) -> None:
    if np.shape(value) != ():
        raise TypeError(f"{what} must return a scalar loss, but it returned shape {np.shape(value)}: reduce "
                        "it (e.g. tnp.mean) before returning.")


def _check_solver(solver: str, tol: Any, maxiter: Any) -> None:
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}: choose 'cg' (conjugate gradients, the default) or "
                         "'neumann' (truncated Neumann series, Lorraine et al. 2020)")
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating, np.integer)) or not tol > 0 \
            or not np.isfinite(tol):
        raise ValueError(f"tol (the solve's relative residual) must be a number > 0, got {tol!r:.40}")
    if maxiter is not None and (isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer))
                                or maxiter < 1):
        raise ValueError(f"maxiter must be None (the default) or a whole number >= 1, got {maxiter!r:.40}")


@jit(static_argnums=0, fallback=True)
def _hvp(train_loss: Callable, w: Any, hparams: Any, v: Any) -> Any:
    """H v at (w, hparams), compiled once per training loss and shapes: a solve makes hundreds of them."""
    return hvp(lambda w_: train_loss(w_, hparams), w, v)


def _hessian_matvec(train_loss: Callable, w: Any, hparams: Any, W: _Flat) -> Callable:
    """v ↦ H v on flat vectors, H = ∂²L_train/∂w² at (w, hparams): one tinyad.hvp per product."""
    def matvec(v: np.ndarray) -> np.ndarray:
        return W.ravel(_hvp(train_loss, w, hparams, W.unravel(v)))

    return matvec


def _mixed_vjp(train_loss: Callable, w: Any, hparams: Any, x: Any) -> Any:
    """(∂λ∇w L_train)ᵀ x: one reverse pass through the gradient (reverse-over-reverse), for all λ at once."""
    _, pullback = vjp(lambda h: grad(train_loss)(w, h), hparams)
    return pullback(x)[0]


# ---- linear solvers on H x = b, using only products with H ----------------------------------------
def _cg(matvec: Callable, b: np.ndarray, tol: float, maxiter: int) -> tuple[np.ndarray, int, str]:
    """Conjugate gradients from x = 0 until the running residual is <= tol ‖b‖. Stops at the first
    direction of non-positive curvature (pᵀHp <= 0): H is then not positive definite."""
    x, r = np.zeros_like(b), b.copy()
    p, rr = r.copy(), r @ r
    stop = (tol * np.linalg.norm(b)) ** 2
    for i in range(maxiter):
        if rr <= stop:
            return x, i, "converged"
        hp = matvec(p)
        curvature = p @ hp
        if not np.isfinite(curvature):
            return x, i + 1, "non-finite"
        if curvature <= 0:
            return x, i + 1, "negative curvature"
        a = rr / curvature
        x, r = x + a * p, r - a * hp
        rr, rr_old = r @ r, rr
        p = r + (rr / rr_old) * p
    return x, maxiter, "converged" if rr <= stop else "maxiter"


def _neumann(matvec: Callable, b: np.ndarray, tol: float, maxiter: int, lr: float) -> tuple[np.ndarray, int, str]:
    """x_K = lr Σ_{j<=K} (I − lr H)^j b  (Lorraine et al. 2020), which tends to H⁻¹b iff 0 < lr < 2/λ_max.

    Its residual is known for free: H x_K − b = −(I − lr H)^{K+1} b, the next term of the series."""
    nb = np.linalg.norm(b)
    total, term = b.copy(), b.copy()
    for i in range(1, maxiter + 1):
        term = term - lr * matvec(term)           # (I - lr H)^i b = -(residual of lr * total)
        rel = np.linalg.norm(term) / nb
        if rel <= tol:
            return lr * total, i, "converged"
        if not np.isfinite(rel):
            return lr * total, i, "non-finite"
        if rel > 10.0:                            # for symmetric H and a valid lr the terms never grow
            return lr * total, i, "diverged"
        total = total + term
    return lr * total, maxiter, "maxiter"


def _largest_eigenvalue(matvec: Callable, n: int, iterations: int = 20) -> float:
    """‖H v‖ for the unit v of a few power iterations: approaches max |eigenvalue| from below."""
    v = np.random.default_rng(0).standard_normal(n)
    v /= np.linalg.norm(v)
    estimate = 0.0
    for _ in range(iterations):
        hv = matvec(v)
        estimate = float(np.linalg.norm(hv))
        if estimate == 0.0 or not np.isfinite(estimate):
            break
        v = hv / estimate
    return estimate


@dataclass
class _Solve:
    x: np.ndarray
    iterations: int
    residual: float
    converged: bool
    status: str


def _solve(matvec: Callable, b: np.ndarray, solver: str, tol: float, maxiter: int | None,
           neumann_lr: float | None, who: str, stacklevel: int) -> _Solve:
    """Solve H x = b, recompute the residual with one more product, and warn if the solve is not good."""
    nb = np.linalg.norm(b)
    if nb == 0.0:
        return _Solve(np.zeros_like(b), 0, 0.0, True, "converged")
    lr = neumann_lr
    if solver == "cg":
        x, iterations, status = _cg(matvec, b, tol, 10 * b.size if maxiter is None else maxiter)
    else:
        if lr is None:  # one over (an estimate of) the largest eigenvalue: safely below 2/λ_max
            lam = _largest_eigenvalue(matvec, b.size)
            if not lam > 0:
                raise FloatingPointError(f"{who}: could not estimate the Hessian's largest eigenvalue (got {lam}) "
                                         "to choose neumann_lr; pass neumann_lr, or use solver='cg'.")
            lr = 1.0 / lam
        elif not lr > 0:
            raise ValueError(f"{who}: neumann_lr must be > 0 (and < 2/λ_max(H)), got {lr}")
        x, iterations, status = _neumann(matvec, b, tol, NEUMANN_MAXITER if maxiter is None else maxiter, lr)
    residual = float(np.linalg.norm(matvec(x) - b) / nb)
    converged = residual <= tol
    if not np.isfinite(residual):
        status = "non-finite"
    elif status == "converged" and not converged:
        status = "inexact"  # the solver's running residual reached tol, the recomputed one did not
    if status == "negative curvature":
        warnings.warn(
            f"{who}: conjugate gradients met negative curvature (pᵀHp <= 0) after {iterations} iterations: the "
            "training loss's Hessian at w* is not positive definite, so w* is not a strict minimum and the implicit "
            f"hypergradient is not defined there (relative residual reached: {residual:.2e}). Train to a minimum, "
            "or make the inner problem strongly convex (e.g. some L2 regularisation).", ImplicitWarning,
            stacklevel=stacklevel)
    elif status == "diverged" or (solver == "neumann" and residual > 1.0):
        warnings.warn(
            f"{who}: the Neumann series diverged (relative residual {residual:.2e} after {iterations} terms): it "
            f"needs 0 < neumann_lr < 2/λ_max(H) and H positive definite; neumann_lr was {lr:.3g}. Pass a smaller "
            "neumann_lr (or none, to estimate it), or use solver='cg'.", ImplicitWarning, stacklevel=stacklevel)
    elif not converged and status != "non-finite":
        advice = ("raise maxiter (CG needs about as many iterations as there are weights at worst, more when H is "
                  "ill-conditioned) or loosen tol" if solver == "cg" else
                  "raise maxiter or neumann_lr (below 2/λ_max(H)), loosen tol, or use solver='cg' (far fewer "
                  "Hessian-vector products when H is ill-conditioned)")
        its = f"{iterations} iteration{'s' * (iterations != 1)}"
        warnings.warn(
            f"{who}: the {solver} solve of H x = ∇w L_val stopped after {its} at relative residual {residual:.2e} > "
            f"tol={tol:.1e}, so H⁻¹∇w L_val, and with it the hypergradient, is inexact (relative error up to "
            f"cond(H) times the residual): {advice}.",
            ImplicitWarning, stacklevel=stacklevel)
    return _Solve(x, iterations, residual, converged, status)


def _distance_to_optimum(matvec: Callable, w: np.ndarray, g: np.ndarray) -> float:
    """‖s‖ / ‖w_opt‖ for the steepest-descent (Cauchy) step s = (gᵀg / gᵀHg) g of the local quadratic
    model: one Hessian-vector product. For a convex model ‖s‖ <= ‖Newton step‖, so this never
    overstates how far w is from the model's minimum; inf when the model has no minimum along g."""
    gg = g @ g
    if gg == 0.0:
        return 0.0
    curvature = g @ matvec(g)
    if not curvature > 0:
        return math.inf
    step = (gg / curvature) * g
    return float(np.linalg.norm(step) / max(np.linalg.norm(w), np.linalg.norm(w - step)))


# ---- the hypergradient ----------------------------------------------------------------------------
def implicit_hypergrad(
    train_loss: Callable[[Any, Any], Any],
    val_loss: Callable[[Any, Any], Any],
    w_star: Any,
    hparams: Any,
    *,
    solver: str = "cg",
    tol: float = 1e-10,
    maxiter: int | None = None,
    neumann_lr: float | None = None,
    stationarity_tol: float = 1e-3,
) -> ImplicitResult:
    """dL_val/dλ at an inner optimum ``w_star`` of ``train_loss``, by the implicit function theorem.

    ``train_loss(w, hparams)`` and ``val_loss(w, hparams)`` return scalars (``val_loss`` may ignore
    ``hparams``); ``w_star`` and ``hparams`` are floats, float arrays or containers of them. Computes::

        dL_val/dλ = ∂λ L_val(w*, λ) − (∂λ∇w L_train)ᵀ H⁻¹ ∇w L_val(w*, λ),   H = ∂²L_train/∂w² at w*

    with H⁻¹ applied by ``solver="cg"`` (conjugate gradients; ``maxiter`` defaults to 10 x the number of
    weights) or ``"neumann"`` (lr Σ (I − lr H)^j; needs 0 < ``neumann_lr`` < 2/λ_max(H), default
    1/λ_max estimated by 20 power iterations; ``maxiter`` defaults to 1000 terms), both stopping at
    relative residual ``tol``. Cost: one solve and a few gradients, for any number of hyperparameters.

    Warns (:class:`ImplicitWarning`) if w* is not close to stationary (``distance`` above
    ``stationarity_tol``), if the solve does not reach ``tol``, or on negative curvature; raises
    ``FloatingPointError`` if the hypergradient is not finite. Returns an :class:`ImplicitResult`.
    """
    _check_solver(solver, tol, maxiter)
    _check_floats(w_star, "w_star")
    _check_floats(hparams, "hparams")
    W, Hp = _Flat(w_star), _Flat(hparams)
    who = "implicit_hypergrad"

    value, pullback = vjp(val_loss, w_star, hparams)  # value and both partial gradients, one pass
    _check_scalar(value, "val_loss")
    dval_dw, dval_dh = pullback(1.0)

    train_value, train_pullback = vjp(lambda w: train_loss(w, hparams), w_star)
    _check_scalar(train_value, "train_loss")
    g_train = W.ravel(train_pullback(1.0)[0])
    matvec = _hessian_matvec(train_loss, w_star, hparams, W)
    grad_norm = float(np.linalg.norm(g_train))
    distance = _distance_to_optimum(matvec, W.ravel(w_star), g_train)
    if not distance <= stationarity_tol:
        warnings.warn(
            f"{who}: w_star is not a stationary point of train_loss: ‖∇w L_train(w*)‖ = {grad_norm:.3g}, and a "
            f"steepest-descent step on the local quadratic model moves it by {distance:.2%} of its size "
            f"(stationarity_tol={stationarity_tol:.0e}; inf means no minimum along the gradient). The implicit "
            "function theorem assumes w* minimises the training loss: the hypergradient is only as good as that. "
            "Train longer (or to a tighter tolerance) before calling implicit_hypergrad.",
            ImplicitWarning, stacklevel=2)

    sol = _solve(matvec, W.ravel(dval_dw), solver, tol, maxiter, neumann_lr, who, stacklevel=3)
    mixed = _mixed_vjp(train_loss, w_star, hparams, W.unravel(sol.x))
    hypergrad = Hp.ravel(dval_dh) - Hp.ravel(mixed)
    if not (np.all(np.isfinite(hypergrad)) and np.isfinite(value)):
        raise FloatingPointError(
            f"{who}: the {'hypergradient' if np.isfinite(value) else 'validation loss'} is not finite (NaN/inf). "
            f"Solver status: {sol.status}, relative residual {sol.residual:.2e}; ‖∇w L_val‖ = "
            f"{np.linalg.norm(W.ravel(dval_dw)):.3g}, ‖∇w L_train‖ = {grad_norm:.3g}. Check that both losses are "
            "finite and smooth at w_star and that the Hessian there is positive definite.")
    return ImplicitResult(float(value), Hp.unravel(hypergrad), sol.residual, sol.iterations, sol.converged,
                          sol.status, grad_norm, distance, solver)


# ---- getting to an optimum --------------------------------------------------------------------------
def newton_minimize(train_loss: Callable[[Any, Any], Any], w0: Any, hparams: Any, *, tol: float = 1e-10,
                    maxiter: int = 50) -> Any:
    """Minimise ``w ↦ train_loss(w, hparams)`` from ``w0`` by Newton's method, to near machine precision.

    For smooth, strongly convex inner problems (regularised linear and logistic regression): implicit
    differentiation wants w* accurate, and Newton's quadratic convergence gets there in a handful of
    steps, so warm-starting from the previous solution in an outer loop is cheap. Each step solves
    H d = ∇L inexactly by conjugate gradients on ``tinyad.hvp`` (tolerance shrinking with the gradient),
    then backtracks until the loss decreases. Stops when a step moves w by less than ``tol`` relative
    to ‖w‖ (or 1), and warns (:class:`ImplicitWarning`) if ``maxiter`` steps did not get there.
    """
    _check_floats(w0, "w0")
    _check_floats(hparams, "hparams")
    W = _Flat(w0)
    w = W.ravel(w0)
    loss_and_grad = value_and_grad(train_loss)
    g0, gnorm = None, math.nan
    for _ in range(maxiter):
        loss, g = loss_and_grad(W.unravel(w), hparams)
        _check_scalar(loss, "train_loss")
        loss, g = float(loss), W.ravel(g)
        gnorm = np.linalg.norm(g)
        if gnorm == 0.0:
            return W.unravel(w)
        g0 = gnorm if g0 is None else g0
        forcing = min(0.5, math.sqrt(gnorm / g0))  # inexact Newton: superlinear, few products far away
        d, _, status = _cg(_hessian_matvec(train_loss, W.unravel(w), hparams, W), g, forcing, 10 * w.size)
        if not d @ g > 0:  # negative curvature at the very first CG step: fall back to the gradient
            d = g
        t, slope, slack = 1.0, d @ g, 1e-13 * abs(loss)
        while t > 1e-12 and float(train_loss(W.unravel(w - t * d), hparams)) > loss - 1e-4 * t * slope + slack:
            t *= 0.5
        w = w - t * d
        if t * np.linalg.norm(d) <= tol * max(1.0, np.linalg.norm(w)):
            return W.unravel(w)
    warnings.warn(f"newton_minimize did not converge in {maxiter} steps (last gradient norm {gnorm:.3g}); "
                  "raise maxiter or check that the training loss is smooth and strongly convex.",
                  ImplicitWarning, stacklevel=2)
    return W.unravel(w)


# ---- differentiating through an inner solver: a primitive whose rules are the implicit function theorem -----
def implicit_solution(train_loss: Callable[[Any, Any], Any], *, solver: str = "cg", tol: float = 1e-10,
                      maxiter: int | None = None, neumann_lr: float | None = None) -> Callable:
    """Decorator: make ``solve(hparams) -> w*``, an inner solver minimising ``train_loss(w, hparams)``,
    differentiable by the implicit function theorem instead of through its iterations.

    ``tinyad.grad(lambda h: val_loss(solution(h), h))`` then gives the implicit hypergradient, and so do
    ``tinyad.jvp`` and ``tinyad.hyper.hypergrad``/``optimize`` (``mode="reverse"``: one linear solve for
    all hyperparameters; forward mode solves once per hyperparameter). The decorated solver becomes a
    tinyad primitive: it runs on plain numbers (its own iterations are never traced), and its rules are

        JVP  dw* = −H⁻¹ (∂λ∇w L_train) dλ          VJP  dλ̄ = −(∂λ∇w L_train)ᵀ H⁻¹ w̄

    each one linear solve (``solver``, ``tol``, ``maxiter``, ``neumann_lr`` as in
    :func:`implicit_hypergrad`, with the same warnings). First derivatives only: a second derivative
    through the solution (``tinyad.hessian`` of it, or a jvp of a grad) raises NotImplementedError.
    The result is only as good as the solver: w* must be a minimum of ``train_loss``.
    """
    _check_solver(solver, tol, maxiter)

    def rules(hparams_flat: _Flat, found: dict) -> tuple[Callable, Callable]:
        def unpack(direction: Any, ans: Any, theta: Any, mode: str) -> tuple:
            if any(_is_box(a) for a in (direction, ans, theta)):
                raise NotImplementedError(
                    f"implicit_solution({found['name']}): higher-order derivatives through an implicit solution are "
                    f"not supported (its {mode} rule solves a linear system on plain numbers). Differentiate it "
                    "once: tinyad.grad, tinyad.vjp, tinyad.jvp, tinyad.hyper.hypergrad.")
            W = found["W"]
            w, h = W.unravel(ans), hparams_flat.unravel(theta)
            return W, w, h, _hessian_matvec(train_loss, w, h, W)

        def jvp_rule(g: Any, ans: Any, theta: Any) -> np.ndarray:
            W, w, h, matvec = unpack(g, ans, theta, "jvp")
            _, mixed = jvp(lambda h_: grad(train_loss)(w, h_), (h,), (hparams_flat.unravel(g),))
            b = W.ravel(mixed)
            return -_solve(matvec, b, solver, tol, maxiter, neumann_lr, f"implicit_solution({found['name']})",
                           stacklevel=2).x

        def vjp_rule(g: Any, ans: Any, theta: Any) -> np.ndarray:
            W, w, h, matvec = unpack(g, ans, theta, "vjp")
            x = _solve(matvec, np.asarray(g, dtype=float), solver, tol, maxiter, neumann_lr,
                       f"implicit_solution({found['name']})", stacklevel=2).x
            return -hparams_flat.ravel(_mixed_vjp(train_loss, w, h, W.unravel(x)))

        return jvp_rule, vjp_rule

    def decorate(solve: Callable[[Any], Any]) -> Callable[[Any], Any]:
        name = getattr(solve, "__name__", "solve")

        @functools.wraps(solve)
        def solution(hparams: Any) -> Any:
            _check_floats(hparams, "hparams", allow_boxes=True)
            leaves, _ = flatten(hparams)
            hparams_flat = _Flat(hparams)
            found = {"name": name}  # the weights' structure, known once the solver has run

            def run_solver(theta: np.ndarray) -> np.ndarray:
                w = solve(hparams_flat.unravel(theta))
                _check_floats(w, f"the result of {name}")
                found["W"] = _Flat(w)
                return found["W"].ravel(w)

            prim = Primitive(run_solver, name=f"implicit_solution({name})")
            jvp_rule, vjp_rule = rules(hparams_flat, found)
            prim.defjvp(jvp_rule)
            prim.defvjp(vjp_rule)
            w_flat = prim(tnp.concatenate([tnp.reshape(x, (-1,)) for x in leaves]))  # runs the solver
            return found["W"].unravel(w_flat)

        return solution

    return decorate
