"""tinyad.hyper: one-pass hypergradients, the outer loop, reparametrisations, bad input, memory."""

import gc
import tracemalloc
import warnings

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp
from tinyad import hyper, optim

from .test_optim import CASES, make_run


def quadratic_run(h, T=10):
    """The seed demo's inner problem: L(a) = (5a - 10)^2, a <- a - alpha dL/da from a = 1."""
    import tinyad

    a = 1.0
    for _ in range(T):
        a = a - h["alpha"] * tinyad.grad(lambda a: (5 * a - 10) ** 2)(a)
    return (5 * a - 10) ** 2


def test_quadratic_hypergradient_in_closed_form():
    # L_T = 25 (1 - 50 alpha)^(2T), so dL/dalpha = -2500 T (1 - 50 alpha)^(2T - 1)
    value, g = hyper.hypergrad(quadratic_run, {"alpha": 0.001})
    assert value == pytest.approx(25 * 0.95 ** 20, rel=1e-13)
    assert g["alpha"] == pytest.approx(-2500 * 10 * 0.95 ** 19, rel=1e-13)


def test_optimize_improves_and_keeps_hyperparameters_valid():
    make_opt, h = CASES["sgd"]
    res = hyper.optimize(make_run(make_opt), {"lr": 0.05, "momentum": 0.5, "wd": 0.01}, optim.adam(0.1), 15,
                         progress=False)
    assert res.stopped is None and len(res.history) == 16
    assert res.loss < res.history[0]["loss"] * 0.98
    assert all(b["loss"] <= a["loss"] + 1e-12 for a, b in zip(res.history[:3], res.history[1:4]))
    for row in res.history:
        assert row["hparams"]["lr"] > 0 and 0 < row["hparams"]["momentum"] < 1 and row["hparams"]["wd"] > 0


def test_default_constraints_from_names():
    assert hyper.default_constraint("lr") == "positive"
    assert hyper.default_constraint("opt.weight_decay") == "positive"
    assert hyper.default_constraint("momentum") == "unit"
    assert hyper.default_constraint("b2") == "unit"
    assert hyper.default_constraint("offset") == "real"


@pytest.mark.parametrize("bad, word", [({"lr": 0.1, "steps": 10}, "'steps'.*integer"),
                                       ({"lr": 0.1, "name": "adam"}, "'name'")])
def test_non_differentiable_hyperparameter_is_named(bad, word):
    with pytest.raises(TypeError, match=word):
        hyper.hypergrad(lambda h: h["lr"] * 2.0, bad)


def test_nan_hypergradient_stops_with_step_and_name_and_keeps_last_good():
    def run(h):
        # blows up once lr passes 0.2: the loss becomes sqrt of a negative number
        return tnp.sqrt(0.2 - h["lr"]) + h["offset"] ** 2

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = hyper.optimize(run, {"lr": 0.1, "offset": 1.0}, optim.sgd(2.0), 20, progress=False)
    assert res.stopped is not None and "outer step" in res.stopped and "'lr'" in res.stopped
    assert any(issubclass(w.category, hyper.HypergradientWarning) for w in caught)
    assert 0 < res.hparams["lr"] < 0.2 and np.isfinite(res.loss)
    assert res.history[-1]["hparams"] == res.hparams


def peak_bytes(f):
    gc.collect()  # also empties CPython's free lists, which would otherwise count as "memory in use"
    tracemalloc.start()
    f()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_forward_memory_does_not_grow_with_steps_reverse_does():
    """A 120x120 layer (115 KB per array, x4 with k = 3 tangents): peak memory of the one-pass forward
    hypergradient is flat in T; reverse mode through the unrolled loop stores every step."""
    r = np.random.default_rng(0)
    Xb, Yb, W0 = r.standard_normal((16, 120)), r.standard_normal((16, 120)), r.standard_normal((120, 120)) * 0.05

    def run(h, T):
        opt = optim.sgd(h["lr"], h["momentum"], weight_decay=h["wd"])
        p, s = {"W": W0}, opt.init({"W": W0})
        for _ in range(T):
            g = tinyad.grad(lambda p: tnp.mean((tnp.tanh(Xb @ p["W"]) - Yb) ** 2))(p)
            p, s = opt.update(g, s, p)
        return tnp.mean(p["W"] ** 2)

    h = {"lr": 0.1, "momentum": 0.9, "wd": 1e-3}
    fwd = [peak_bytes(lambda T=T: hyper.hypergrad(lambda h: run(h, T), h)) for T in (20, 200)]
    rev = [peak_bytes(lambda T=T: hyper.hypergrad(lambda h: run(h, T), h, mode="reverse")) for T in (20, 200)]
    assert fwd[1] <= 1.1 * fwd[0], fwd
    assert rev[1] > 5 * rev[0], rev


def noisy_run(h, seed):
    """Closed form: (lr - r)^2 with r drawn from the seed, so d/dlr = 2 (lr - r)."""
    r = np.random.default_rng(seed).standard_normal()
    return (h["lr"] - r) ** 2 + 0.0 * h["wd"]


def test_seed_averaged_hypergradient_is_the_mean_with_its_standard_error():
    seeds = [0, 1, 2, 3, 4]
    r = np.array([np.random.default_rng(s).standard_normal() for s in seeds])
    avg = hyper.hypergrad(noisy_run, {"lr": 0.5, "wd": 0.1}, seeds=seeds)
    assert avg.n == 5
    assert avg.value == pytest.approx(np.mean((0.5 - r) ** 2), rel=1e-14)
    assert avg.grad["lr"] == pytest.approx(np.mean(2 * (0.5 - r)), rel=1e-14)
    assert avg.grad_stderr["lr"] == pytest.approx(np.std(2 * (0.5 - r), ddof=1) / np.sqrt(5), rel=1e-12)
    assert avg.grad["wd"] == 0.0 and avg.grad_stderr["wd"] == 0.0
    one = hyper.hypergrad(noisy_run, {"lr": 0.5, "wd": 0.1}, seeds=[7])
    assert np.isnan(one.value_stderr) and np.isnan(one.grad_stderr["lr"])


def test_seed_average_is_the_same_on_threads():
    from concurrent.futures import ThreadPoolExecutor

    serial = hyper.hypergrad(noisy_run, {"lr": 0.5, "wd": 0.1}, seeds=range(6))
    with ThreadPoolExecutor(3) as pool:
        threaded = hyper.hypergrad(noisy_run, {"lr": 0.5, "wd": 0.1}, seeds=range(6), executor=pool)
    assert threaded == serial


def test_seed_averaging_bad_input():
    from concurrent.futures import ProcessPoolExecutor

    h = {"lr": 0.5, "wd": 0.1}
    with pytest.raises(TypeError, match="seeds must be a list"):
        hyper.hypergrad(noisy_run, h, seeds=5)
    with pytest.raises(ValueError, match="empty"):
        hyper.hypergrad(noisy_run, h, seeds=[])
    with pytest.raises(ValueError, match="without seeds"):
        hyper.hypergrad(quadratic_run, h, executor=object())
    with pytest.raises(TypeError, match="executor must have a submit"):
        hyper.hypergrad(noisy_run, h, seeds=[1], executor="processes")
    with ProcessPoolExecutor(1) as pool, pytest.raises(TypeError, match="run cannot be pickled.*module"):
        hyper.hypergrad(lambda h, s: noisy_run(h, s), h, seeds=[1, 2], executor=pool)
