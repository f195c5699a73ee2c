"""Online hypergradient descent and hyperoptimizer stacks."""

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp
from tinyad import datasets, nn, optim
from tinyad.testing import check_grads

rng = np.random.default_rng(0)
X = rng.standard_normal((40, 5))
y = X @ rng.standard_normal(5) + 0.1 * rng.standard_normal(40)


def lsq(p, Xb=X, yb=y):
    return tnp.mean((Xb @ p["w"] + p["b"] - yb) ** 2)


def train(opt, loss=lsq, p0=None, steps=15, batches=None):
    p = p0 if p0 is not None else {"w": np.zeros(5), "b": np.zeros(1)}
    s = opt.init(p)
    lrs = []
    for t in range(steps):
        g = tinyad.grad(loss)(p) if batches is None else tinyad.grad(loss)(p, *batches(t))
        p, s = opt.update(g, s, p)
        lrs.append(optim.hyperparams_in_use(opt, s)["lr"])
    return p, s, np.array(lrs)


def test_sgd_hd_by_hand():
    """alpha_1 = alpha_0; alpha_t = alpha_{t-1} + beta g_t . g_{t-1}, summed over ALL arrays."""
    opt = optim.sgd_hd(0.01, 0.5)
    p = {"w": np.zeros(5), "b": np.zeros(1)}
    s = opt.init(p)
    g1 = tinyad.grad(lsq)(p)
    p1, s = opt.update(g1, s, p)
    assert s["lr"] == 0.01
    np.testing.assert_allclose(p1["w"], -0.01 * g1["w"], rtol=1e-15)
    g2 = tinyad.grad(lsq)(p1)
    p2, s = opt.update(g2, s, p1)
    dot = g2["w"] @ g1["w"] + g2["b"] @ g1["b"]
    assert s["lr"] == pytest.approx(0.01 + 0.5 * dot, rel=1e-14)
    np.testing.assert_allclose(p2["w"], p1["w"] - s["lr"] * g2["w"], rtol=1e-14)


def test_starting_from_lr_zero_rises():
    for opt in (optim.sgd_hd(0.0, 1e-2), optim.sgdn_hd(0.0, 1e-3), optim.adam_hd(0.0, 1e-3)):
        _, _, lrs = train(opt)
        assert lrs[0] == 0.0 and lrs[3] > 0.0, opt.name


def digits_mlp_work():
    d = datasets.digits()
    p0 = nn.init_mlp((64, 16, 10), seed=1)

    def loss(p, Xb, Yb):
        return nn.cross_entropy(nn.mlp(p, Xb), Yb)

    def batches(t):
        i = (50 * t) % 1000
        return d.X_train[i:i + 50], d.Y_train[i:i + 50]

    return loss, p0, batches


@pytest.mark.parametrize("hd, stack", [
    (lambda: optim.sgd_hd(0.05, 1e-3), lambda: optim.hyper(optim.sgd(0.05), optim.sgd(1e-3))),
    (lambda: optim.sgdn_hd(0.05, 1e-4, 0.9),
     lambda: optim.hyper(optim.sgd(0.05, 0.9, nesterov=True), optim.sgd(1e-4), tune=("lr",))),
    (lambda: optim.adam_hd(1e-3, 1e-7), lambda: optim.hyper(optim.adam(1e-3), optim.sgd(1e-7), tune=("lr",))),
])
def test_height_two_stack_reproduces_hand_derived_hd(hd, stack):
    """The stack's hypergradient comes from the engine (a VJP of one update); the HD optimizers' from
    Baydin et al.'s formulas. Step for step, the same numbers."""
    loss, p0, batches = digits_mlp_work()
    pa, _, la = train(hd(), loss, p0, 25, batches)
    pb, _, lb = train(stack(), loss, p0, 25, batches)
    np.testing.assert_allclose(lb, la, rtol=1e-12, atol=1e-15)
    for k in p0:
        np.testing.assert_allclose(pb[k], pa[k], rtol=1e-12, atol=1e-14)
    assert la[-1] != la[0]  # the learning rate did move


def test_height_three_hypergradient_is_the_engines_and_matches_finite_differences():
    mid = optim.hyper(optim.sgd(0.01), optim.sgd(1e-3))
    top = optim.hyper(mid, optim.sgd(1e-6))
    p, s, _ = train(top, steps=6)
    # what the top level differentiates: one update of the height-2 stack w.r.t. its hyper learning rate
    p_grads, p_state, p_params = s["prev"]

    def one_step_loss(beta):
        return lsq(mid.with_hyperparams(lr=beta).update(p_grads, p_state, p_params)[0])

    check_grads(one_step_loss, (1e-3,), modes=("fwd", "rev"), order=1)
    levels = top.levels(s)
    assert len(levels) == 2 and levels[1]["lr"] != 1e-3


