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
        v0 = {"w": np.full(5, 0.01), "b": np.array([-0.02])}
        state, layout = run.forward(P0, v0=v0)
        assert state.spills, "1000 steps at these momenta must overflow one buffer word and spill"
        back = run.backward(state, layout)
        np.testing.assert_array_equal(back["w0"], run._encode(layout.flat(P0), "", 0, layout))
        np.testing.assert_array_equal(back["v0"], run._encode(layout.flat(v0), "", 0, layout))


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
    res = R.hypergrad(train_loss, val_loss, P0, alphas, gammas, groups={"w": 0, "b": 1})
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


# ---- storage of the information buffer -----------------------------------------------------------------
def test_pack_bits_round_trips_at_every_width():
    from tinyad.kernels.exact import pack_bits, unpack_bits

    r = np.random.default_rng(2)
    for width in range(64):
        for n in (0, 1, 3, 64, 65, 129):
            top = 2 ** width - 1
            words = r.integers(0, top, n, dtype=np.int64, endpoint=True)
            words[:1] = top  # the largest word of this width, straddling uint64 boundaries further on
            packed = pack_bits(words, width)
            assert packed.nbytes == 8 * -(-n * width // 64)
            np.testing.assert_array_equal(unpack_bits(packed, width, n), words)


def test_groups_with_different_momenta_spill_whole_groups_and_recover_exactly():
    T = 400
    alphas = np.stack([np.full(T, 0.02), np.full(T, 0.01)], axis=1)  # w in group 0, b in group 1
    gammas = np.empty((T, 2), dtype=object)
    gammas[:, 0] = 0.9  # spills about every 380 steps
    gammas[:, 1] = [Fraction(1, 2), 1.0] * (T // 2)  # about every 120 steps (1 bit on even steps, 0 on odd)
    run = R.ReversibleSGD(train_loss, alphas, gammas, groups={"w": 0, "b": 1})
    v0 = {"w": np.full(5, 0.01), "b": np.array([-0.02])}
    state, layout = run.forward(P0, v0=v0)
    spilled = {(t, g) for t, g, _ in state.spills}
    assert {g for _, g in spilled} == {0, 1} and len({t for t, _ in spilled}) == len(spilled), spilled
    assert all(p.count == len(layout.group_index[g]) for _, g, p in state.spills)  # whole groups, no indices
    back = run.backward(state, layout)
    np.testing.assert_array_equal(back["w0"], run._encode(layout.flat(P0), "", 0, layout))
    np.testing.assert_array_equal(back["v0"], run._encode(layout.flat(v0), "", 0, layout))


def test_buffer_occupies_close_to_its_information_and_180x_less_than_a_float32_trajectory():
    """T = 1000 at gamma = 0.9 on 1000 parameters: the stored buffer (packed spills and live words, headers
    included) is within 25% of the information it holds, and >= 180x below 32 bits x parameters x T."""
    r = np.random.default_rng(3)
    Xm, Ym = r.standard_normal((200, 20)), r.standard_normal((200, 50))

    def loss(p, meta, t):
        i = (10 * t) % 200
        return tnp.mean((Xm[i:i + 10] @ p["W"] - Ym[i:i + 10]) ** 2)

    T = 1000
    run = R.ReversibleSGD(loss, np.full(T, 0.05), 0.9)
    state, layout = run.forward({"W": 0.1 * r.standard_normal((20, 50))})
    st = run.memory_stats(state, layout)
    assert st["spills"] >= 1
    assert st["buffer_bits_per_param_step"] <= st["occupied_bits_per_param_step"] <= 1.25 * st[
        "buffer_bits_per_param_step"], st
    assert st["ratio_vs_float32_w"] >= 180, st
    assert st["ratio_vs_float32_w"] == pytest.approx(32 * 1000 * T / (8 * state.buffer_nbytes()))
    assert st["bytes"] == state.w.nbytes + state.v.nbytes + st["buffer_bytes"]


# ---- every argument checked up front, every value where it arises --------------------------------------------
def first_out_of_range(alphas, gammas, bound=1024.0):
    """(step, value) where the float64 run of the same training first leaves |x| < bound, checked in the order
    the exact run checks: gradient steps, velocities, parameter steps, parameters (each flattened)."""
    p = dict(P0)
    v = {k: np.zeros_like(x) for k, x in P0.items()}
    for t in range(len(alphas)):
        g = tinyad.grad(train_loss)(p, None, t)
        step = {k: (1 - gammas[t]) * g[k] for k in p}
        v = {k: gammas[t] * v[k] - step[k] for k in p}
        dp = {k: alphas[t] * v[k] for k in p}
        p = {k: p[k] + dp[k] for k in p}
        for stage in (step, v, dp, p):
            x = np.concatenate([np.ravel(a) for a in tinyad.tree.flatten(stage)[0]])  # the exact run's order
            if np.any(np.abs(x) >= bound):
                return t, x[np.argmax(np.abs(x) >= bound)]
    return None


def test_range_errors_report_the_true_value_and_step():
    import re

    alphas, gammas = np.full(60, 5.0), np.full(60, 0.5)
    t_ref, x_ref = first_out_of_range(alphas, gammas)
    with pytest.raises(R.ExactArithmeticError, match="fixed-point range") as e:
        R.hypergrad(train_loss, val_loss, P0, alphas, gammas)
    msg = str(e.value)
    t, x = re.match(r"step (\d+): .* is (\S+), outside", msg).groups()
    assert int(t) == t_ref and float(x) == pytest.approx(x_ref, rel=1e-8), (msg, t_ref, x_ref)
    assert "'w'" in msg and "steps count from 0 to T - 1 = 59" in msg


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_learning_rates_are_refused_up_front(bad):
    calls = []

    def counted(p, meta, t):
        calls.append(t)
        return train_loss(p, meta, t)

    alphas = np.full((4, 2), 0.01)
    alphas[2, 1] = bad
    with pytest.raises(ValueError, match=r"alphas\[2, 1\] = -?(nan|inf) is not finite \(step 2, group 1"):
        R.hypergrad(counted, val_loss, P0, alphas, 0.9, groups=[0, 1])
    assert not calls


def test_a_huge_learning_rate_is_reported_not_wrapped():
    with pytest.raises(R.ExactArithmeticError, match=r"step 1: the parameter step alpha v of '[wb]' is -?\d\.\d+e\+299"
                                                     r".*alphas\[1, 0\] is too large"):
        R.hypergrad(train_loss, val_loss, P0, [0.1, 1e300, 0.1], 0.9)


def test_nan_gradients_are_blamed_on_the_loss_not_the_learning_rate():
    def nan_at_3(p, meta, t):
        return train_loss(p, meta, t) * (np.nan if t == 3 else 1.0)

    with pytest.raises(R.ExactArithmeticError, match=r"step 3: train_loss returned non-finite gradients \(nan for "
                                                     r"'[wb]'.*not a fixed-point range problem") as e:
        R.hypergrad(nan_at_3, val_loss, P0, np.full(6, 0.01), 0.9)
    assert "lower the learning rate" not in str(e.value).lower()


def test_v0_must_have_the_structure_of_params0():
    T = 6
    ordered = {"w": np.full(5, 0.01), "b": np.array([-0.02])}
    reordered = {"b": np.array([-0.02]), "w": np.full(5, 0.01)}
    a = R.hypergrad(train_loss, val_loss, P0, np.full(T, 0.02), 0.9, v0=ordered)
    b = R.hypergrad(train_loss, val_loss, P0, np.full(T, 0.02), 0.9, v0=reordered)
    np.testing.assert_array_equal(a.d_alphas, b.d_alphas)
    for k in P0:
        np.testing.assert_array_equal(a.params_final[k], b.params_final[k])
        np.testing.assert_array_equal(a.d_v0[k], b.d_v0[k])
    zero_v0 = R.hypergrad(train_loss, val_loss, P0, np.full(T, 0.02), 0.9)
    assert not np.array_equal(a.params_final["w"], zero_v0.params_final["w"])  # v0 was used
    for bad in ({"w": np.zeros(5), "c": np.zeros(1)}, [np.zeros(5), np.zeros(1)], {"w": np.zeros(5)}):
        with pytest.raises(ValueError, match="v0 must have exactly the structure of params0"):
            R.hypergrad(train_loss, val_loss, P0, np.full(T, 0.02), 0.9, v0=bad)
    with pytest.raises(ValueError, match=r"v0 'w' has shape \(1,\), but params0 'w' has shape \(5,\)"):
        R.hypergrad(train_loss, val_loss, P0, np.full(T, 0.02), 0.9, v0={"w": np.zeros(1), "b": np.zeros(1)})
    with pytest.raises(ValueError, match="v0 'b' contains nan"):
        R.hypergrad(train_loss, val_loss, P0, np.full(T, 0.02), 0.9, v0={"w": np.zeros(5), "b": np.full(1, np.nan)})


def test_radix_bits_are_validated_and_set_the_range():
    for bad, err in ((0, ValueError), (61, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(err, match="radix_bits"):
            R.ReversibleSGD(train_loss, [0.1], 0.9, radix_bits=bad)
    big = {"w": np.full(5, 3000.0), "b": np.zeros(1)}  # beyond 1024 = 2**(62 - 52)
    with pytest.raises(R.ExactArithmeticError, match=r"initial value of 'w' is 3000.*\|x\| < 1024"):
        R.ReversibleSGD(train_loss, np.full(3, 1e-9), 0.9).forward(big)
    run = R.ReversibleSGD(train_loss, np.full(3, 1e-9), 0.9, radix_bits=40)  # |x| < 2**22
    state, layout = run.forward(big)
    np.testing.assert_array_equal(run.backward(state, layout)["w0"], run._encode(layout.flat(big), "", 0, layout))


def test_schedules_must_match_the_groups_the_parameters_use():
    with pytest.raises(ValueError, match=r"alphas has shape \(6, 3\): 3 groups, but groups = \[0, 1\] puts no "
                                         r"parameter array in group\(s\) \[2\]"):
        R.hypergrad(train_loss, val_loss, P0, np.full((6, 3), 0.01), 0.9, groups=[0, 1])
    with pytest.raises(ValueError, match=r"alphas has shape \(6, 3\): 3 groups, but params0 has 2 arrays"):
        R.hypergrad(train_loss, val_loss, P0, np.full((6, 3), 0.01), 0.9)
    with pytest.raises(ValueError, match=r"gammas must .* like alphas \(6, 2\), got \(6, 3\)"):
        R.hypergrad(train_loss, val_loss, P0, np.full((6, 2), 0.01), np.full((6, 3), 0.9), groups=[0, 1])
    with pytest.raises(TypeError, match="groups must be ints"):
        R.hypergrad(train_loss, val_loss, P0, np.full((6, 2), 0.01), 0.9, groups=[0.0, 1.0])
    with pytest.raises(ValueError, match="groups must give each of the 2 parameter arrays"):
        R.hypergrad(train_loss, val_loss, P0, np.full((6, 2), 0.01), 0.9, groups=[0, 1, 1])
    res = R.hypergrad(train_loss, val_loss, P0, np.full((6, 2), 0.01), 0.9)  # implied: one group per array
    assert res.d_alphas.shape == (6, 2)


def test_groups_in_the_structure_of_params0_are_matched_by_key():
    T = 5
    alphas = np.stack([np.full(T, 0.05), np.full(T, 0.02)], axis=1)
    in_flattening_order = [{"w": 0, "b": 1}[name] for name in R._leaf_names(P0)]
    by_position = R.hypergrad(train_loss, val_loss, P0, alphas, 0.9, groups=in_flattening_order)
    by_key = R.hypergrad(train_loss, val_loss, P0, alphas, 0.9, groups={"b": 1, "w": 0})
    np.testing.assert_array_equal(by_key.d_alphas, by_position.d_alphas)
    swapped = R.hypergrad(train_loss, val_loss, P0, alphas, 0.9, groups={"b": 0, "w": 1})
    assert not np.allclose(swapped.d_alphas, by_key.d_alphas)
    with pytest.raises(ValueError, match="groups must give each of the 2 parameter arrays"):
        R.hypergrad(train_loss, val_loss, P0, alphas, 0.9, groups={"w": 0, "c": 1})
    with pytest.raises(TypeError, match="groups must give the group of each parameter array"):
        R.hypergrad(train_loss, val_loss, P0, alphas, 0.9, groups=0)


def test_malformed_arguments_are_named():
    cases = [  # (arguments changed from a valid call, error, key words)
        ({"params0": {}}, ValueError, "params0 holds no arrays"),
        ({"params0": {"w": np.zeros(5, int), "b": np.zeros(1)}}, TypeError, "params0 'w' has dtype int64"),
        ({"params0": {"w": np.full(5, np.inf), "b": np.zeros(1)}}, ValueError, "params0 'w' contains inf"),
        ({"gammas": np.nan}, ValueError, r"gammas\[0, 0\] = nan is not finite"),
        ({"gammas": None}, TypeError, "gammas is None"),
        ({"gammas": [0.9, None, 0.9]}, TypeError, r"gammas\[1, 0\] = None is not a number"),
        ({"alphas": []}, ValueError, r"alphas has shape \(0,\): it needs at least one step"),
        ({"alphas": 0.1}, ValueError, r"alphas must have shape \(T,\) or \(T, groups\)"),
        ({"alphas": ["a", "b"]}, TypeError, "alphas must hold real numbers"),
        ({"alphas": np.full(3, 0.1 + 0j)}, TypeError, "alphas must hold real numbers"),
        ({"meta": {"l2": np.ones(5, int)}}, TypeError, "meta 'l2' has dtype int64"),
        ({"meta": {"l2": np.full(5, np.nan)}}, ValueError, "meta 'l2' contains nan"),
        ({"train_loss": None}, TypeError, "train_loss must be a function"),
        ({"train_loss": lambda p, meta, t: None}, TypeError, "step 0: train_loss: .*returned None"),
        ({"train_loss": lambda p, meta, t: p["w"] * 2.0}, TypeError, "scalar"),
        ({"val_loss": lambda p: tnp.sum(p["w"]) * np.nan}, ValueError, "val_loss returned nan"),
        ({"val_loss": "loss"}, TypeError, "val_loss must be a function"),
    ]
    for change, err, words in cases:
        args = {"train_loss": train_loss, "val_loss": val_loss, "params0": P0, "alphas": np.full(3, 0.01),
                "gammas": 0.9, **change}
        with pytest.raises(err, match=words):
            R.hypergrad(**args)


def test_v0_is_checked_on_the_way_back():
    """With gamma = 1/2 (n = 1) the buffer does not depend on v, so a gradient at w_0 that differs backwards
    changes only the recovered v_0: w_0 and the empty buffer alone would not notice."""
    calls = []

    def differs_on_recomputation(p, meta, t):
        calls.append(t)
        extra = 1e-3 * tnp.sum(p["w"]) if t == 0 and calls.count(0) > 1 else 0.0
        return train_loss(p, meta, t) + extra

    with pytest.raises(R.RecoveryError, match="not recover"):
        R.hypergrad(differs_on_recomputation, val_loss, P0, np.full(5, 0.02), Fraction(1, 2))
