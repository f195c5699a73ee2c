"""Implicit hypergradients: closed forms, agreement with the forward hypergradient of long runs, diagnostics."""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp
from tinyad import datasets, hyper, optim

# ---- ridge regression: w*(λ) and its derivative in closed form -------------------------------------------
rng = np.random.default_rng(0)
N, D = 50, 8
X = rng.standard_normal((N, D)) * np.linspace(0.3, 2.0, D)  # unequal column scales: H is not a multiple of I
y = X @ rng.standard_normal(D) + 0.3 * rng.standard_normal(N)
Xv = rng.standard_normal((40, D)) * np.linspace(0.3, 2.0, D)
yv = Xv @ rng.standard_normal(D) + 0.3 * rng.standard_normal(40)


def ridge_train(w, lam):
    """||Xw - y||^2 / n + sum_i lam_i w_i^2 (lam a float: the same strength for every weight)."""
    return tnp.sum((X @ w - y) ** 2) / N + tnp.sum(lam * w ** 2)


def ridge_val(w, lam):
    return tnp.sum((Xv @ w - yv) ** 2) / len(yv)


def ridge_closed_form(lam):
    """w* = A^-1 X^T y / n with A = X^T X / n + Lambda; differentiating A w* = X^T y / n gives
    A dw*/dlam_i + (dLambda/dlam_i) w* = 0, so dw*/dlam = -A^-1 (dLambda/dlam) w*; the hypergradient is
    (dw*/dlam)^T grad L_val(w*)."""
    lam_vec = np.broadcast_to(lam, (D,))
    A = X.T @ X / N + np.diag(lam_vec)
    w = np.linalg.solve(A, X.T @ y / N)
    if np.ndim(lam) == 0:
        dw = -np.linalg.solve(A, w)                 # dLambda/dlam = I
    else:
        dw = -np.linalg.solve(A, np.diag(w))        # column i: dLambda/dlam_i = e_i e_i^T
    g_val = 2 * Xv.T @ (Xv @ w - yv) / len(yv)
    return w, dw.T @ g_val


def rel_err(a, b):
    return np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("lam", [0.1, np.linspace(0.02, 0.5, D)], ids=["one lambda", "per-feature lambda"])
@pytest.mark.parametrize("solver, options", [("cg", {}), ("neumann", {"tol": 1e-13, "maxiter": 5000})])
def test_ridge_matches_closed_form(lam, solver, options):
    w_star, expected = ridge_closed_form(lam)
    res = hyper.implicit_hypergrad(ridge_train, ridge_val, w_star, lam, solver=solver, **options)
    assert rel_err(res.hypergrad, expected) < 1e-8
    assert np.shape(res.hypergrad) == np.shape(lam) and isinstance(res.hypergrad, type(lam))
    assert res.converged and res.status == "converged" and res.residual <= options.get("tol", 1e-10)
    assert res.value == pytest.approx(float(ridge_val(w_star, lam)), rel=1e-14)
    assert res.grad_norm < 1e-12 and res.distance < 1e-12 and res.solver == solver
    assert 0 < res.iterations <= options.get("maxiter", 10 * D)


def test_direct_term_and_containers():
    """A validation loss that depends on the hyperparameters itself adds its partial derivative; w and
    hparams may be containers, with float leaves kept as floats."""
    lam = np.linspace(0.02, 0.5, D)
    w_star, expected = ridge_closed_form(lam)

    def train(w, h):
        return ridge_train(w["w"], h["lam"]) + (w["c"] - h["target"]) ** 2

    def val(w, h):
        return ridge_val(w["w"], h["lam"]) + 0.5 * tnp.sum(h["lam"] ** 2) + w["c"] ** 2

    res = hyper.implicit_hypergrad(train, val, {"w": w_star, "c": 0.7}, {"lam": lam, "target": 0.7})
    assert rel_err(res.hypergrad["lam"], expected + lam) < 1e-8  # + d(0.5 |lam|^2)/dlam
    assert isinstance(res.hypergrad["target"], float)  # c* = target, so d(c*^2)/d target = 2 target
    assert res.hypergrad["target"] == pytest.approx(1.4, rel=1e-10)


