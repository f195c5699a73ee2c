"""The demos run as a newcomer types them, and show the hyperparameters improving."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyad.cli import main

ROOT = Path(__file__).resolve().parents[1]


def seed_table(alpha=0.001, hyper_lr=1e-7, outer_steps=10):
    """The seed's table in closed form, derived by hand. The inner step a <- a - alpha * 10 (5a - 10) is
    linear in a: a_{t+1} - 2 = q (a_t - 2) with q = 1 - 50 alpha, so from a_0 = 1, a_t - 2 = -q^t and
    L_t = 25 (a_t - 2)^2 = 25 q^(2t). The seed differentiates the last loss it computed, L_9 = 25 q^18:
    dL_9/dalpha = 25 * 18 q^17 * (-50) = -22500 q^17."""
    rows = []
    for k in range(outer_steps):
        q = 1 - 50 * alpha
        rows.append({"step": k, "alpha": alpha, "loss": 25 * q ** 18, "hypergrad": -22500 * q ** 17})
        alpha = alpha - hyper_lr * rows[-1]["hypergrad"]
    return rows


def test_quadratic_demo_reproduces_the_seed_table(capsys):
    main(["demo", "quadratic"])
    out = capsys.readouterr().out
    from tinyad.demos import quadratic

    rows = quadratic.main([])["rows"]
    assert round(rows[0]["hypergrad"], 2) == -9407.71  # the seed's anchors
    assert round(rows[9]["alpha"], 7) == 0.0034643
    expected = seed_table()
    assert rows[0]["hypergrad"] == pytest.approx(-22500 * 0.95 ** 17, rel=1e-10)
    for got, want in zip(rows, expected, strict=True):
        for key in ("alpha", "loss", "hypergrad"):
            assert got[key] == pytest.approx(want[key], rel=1e-10), (got["step"], key)
    printed = [line.split() for line in out.splitlines()[1:11]]
    assert printed == [[str(r["step"])] + [format(r[key], "#.7g") for key in ("alpha", "loss", "hypergrad")]
                       for r in expected]
    assert all(b["alpha"] > a["alpha"] and b["loss"] < a["loss"] for a, b in zip(rows, rows[1:]))
    table = "\n".join(out.splitlines()[:11])
    assert table in (Path(__file__).resolve().parents[1] / "docs" / "hybrid.md").read_text(), \
        "docs/hybrid.md shows another quadratic table than tinyad demo quadratic prints"


def test_quadratic_demo_options_change_the_run():
    from tinyad.demos import quadratic

    rows = quadratic.main(["--alpha", "0.002", "--outer-steps", "3", "--inner-steps", "4"])["rows"]
    q = 1 - 50 * 0.002  # the last loss computed is L_3 = 25 q^6, so dL_3/dalpha = -7500 q^5
    assert len(rows) == 3 and rows[0]["hypergrad"] == pytest.approx(-7500 * q ** 5, rel=1e-10)


@pytest.mark.slow
def test_mlp_demo_lowers_validation_loss(tmp_path):
    from tinyad.demos import mlp

    plot = tmp_path / "mlp.png"
    res = mlp.main(["--outer-steps", "6", "--T", "50", "--quiet", "--plot", str(plot)])
    assert res.stopped is None
    assert res.history[-1]["loss"] < 0.8 * res.history[0]["loss"]
    assert plot.stat().st_size > 10_000


def test_console_command_is_installed():
    out = subprocess.run([sys.executable, "-m", "tinyad.cli", "demo", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "quadratic" in out.stdout and "mlp" in out.stdout


def test_api_page_is_current(tmp_path, monkeypatch):
    """docs/api.md is generated from the docstrings; regenerate it with python3 docs/make_api.py."""
    import importlib.util
    from pathlib import Path

    docs = Path(__file__).resolve().parents[1] / "docs"
    spec = importlib.util.spec_from_file_location("make_api", docs / "make_api.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    committed = (docs / "api.md").read_text()
    monkeypatch.setattr(mod, "__file__", str(tmp_path / "make_api.py"))
    mod.main()
    assert (tmp_path / "api.md").read_text() == committed, "docs/api.md is stale: run python3 docs/make_api.py"


@pytest.mark.slow
def test_hd_demo_hd_beats_fixed_rates_and_starts_from_zero():
    from tinyad.demos import hd

    res = hd.main(["--steps", "150"])
    for model in hd.models():
        for base, tuned in (("SGD", "SGD-HD"), ("SGDN", "SGDN-HD"), ("Adam", "Adam-HD")):
            assert res[(model, 1e-3, tuned)][1] <= res[(model, 1e-3, base)][1]
            assert res[(model, 0.0, tuned)][1] < res[(model, 0.0, base)][1] - 0.5
            assert res[(model, 0.0, tuned)][2][-1] > 0


@pytest.mark.slow
def test_stack_demo_spread_shrinks_with_height():
    from tinyad.demos import stack

    table = stack.main(["--steps", "150"])
    assert table[1]["spread"] > table[2]["spread"] > table[3]["spread"]


def test_reversible_demo_improves_both_objectives(capsys):
    from tinyad.demos import reversible

    res = reversible.main(["--T", "20", "--meta-steps", "3", "--seeds", "2", "--workers", "1",
                           "--distil-meta-steps", "6"])
    out = capsys.readouterr().out
    loss = {name: value for name, (value, _) in res["held_out"].items()}  # the same fresh seeds for each schedule
    assert loss["learned, 2 seeds per meta-step"] < loss["initial (constant e^-1)"]
    assert loss["learned, one seed per meta-step"] < loss["initial (constant e^-1)"]
    assert res["distillation"]["history"][-1] < res["distillation"]["history"][0] - 0.3
    assert len(res["claims"]) == len(res["single_claims"]) == 4 and set(res["noise"]) == {
        "jagged_one_seed", "jagged_average", "settled_first", "settled_last", "rough_one_seed", "rough_average"}
    for c in res["claims"]:
        assert f"{'holds        ' if c.holds else 'does not hold'}  {c.claim}: {c.numbers}" in out
    assert "the schedule experiment took" in out and "one fresh seed per meta-step" in out


def test_reversible_demo_seeds_are_spawned_without_touching_a_seed_sequence():
    from tinyad.demos import reversible

    spawned = np.random.SeedSequence(3).spawn(5)[4].spawn(2)
    mine = reversible.seeds_for(3, 4, 2)
    for a, b in zip(mine, spawned):
        assert (a.entropy, a.spawn_key) == (b.entropy, b.spawn_key)
        assert np.array_equal(a.generate_state(4), b.generate_state(4))
    fresh = np.random.SeedSequence(3, spawn_key=(4, 1))
    assert reversible.child(mine[1], 1).spawn_key == fresh.spawn(2)[1].spawn_key
    assert mine[1].n_children_spawned == 0  # child() left it alone: a second call gives the same child


def schedule_data():
    from tinyad import datasets

    return datasets.digits()


def test_reversible_demo_seed_average_is_the_mean_of_the_seeds_one_by_one():
    """Each seed's hypergradient, rebuilt here from the demo's definition (its own initial weights and
    minibatches), by reversible.hypergrad directly; the demo's average is their mean, and its standard error
    their standard deviation / sqrt(n)."""
    from tinyad import nn
    from tinyad import reversible as R
    from tinyad.demos import reversible as demo

    data, T = schedule_data(), 6
    alphas = np.exp(np.random.default_rng(1).uniform(-2, 0, size=(T, len(demo.GROUPS))))
    seeds = demo.seeds_for(0, 0, 3)
    avg, runs = demo.averaged_hypergrad(data, alphas, seeds, None)
    by_hand = []
    for s in np.random.SeedSequence(0).spawn(1)[0].spawn(3):
        init, order = s.spawn(2)
        p0 = nn.init_mlp((64, 50, 50, 50, 10), seed=int(init.generate_state(1)[0]), scale=0.4)
        rows = np.random.default_rng(order).integers(0, 1000, size=(T, 100))

        def train_loss(p, meta, t, rows=rows):
            return nn.cross_entropy(nn.mlp(p, data.X_train[rows[t]]), data.Y_train[rows[t]])

        def objective(p):
            return nn.cross_entropy(nn.mlp(p, data.X_train), data.Y_train)

        groups = {"W1": 0, "W2": 1, "W3": 2, "W4": 3, "b1": 4, "b2": 5, "b3": 6, "b4": 7}
        by_hand.append(R.hypergrad(train_loss, objective, p0, alphas, 0.5, groups=groups))
    for run, res in zip(runs, by_hand):
        assert run.loss == res.val_loss
        np.testing.assert_array_equal(run.d_alphas, res.d_alphas)
    d = np.stack([r.d_alphas for r in by_hand])
    np.testing.assert_allclose(avg.grad, d.mean(axis=0), rtol=1e-14, atol=0)
    np.testing.assert_allclose(avg.grad_stderr, d.std(axis=0, ddof=1) / np.sqrt(3), rtol=1e-12, atol=0)
    assert avg.value == pytest.approx(np.mean([r.val_loss for r in by_hand]), rel=1e-14)
    assert avg.n == 3 and len({r.loss for r in runs}) == 3  # three different runs
    assert np.all(np.abs(avg.grad - d[0]) > 0)  # the mean is not one seed's


def test_reversible_demo_is_bit_identical_on_a_process_pool(monkeypatch):
    """The whole meta-optimisation, serially and on two spawned worker processes: the same bits (with one BLAS
    thread in every process, as the demo runs: OpenBLAS's threads split some products differently)."""
    from tinyad.demos import reversible as demo

    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    data = schedule_data()
    limit = demo.one_blas_thread()  # as the demo runs: one BLAS thread here and in each worker
    try:
        serial = demo.learn_schedule(data, 5, 2, 3, None, seed=4, log=lambda _: None)
    finally:
        if limit is not None:
            limit.restore_original_limits()
    pool = demo.make_executor(2)
    assert pool._mp_context.get_start_method() == "spawn"
    with pool:
        parallel = demo.learn_schedule(data, 5, 2, 3, pool, seed=4, log=lambda _: None)
    np.testing.assert_array_equal(parallel["alphas"], serial["alphas"])
    assert parallel["history"] == serial["history"]
    for key in ("initial", "final"):
        np.testing.assert_array_equal(parallel[key].grad, serial[key].grad)
        np.testing.assert_array_equal(parallel[key].grad_stderr, serial[key].grad_stderr)
    assert not np.array_equal(serial["alphas"], np.full_like(serial["alphas"], demo.LR0))  # it did learn


def paper_shaped(T=100):
    """A schedule shaped like the paper's Figure 2: the top layer's rates spike early, the first layer's are
    the largest in the middle, every layer drops in the last 10 steps."""
    a = np.full((T, 8), 1.0)
    a[:10, 3] = 5.0  # layer 4 (top) weights, early
    a[10:, 0] = 3.0  # layer 1 weights, afterwards
    a[90:, :4] *= 0.3
    return a


def test_reversible_demo_claims_are_measured_not_asserted():
    from tinyad.demos import reversible as demo

    paper = [c.holds for c in demo.schedule_claims(paper_shaped())]
    assert paper == [True, True, True, False]  # early rates are not larger than middle ones for layers 1-3
    assert [c.holds for c in demo.schedule_claims(np.ones((100, 8)))] == [False] * 4
    rising = np.tile(np.linspace(0.1, 2.0, 100)[:, None], (1, 8))
    assert [c.holds for c in demo.schedule_claims(rising)] == [False] * 4
    falling = rising[::-1]
    assert [c.holds for c in demo.schedule_claims(falling)] == [False, False, True, True]
    within_5_percent = paper_shaped()
    within_5_percent[:10, 3] = 1.04  # the top layer's early rates only 4% above the others: no claim
    assert not demo.schedule_claims(within_5_percent)[0].holds
    early, middle, late = demo.phases(paper_shaped())
    np.testing.assert_allclose(early, [1.0, 1.0, 1.0, 5.0])
    np.testing.assert_allclose(middle, [3.0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(late, [0.9, 0.3, 0.3, 0.3])
    assert "first 10%, layers 1-4: 1.00 1.00 1.00 5.00" == demo.schedule_claims(paper_shaped())[0].numbers


def test_reversible_demo_noise_measures():
    from tinyad.demos import reversible as demo

    assert demo.roughness(np.full((50, 8), 0.3)) == 0.0
    zigzag = np.full((50, 8), 0.5)
    zigzag[::2, :4] = 0.5 * np.e  # log alpha jumps by 1 at every step
    assert demo.roughness(zigzag) == pytest.approx(1.0)
    assert demo.jaggedness(np.full((50, 8), -2.0)) == 0.0
    assert demo.jaggedness(np.where(np.arange(50)[:, None] % 2, 1.0, -1.0) * np.ones((1, 8))) == pytest.approx(2.0)
    noise = np.random.default_rng(0).standard_normal((100000, 8))
    assert demo.jaggedness(noise) == pytest.approx(np.sqrt(2), rel=0.01)  # E|x - y| / E|x| for iid normals


@pytest.mark.slow
def test_demos_run_where_nothing_can_be_cached(tmp_path):
    """A read-only install with no writable home: numba finds no cache locator (simulated with numba's own
    NUMBA_CACHE_LOCATOR_CLASSES, which works even as root) and no directory takes generated kernels. The
    kernels compile in memory instead: a warning, never a crash."""
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    env = {**os.environ, "NUMBA_CACHE_LOCATOR_CLASSES": "ZipCacheLocator", "TINYAD_CACHE_DIR": str(blocked),
           "XDG_CACHE_HOME": str(blocked), "HOME": str(blocked), "TMPDIR": str(blocked)}
    env.pop("NUMBA_CACHE_DIR", None)
    for demo in (["mlp", "--outer-steps", "1", "--T", "5", "--quiet"], ["reversible", "--T", "5", "--meta-steps",
                                                                          "1", "--distil-meta-steps", "1"]):
        out = subprocess.run([sys.executable, "-W", "always", "-m", "tinyad", "demo", *demo], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        assert "cannot cache compiled kernels" in out.stderr


@pytest.mark.slow
def test_reversible_docs_show_what_the_default_demo_prints(capsys):
    """docs/reversible.md shows the default run's summary verbatim, and every number in the tinyad column of
    docs/claims.md's rows for ``tinyad demo reversible`` is one that the default run prints."""
    from tinyad.demos import reversible

    reversible.main([])
    out = capsys.readouterr().out
    docs = ROOT / "docs"
    shown = re.search(r"```text\n(training-set loss after T steps.*?)```", (docs / "reversible.md").read_text(), re.S)
    assert shown and shown.group(1) in "\n".join(line[2:] for line in out.splitlines()), \
        "docs/reversible.md shows another schedule summary than tinyad demo reversible prints"
    claims = (docs / "claims.md").read_text().splitlines()
    rows = [row for row in claims if row.endswith("| `tinyad demo reversible` |")]
    assert len(rows) == 8
    printed = set(re.findall(r"\d+\.\d+|\d+%", out))
    for row in rows:
        tinyad_column = row.split(" | ")[2]
        for number in re.findall(r"\d+\.\d+|\d+%", tinyad_column):
            assert number in printed, f"docs/claims.md: {number} is not in the demo's output ({row[:60]}...)"
