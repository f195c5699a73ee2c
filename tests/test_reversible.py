"""Exactly reversible learning: bit-exact recovery, hypergradients vs forward mode / unrolled reverse /
finite differences, buffer size, memory, and clear errors."""

from fractions import Fraction

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp
from tinyad import reversible as R

rng = np.random.default_rng(0)
X = rng.standard_normal((40, 5))
Y = X @ rng.standard_normal(5) + 0.1 * rng.standard_normal(40)
P0 = {"w": rng.standard_normal(5) * 0.1, "b": np.zeros(1)}


def train_loss(p, meta, t):
    i = (10 * t) % 40
    Xb = X[i:i + 10] if meta is None or "X" not in meta else meta["X"][i:i + 10]
    fit = tnp.mean((Xb @ p["w"] + p["b"] - Y[i:i + 10]) ** 2)
    return fit if meta is None or "l2" not in meta else fit + tnp.sum(meta["l2"] * p["w"] ** 2)


def val_loss(p):
    return tnp.mean((X @ p["w"] + p["b"] - Y) ** 2)


def float_run(alphas, gammas, p0, meta, groups=(0, 0)):
    """The same training in ordinary float64 tinyad ops (differentiable by any mode)."""
    alphas = alphas if np.ndim(alphas) == 2 else tnp.reshape(alphas, (-1, 1))
    gammas = gammas if np.ndim(gammas) == 2 else tnp.reshape(gammas, (-1, 1))
    p, v = p0, {k: np.zeros(np.shape(x)) for k, x in p0.items()}
    for t in range(np.shape(alphas)[0]):
        g = tinyad.grad(train_loss)(p, meta, t)
        gr = dict(zip(p, groups))
        v = {k: gammas[t, gr[k]] * v[k] - (1 - gammas[t, gr[k]]) * g[k] for k in p}
        p = {k: p[k] + alphas[t, gr[k]] * v[k] for k in p}
    return val_loss(p)


def test_bit_exact_recovery_after_1000_steps_with_spills():
    T = 1000
    for gammas in (np.full(T, 0.9), [Fraction(1, 2), 0.9, 0.99, 1.0, Fraction(7, 8)] * (T // 5)):
        alphas = 0.02 + 0.01 * np.sin(np.arange(T))
        run = R.ReversibleSGD(train_loss, alphas, gammas)
        state, layout = run.forward(P0, v0={"w": np.full(5, 0.01), "b": np.array([-0.02])})
        assert state.spills, "1000 steps at these momenta must overflow one buffer word and spill"
        back = run.backward(state, layout)
        np.testing.assert_array_equal(back["w0"], run._encode(layout.flat(P0), "", 0, layout))
        np.testing.assert_array_equal(back["v0"], run._encode(np.array([0.01] * 5 + [-0.02]), "", 0, layout))


def test_buffer_information_per_step_is_log2_of_one_over_gamma():
    T = 1000
    run = R.ReversibleSGD(train_loss, np.full(T, 0.02), np.full(T, 0.9))
    state, _ = run.forward(P0)
    per = state.information_bits() / (T * state.w.size)
    expected = np.log2(10 / 9)
    assert expected / 1.5 <= per <= expected * 1.5, (per, expected)


def test_hypergradients_match_forward_mode_unrolled_reverse_and_finite_differences():
    T = 12
    alphas = np.linspace(0.03, 0.06, T)
    gammas = np.full(T, 0.9)
    meta = {"l2": np.full(5, 0.01), "X": X.copy()}
    res = R.hypergrad(train_loss, val_loss, P0, alphas, gammas, meta=meta)
    # forward mode (hybrid: jacfwd through a loop with grad inside)
    Ja = tinyad.jacfwd(lambda a: float_run(a, gammas, P0, meta))(alphas)
    Jg = tinyad.jacfwd(lambda g: float_run(alphas, g, P0, meta))(gammas)
    np.testing.assert_allclose(res.d_alphas[:, 0], Ja, rtol=1e-9)
    np.testing.assert_allclose(res.d_gammas[:, 0], Jg, rtol=1e-9, atol=1e-12)
    # reverse mode through the unrolled float run
    gp, gm = tinyad.grad(lambda p, m: float_run(alphas, gammas, p, m), argnums=(0, 1))(P0, meta)
    for k in P0:
        np.testing.assert_allclose(res.d_params0[k], gp[k], rtol=1e-9)
    for k in meta:
        np.testing.assert_allclose(res.d_meta[k], gm[k], rtol=1e-8, atol=1e-13)
    # finite differences on a few entries
    h = 1e-6
    for t in (0, 5, 11):
        e = np.zeros(T)
        e[t] = h
        fd = (float_run(alphas + e, gammas, P0, meta) - float_run(alphas - e, gammas, P0, meta)) / (2 * h)
        assert res.d_alphas[t, 0] == pytest.approx(fd, rel=1e-6)
    e = np.zeros(5)
    e[2] = h
    fd = (float_run(alphas, gammas, P0, {**meta, "l2": meta["l2"] + e})
          - float_run(alphas, gammas, P0, {**meta, "l2": meta["l2"] - e})) / (2 * h)
    assert res.d_meta["l2"][2] == pytest.approx(fd, rel=1e-6)


def test_per_group_schedules():
    T = 8
    alphas = np.stack([np.full(T, 0.05), np.full(T, 0.02)], axis=1)  # w in group 0, b in group 1
    gammas = np.stack([np.full(T, 0.9), np.full(T, 0.5)], axis=1)
    res = R.hypergrad(train_loss, val_loss, P0, alphas, gammas, groups=[0, 1])  # container order: w, b
    J = tinyad.jacfwd(lambda a: float_run(a, gammas, P0, None, groups=(0, 1)))(alphas)
    np.testing.assert_allclose(res.d_alphas, J, rtol=1e-9)
    assert res.d_alphas.shape == (T, 2)


def test_memory_is_far_below_the_trajectory():
    T = 1000
    res = R.hypergrad(train_loss, val_loss, P0, np.full(T, 0.02), np.full(T, 0.9))
    assert res.stats["trajectory_bytes"] / res.stats["bytes"] >= 100, res.stats


def test_bad_input_is_named():
    with pytest.raises(R.ExactArithmeticError, match="not a fraction"):
        R.ReversibleSGD(train_loss, [0.1], [np.pi / 4])
    with pytest.raises(R.ExactArithmeticError, match=r"\(0, 1\]"):
        R.ReversibleSGD(train_loss, [0.1], [1.5])
    with pytest.raises(R.ExactArithmeticError, match=r"step \d+: .*'w'.*fixed-point range"):
        R.hypergrad(train_loss, val_loss, P0, np.full(60, 5.0), np.full(60, 0.5))  # diverges
    with pytest.raises(ValueError, match="groups"):
        R.hypergrad(train_loss, val_loss, P0, np.ones((3, 2)) * 0.01, np.full((3, 2), 0.9), groups=[0, 5])


def test_non_deterministic_loss_is_detected_on_the_way_back():
    noise = np.random.default_rng(1)

    def noisy(p, meta, t):
        return train_loss(p, meta, t) + noise.standard_normal() * tnp.sum(p["w"])  # global RNG: not replayable

    with pytest.raises(R.RecoveryError, match="not recover"):
        R.hypergrad(noisy, val_loss, P0, np.full(30, 0.02), np.full(30, 0.9))