def test_newton_minimize_reaches_the_closed_form():
    lam = np.linspace(0.02, 0.5, D)
    w = hyper.newton_minimize(ridge_train, np.zeros(D), lam)
    assert rel_err(w, ridge_closed_form(lam)[0]) < 1e-12
    with pytest.warns(hyper.ImplicitWarning, match="did not converge in 1 steps"):
        hyper.newton_minimize(ridge_train, np.zeros(D), lam, maxiter=1)  # the first CG solve is inexact


# ---- logistic regression: the implicit hypergradient is the T -> infinity limit of the run's ------------
def digits_3_vs_8():
    d = datasets.digits()

    def pick(X, Y):
        label = Y.argmax(1)
        keep = (label == 3) | (label == 8)
        return X[keep], (label[keep] == 8).astype(float)

    return pick(d.X_train, d.Y_train) + pick(d.X_val, d.Y_val)


def test_logistic_per_pixel_l2_agrees_with_forward_hypergradient_of_long_runs():
    """64 per-pixel L2 strengths on 3-vs-8 logistic regression. The forward (hybrid) hypergradient of T
    training steps is d L_val(w_T)/d lam, which tends to the implicit one as T -> infinity: w_T and its
    derivative both converge at the optimiser's linear rate. With heavy-ball momentum tuned to the spectrum
    [mu, L] of the Hessian, that rate is rho = (sqrt(kappa) - 1)/(sqrt(kappa) + 1) (0.95 here), so the gap
    shrinks like rho^T (times a polynomial in T): about 1e-3 at T = 200, 1e-7 at T = 400, 1e-11 at T = 600,
    where it meets the implicit solve's accuracy (tol = 1e-13)."""
    Xt, yt, Xv_, yv_ = digits_3_vs_8()

    def nll(w, X, y):  # log(1 + e^z) - y z: smooth everywhere (|z| stays small here, no overflow)
        z = X @ w["w"] + w["b"]
        return tnp.mean(tnp.log1p(tnp.exp(z)) - y * z)

    def train(w, lam):
        return nll(w, Xt, yt) + tnp.sum(lam * w["w"] ** 2)

    def val(w, lam):
        return nll(w, Xv_, yv_)

    lam = 0.01 * np.exp(np.random.default_rng(0).uniform(-1, 1, 64))
    w0 = {"w": np.zeros(64), "b": 0.0}
    w_star = hyper.newton_minimize(train, w0, lam)
    res = hyper.implicit_hypergrad(train, val, w_star, lam, tol=1e-13)
    assert res.converged and res.distance < 1e-12

    def hessian_at(w):
        return tinyad.hessian(lambda v: train({"w": v[:64], "b": v[64]}, lam))(np.append(w["w"], w["b"]))

    big = np.linalg.eigvalsh(hessian_at(w0)).max()  # logistic curvature is largest at z = 0: an upper bound
    small = np.linalg.eigvalsh(hessian_at(w_star)).min()
    lr = 4 / (np.sqrt(big) + np.sqrt(small)) ** 2
    momentum = ((np.sqrt(big) - np.sqrt(small)) / (np.sqrt(big) + np.sqrt(small))) ** 2

    def run(lam, T):
        opt = optim.sgd(lr, momentum)
        w, state = w0, opt.init(w0)
        for _ in range(T):
            w, state = opt.update(tinyad.grad(train)(w, lam), state, w)
        return val(w, lam)

    errors = []
    for T in (200, 400, 600):
        value, forward = hyper.hypergrad(lambda h: run(h, T), lam)  # 64 tangents through T steps
        errors.append(rel_err(forward, res.hypergrad))
    assert errors[0] > 100 * errors[1] > 100 * 100 * errors[2]  # converging as T grows, not equal by accident
    assert errors[2] < 1e-9
    assert value == pytest.approx(res.value, rel=1e-12)