def test_betas_and_momentum_stay_in_the_unit_interval():
    opt = optim.hyper(optim.adam(0.05, 0.9, 0.99), optim.sgd(0.1))
    _, s, _ = train(opt, steps=30)
    h = opt.levels(s)[0]
    assert 0 < h["b1"] < 1 and 0 < h["b2"] < 1 and abs(h["b1"] - 0.9) > 1e-3
    opt = optim.hyper(optim.sgd(0.01, 0.5), optim.sgd(5.0), tune=("momentum",))
    _, s, _ = train(opt, steps=30)
    assert 0 < opt.levels(s)[0]["momentum"] < 1 and abs(opt.levels(s)[0]["momentum"] - 0.5) > 1e-3


def test_state_does_not_grow_with_steps():
    opt = optim.hyper(optim.hyper(optim.sgd(0.01), optim.sgd(1e-3)), optim.sgd(1e-6))

    def size(s):
        return sum(np.size(x) for x in tinyad.tree_flatten(s)[0])

    assert size(train(opt, steps=5)[1]) == size(train(opt, steps=40)[1])


def test_safeguards():
    p = {"w": np.zeros(2)}
    for nonneg, expected in ((False, 0.01 - 1.0), (True, 0.0)):  # anti-correlated gradients push lr down
        opt = optim.sgd_hd(0.01, 1.0, nonneg=nonneg)
        s = opt.init(p)
        _, s = opt.update({"w": np.array([1.0, 0.0])}, s, p)
        _, s = opt.update({"w": np.array([-1.0, 0.0])}, s, p)
        assert s["lr"] == pytest.approx(expected)
    _, _, lrs = train(optim.sgd_hd(0.01, 1e-3, clip=0.5), steps=10)
    assert np.all(np.abs(np.diff(lrs)) <= 1e-3 * 0.5 + 1e-15)
    _, _, lrs = train(optim.sgd_hd(0.01, 0.1, multiplicative=True), steps=10)
    assert np.all(np.abs(lrs[1:] / lrs[:-1] - 1) <= 0.1 + 1e-12)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="hyper_lr must be >= 0"):
        optim.sgd_hd(0.1, -1e-3)
    with pytest.raises(ValueError, match="multiplicative"):
        optim.adam_hd(0.0, 1e-3, multiplicative=True)
    with pytest.raises(ValueError, match="nothing to tune"):
        optim.hyper(optim.sgd(0.1), optim.sgd(1e-3), tune=())
    with pytest.raises(ValueError, match="no hyperparameter 'beta'"):
        optim.hyper(optim.sgd(0.1), optim.sgd(1e-3), tune=("beta",))
    with pytest.raises(ValueError, match="inside \\(0, 1\\)"):
        optim.hyper(optim.sgd(0.1, momentum=1.0), optim.sgd(1e-3))


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_nan_hypergradient_raises_with_the_step():
    def bad(p):
        return tnp.sum(tnp.sqrt(p["w"]))  # gradient inf at 0

    with pytest.raises(optim.HypergradientError, match="step 2"):
        train(optim.sgd_hd(0.1, 1e-3), loss=bad, p0={"w": np.array([0.0, 1.0])}, steps=3)
    with pytest.raises(optim.HypergradientError, match="'lr'.*step 2"):
        train(optim.hyper(optim.sgd(0.1), optim.sgd(1e-3)), loss=bad, p0={"w": np.array([0.0, 1.0])}, steps=3)


# ---- per-parameter tuning and weight decay (Baydin et al.'s runs; gdtuo's SGDPerParam) ----------------------
def batches(t):
    i = 10 * (t % 4)
    return X[i:i + 10], y[i:i + 10]


