"""Optimizers: update equations, hyperparameters as boxes, hypergradients vs finite differences."""

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp
from tinyad import hyper, optim

rng = np.random.default_rng(1)
X = rng.standard_normal((20, 4))
X[:, 0] = 0.0  # a constant-zero input: W[0] gets an exactly-zero gradient every step
y = rng.standard_normal((20, 1))
params0 = {"W": rng.standard_normal((4, 1)) * 0.3, "b": np.zeros(1)}


def loss(p, Xb, yb):
    return tnp.mean((tnp.tanh(Xb @ p["W"] + p["b"]) - yb) ** 2)


def make_run(make_opt, T=8):
    def run(h):
        opt = make_opt(h)
        p, s = params0, opt.init(params0)
        for t in range(T):
            sl = slice(5 * (t % 4), 5 * (t % 4) + 5)
            p, s = opt.update(tinyad.grad(loss)(p, X[sl], y[sl]), s, p)
        return loss(p, X, y)
    return run


def fd_hypergrad(run, h, rel=1e-6):
    out = {}
    for k, v in h.items():
        e = rel * abs(v)
        out[k] = (run({**h, k: v + e}) - run({**h, k: v - e})) / (2 * e)
    return out


CASES = {
    "sgd": (lambda h: optim.sgd(h["lr"], h["momentum"], weight_decay=h["wd"]),
            {"lr": 0.3, "momentum": 0.8, "wd": 0.01}),
    "nesterov": (lambda h: optim.sgd(h["lr"], h["momentum"], nesterov=True, weight_decay=h["wd"]),
                 {"lr": 0.3, "momentum": 0.8, "wd": 0.01}),
    "adam": (lambda h: optim.adam(h["lr"], h["b1"], h["b2"], h["eps"], h["wd"]),
             {"lr": 0.05, "b1": 0.85, "b2": 0.99, "eps": 1e-3, "wd": 0.01}),
    "rmsprop": (lambda h: optim.rmsprop(h["lr"], h["decay"], h["eps"], h["momentum"], h["wd"]),
                {"lr": 0.02, "decay": 0.9, "eps": 1e-3, "momentum": 0.5, "wd": 0.01}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hypergradients_match_finite_differences(name):
    make_opt, h = CASES[name]
    run = make_run(make_opt)
    value, g = hyper.hypergrad(run, h)
    fd = fd_hypergrad(run, h)
    _, g_rev = hyper.hypergrad(run, h, mode="reverse")
    for k in h:
        assert np.isfinite(g[k])
        assert g[k] == pytest.approx(fd[k], rel=1e-5, abs=1e-9), k
        assert g_rev[k] == pytest.approx(g[k], rel=1e-10, abs=1e-14), k


def test_adam_eps_inside_sqrt_keeps_zero_gradient_parameters_finite():
    """W[0] sees an exactly-zero gradient; with eps = 1e-8 its hypergradient contribution must be finite
    (the textbook sqrt(v) + eps would give 0 * inf = NaN there)."""
    make_opt, h = CASES["adam"]
    _, g = hyper.hypergrad(make_run(make_opt), {**h, "eps": 1e-8})
    assert all(np.isfinite(v) for v in g.values())


def test_sgd_matches_reference_form_and_textbook_numbers():
    p, g = {"w": np.array([1.0])}, {"w": np.array([0.5])}
    opt = optim.sgd(0.1, momentum=0.9, weight_decay=0.2)
    s = opt.init(p)
    p1, s = opt.update(g, s, p)  # g' = 0.5 + 0.2 = 0.7; b = 0.7; w = 1 - 0.07
    assert p1["w"][0] == pytest.approx(0.93)
    p2, s = opt.update(g, s, p1)  # g' = 0.5 + 0.186 = 0.686; b = 0.63 + 0.686 = 1.316; w = 0.93 - 0.1316
    assert p2["w"][0] == pytest.approx(0.93 - 0.1316)


def test_adam_first_step_is_lr_times_sign():
    opt = optim.adam(0.01, eps=1e-12)
    w = {"w": np.array([1.0, 1.0])}
    new, _ = opt.update({"w": np.array([3.0, -0.2])}, opt.init(w), w)
    np.testing.assert_allclose(new["w"], [0.99, 1.01], rtol=1e-9)


def test_per_parameter_hyperparameters():
    make = lambda h: optim.sgd({"W": h["lr_W"], "b": h["lr_b"]})  # noqa: E731
    run = make_run(make)
    h = {"lr_W": np.array([[0.1], [0.2], [0.3], [0.4]]), "lr_b": 0.2}
    value, g = hyper.hypergrad(run, h)
    assert g["lr_W"].shape == (4, 1)
    assert g["lr_W"][0, 0] == 0.0  # the zero-input row never moves
    e = 1e-6
    for i in (1, 3):
        hi = {**h, "lr_W": h["lr_W"].copy()}
        lo = {**h, "lr_W": h["lr_W"].copy()}
        hi["lr_W"][i, 0] += e
        lo["lr_W"][i, 0] -= e
        assert g["lr_W"][i, 0] == pytest.approx((run(hi) - run(lo)) / (2 * e), rel=1e-5)


def test_per_parameter_hyperparameter_structure_must_match():
    opt = optim.sgd({"W": 0.1})
    with pytest.raises(ValueError, match="structure of the parameters"):
        opt.update(params0, opt.init(params0), params0)


@pytest.mark.parametrize("make, error, word", [
    (lambda: optim.adam_hd(0.1, 1e-3, b1=None), TypeError, "'b1' must be a real number"),
    (lambda: optim.sgd_hd(0.1, None), TypeError, "'hyper_lr' must be a real number"),
    (lambda: optim.sgd_hd(0.1, 1e-3, clip="a"), ValueError, "clip must be None or a number > 0"),
    (lambda: optim.rmsprop(0.1, decay=1.5), ValueError, r"'decay' = 1.5 must lie in \[0, 1\]"),
    (lambda: optim.adam(0.1, b2=1.5), ValueError, r"'b2' = 1.5 must lie in \[0, 1\]"),
    (lambda: optim.sgd(0.1, -0.5), ValueError, r"'momentum' = -0.5 must lie in \[0, 1\]"),
    (lambda: optim.adam(0.1, eps=-1.0), ValueError, "'eps' = -1.0 must be >= 0"),
    (lambda: optim.sgd(0.1, 0.9, nesterov="no"), TypeError, "nesterov must be True or False, got 'no'"),
    (lambda: optim.sgd_hd(0.1, 1e-3, nonneg="yes"), TypeError, "nonneg must be True or False"),
])
def test_hyperparameters_are_checked_when_the_optimizer_is_built(make, error, word):
    with pytest.raises(error, match=word):
        make()


def test_a_state_from_another_optimizer_is_named_and_tune_takes_one_name():
    p, g = {"w": np.ones(3)}, {"w": np.ones(3)}
    with pytest.raises(ValueError, match=r"adam.update: the state has no 't' .* this optimizer's init"):
        optim.adam(0.1).update(g, optim.rmsprop(0.1).init(p), p)
    s = optim.stack(optim.sgd(0.1, 0.9), optim.sgd(1e-3), tune="lr")
    assert s.tune == ("lr",)