# ---- the decorator: derivatives through an inner solver, by the implicit function theorem --------------
def ridge_dict_train(w, h):
    return ridge_train(w["w"], h["lam"]) + h["s"] * w["c"] ** 2 + (w["c"] - 1.0) ** 2


@hyper.implicit_solution(ridge_dict_train)
def ridge_solution(h):
    return hyper.newton_minimize(ridge_dict_train, {"w": np.zeros(D), "c": 0.0}, h)


def dict_objective(h):
    w = ridge_solution(h)
    return ridge_val(w["w"], h["lam"]) + w["c"] ** 2


def test_implicit_solution_in_reverse_and_forward_mode():
    """c* = 1/(1 + s), so d(c*^2)/ds = -2/(1 + s)^3; the lam part is the ridge closed form."""
    h = {"lam": np.linspace(0.02, 0.5, D), "s": 0.5}
    expected_lam = ridge_closed_form(h["lam"])[1]
    g = tinyad.grad(dict_objective)(h)
    assert rel_err(g["lam"], expected_lam) < 1e-8
    assert float(g["s"]) == pytest.approx(-2 / 1.5 ** 3, rel=1e-10)
    _, g_fwd = hyper.hypergrad(dict_objective, h)  # forward mode: one solve per hyperparameter
    assert rel_err(g_fwd["lam"], expected_lam) < 1e-8 and g_fwd["s"] == pytest.approx(float(g["s"]), rel=1e-10)
    w = ridge_solution(h)
    assert isinstance(w["c"], float) and w["c"] == pytest.approx(1 / 1.5, rel=1e-12)


def test_implicit_solution_refuses_second_derivatives():
    with pytest.raises(NotImplementedError, match="higher-order"):
        tinyad.hessian(dict_objective)({"lam": np.linspace(0.02, 0.5, D), "s": 0.5})


# ---- warnings and errors --------------------------------------------------------------------------------
def test_cg_that_stops_early_warns_and_reports_the_true_residual():
    lam = 0.1
    w_star, _ = ridge_closed_form(lam)
    with pytest.warns(hyper.ImplicitWarning, match="stopped after 1 iteration at"):
        res = hyper.implicit_hypergrad(ridge_train, ridge_val, w_star, lam, maxiter=1)
    assert not res.converged and res.status == "maxiter" and res.iterations == 1
    H = 2 * (X.T @ X / N + lam * np.eye(D))  # one CG step from 0 is the steepest-descent step on b
    b = 2 * Xv.T @ (Xv @ w_star - yv) / len(yv)
    x1 = (b @ b) / (b @ H @ b) * b
    assert res.residual == pytest.approx(np.linalg.norm(H @ x1 - b) / np.linalg.norm(b), rel=1e-10)


def test_non_stationary_w_star_warns():
    with pytest.warns(hyper.ImplicitWarning, match="not a stationary point.*Train longer"):
        res = hyper.implicit_hypergrad(ridge_train, ridge_val, np.zeros(D), 0.1)
    assert res.grad_norm > 0.1 and res.distance > 0.5  # from w = 0 the whole optimum is still ahead


def test_negative_curvature_and_divergent_neumann_warn():
    def concave(w, lam):
        return -lam * tnp.sum(w ** 2)  # w = 0 is stationary, but a maximum

    def val(w, lam):
        return tnp.sum((w - 1.0) ** 2)

    with pytest.warns(hyper.ImplicitWarning, match="negative curvature"):
        res = hyper.implicit_hypergrad(concave, val, np.zeros(3), 0.5)
    assert res.status == "negative curvature" and not res.converged
    w_star, _ = ridge_closed_form(0.1)
    with pytest.warns(hyper.ImplicitWarning, match="Neumann series diverged"):
        hyper.implicit_hypergrad(ridge_train, ridge_val, w_star, 0.1, solver="neumann", neumann_lr=10.0)