def test_per_parameter_sgd_hd_by_hand():
    """One learning rate per parameter array, each moved by its own hypergradient -g_i . dir_i."""
    lr0 = {"w": 0.01, "b": 0.03}
    opt = optim.sgd_hd(lr0, 0.5)
    p = {"w": np.zeros(5), "b": np.zeros(1)}
    s = opt.init(p)
    g1 = tinyad.grad(lsq)(p)
    p1, s = opt.update(g1, s, p)
    np.testing.assert_allclose(p1["b"], -0.03 * g1["b"], rtol=1e-15)
    g2 = tinyad.grad(lsq)(p1)
    p2, s = opt.update(g2, s, p1)
    for k in ("w", "b"):
        lr = lr0[k] + 0.5 * float(np.sum(g2[k] * g1[k]))
        assert s["lr"][k] == pytest.approx(lr, rel=1e-14)
        np.testing.assert_allclose(p2[k], p1[k] - lr * g2[k], rtol=1e-14)
    per_weight = optim.sgd_hd({"w": np.full(5, 0.01), "b": np.full(1, 0.03)}, 0.5)  # one rate per weight
    _, s, _ = train(per_weight, steps=3)
    assert s["lr"]["w"].shape == (5,) and len(set(np.round(s["lr"]["w"], 12))) > 1


@pytest.mark.parametrize("base", ["sgd", "sgdn", "adam"])
def test_per_parameter_stacks_equal_per_parameter_hd(base):
    """The engine's hypergradients (a stack) reproduce the hand-derived per-parameter HD rules."""
    lr0 = {"w": 0.01, "b": 0.02}
    pairs = {
        "sgd": (optim.stack(optim.sgd(lr0), optim.sgd(1e-3)), optim.sgd_hd(lr0, 1e-3)),
        "sgdn": (optim.stack(optim.sgd(lr0, 0.9, nesterov=True), optim.sgd(1e-4), tune=("lr",)),
                 optim.sgdn_hd(lr0, 1e-4, 0.9)),
        "adam": (optim.stack(optim.adam(lr0), optim.sgd(1e-3), tune=("lr",)), optim.adam_hd(lr0, 1e-3)),
    }
    stacked, hd = pairs[base]
    pa, sa, _ = train(stacked, loss=lsq, steps=12, batches=batches)
    pb, sb, _ = train(hd, loss=lsq, steps=12, batches=batches)
    for k in pa:
        np.testing.assert_allclose(pa[k], pb[k], rtol=1e-11, atol=1e-14)
    in_use = optim.hyperparams_in_use(stacked, sa)["lr"]
    for k in lr0:
        assert in_use[k] == pytest.approx(sb["lr"][k], rel=1e-11)
    assert in_use["w"] != in_use["b"]


def test_per_parameter_rates_are_reported_in_use_by_plain_optimizers_and_stacks():
    """A fixed per-parameter learning rate is a hyperparameter in use like a global one (height 1 of a
    per-parameter stack), and a stack over it reports the tuned values in the same structure."""
    lr = {"w": 0.01, "b": np.array([0.02])}
    plain = optim.sgd(lr, 0.9)
    _, s, _ = train(plain, steps=2)
    in_use = optim.hyperparams_in_use(plain, s)
    assert in_use == {"lr": {"w": 0.01, "b": pytest.approx(np.array([0.02]))}, "momentum": 0.9,
                      "weight_decay": 0.0}
    assert isinstance(in_use["lr"]["b"], np.ndarray)
    assert "nesterov" not in in_use  # a flag, not a number
    stacked = optim.stack(optim.sgd(lr, 0.9), optim.sgd(1e-3), tune=("lr",))
    _, s, _ = train(stacked, steps=3, batches=batches)
    tuned = optim.hyperparams_in_use(stacked, s)
    assert set(tuned["lr"]) == {"w", "b"} and tuned["momentum"] == 0.9
    assert tuned["lr"]["w"] != 0.01 and tuned["lr"]["b"].shape == (1,)


@pytest.mark.parametrize("make", [lambda wd: optim.sgd_hd(0.01, 1e-3, weight_decay=wd),
                                  lambda wd: optim.sgdn_hd(0.01, 1e-4, 0.9, weight_decay=wd),
                                  lambda wd: optim.adam_hd(0.01, 1e-3, weight_decay=wd)])
def test_hd_weight_decay_is_l2_on_the_loss(make):
    """g = grad + wd theta (Baydin et al.'s runs use wd = 1e-4): the same as adding wd/2 |theta|^2 to the loss."""
    wd = 1e-2

    def l2_loss(p, Xb, yb):
        return lsq(p, Xb, yb) + 0.5 * wd * (tnp.sum(p["w"] ** 2) + tnp.sum(p["b"] ** 2))

    pa, sa, la = train(make(wd), loss=lsq, steps=10, batches=batches)
    pb, sb, lb = train(make(0.0), loss=l2_loss, steps=10, batches=batches)
    np.testing.assert_allclose(la, lb, rtol=1e-12)
    for k in pa:
        np.testing.assert_allclose(pa[k], pb[k], rtol=1e-12, atol=1e-15)