@pytest.mark.parametrize("call, error, message", [
    (lambda: hyper.implicit_hypergrad(ridge_train, ridge_val, np.zeros(D), 0.1, solver="lbfgs"),
     ValueError, "unknown solver 'lbfgs'"),
    (lambda: hyper.implicit_hypergrad(lambda w, h: (X @ w - y) ** 2, ridge_val, np.zeros(D), 0.1),
     TypeError, "train_loss must return a scalar"),
    (lambda: hyper.implicit_hypergrad(ridge_train, lambda w, h: Xv @ w, np.zeros(D), 0.1),
     TypeError, "val_loss must return a scalar"),
    (lambda: hyper.implicit_hypergrad(ridge_train, ridge_val, np.zeros(D), {"lam": 1}),
     TypeError, "hparams.*int.*floating-point"),
    (lambda: hyper.implicit_hypergrad(ridge_train, ridge_val, np.zeros(D, dtype=int), 0.1),
     TypeError, "w_star.*floating-point"),
    (lambda: hyper.implicit_hypergrad(ridge_train, ridge_val, np.full(D, np.nan), 0.1),
     ValueError, "w_star contains NaN"),
    (lambda: tinyad.grad(lambda lam: hyper.implicit_hypergrad(ridge_train, ridge_val, np.zeros(D), lam).value)(0.1),
     TypeError, "cannot itself be differentiated.*implicit_solution"),
    (lambda: hyper.implicit_hypergrad(ridge_train, ridge_val, np.zeros(D), 0.1, maxiter=2.5),
     ValueError, "maxiter must be None .* whole number >= 1, got 2.5"),
    (lambda: hyper.implicit_hypergrad(ridge_train, ridge_val, np.zeros(D), 0.1, maxiter=0),
     ValueError, "maxiter must be"),
    (lambda: hyper.implicit_hypergrad(ridge_train, ridge_val, np.zeros(D), 0.1, tol=-1.0),
     ValueError, "tol .* must be a number > 0"),
    (lambda: hyper.implicit_solution(ridge_train, maxiter=-3), ValueError, "maxiter must be"),
], ids=["solver", "train scalar", "val scalar", "int hparam", "int weights", "nan weights", "boxes", "maxiter float",
        "maxiter 0", "tol", "decorator maxiter"])
def test_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_non_finite_hypergradient_raises():
    w_star, _ = ridge_closed_form(0.1)
    with np.errstate(invalid="ignore"), pytest.raises(FloatingPointError, match="not finite"):
        hyper.implicit_hypergrad(ridge_train, lambda w, h: tnp.sqrt(-tnp.sum(w ** 2)), w_star, 0.1)


# ---- the demo and the documentation --------------------------------------------------------------------
@pytest.mark.slow
def test_implicit_demo_lowers_validation_loss(tmp_path):
    from tinyad.demos import implicit

    plot = tmp_path / "implicit.png"
    res = implicit.main(["--outer-steps", "3", "--plot", str(plot)])
    assert res["val_after"] < 0.8 * res["val_before"] and res["test_after"] < res["test_before"]
    assert all(row["residual"] <= 1e-10 for row in res["history"])
    assert res["lam"].shape == (64,) and plot.stat().st_size > 10_000


@pytest.mark.slow
def test_every_code_block_in_the_implicit_docs_runs():
    text = (Path(__file__).resolve().parents[1] / "docs" / "implicit.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 3
    for block in blocks:
        with warnings.catch_warnings():
            warnings.simplefilter("error", hyper.ImplicitWarning)  # the examples are meant to run cleanly
            exec(compile(block, "docs/implicit.md", "exec"), {})
