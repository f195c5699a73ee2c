"""The demos run as a newcomer types them, and show the hyperparameters improving."""

import os
import subprocess
import sys
from pathlib import Path

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


@pytest.mark.slow
def test_reversible_demo_improves_both_objectives():
    from tinyad.demos import reversible

    res = reversible.main(["--T", "30", "--meta-steps", "3", "--distil-meta-steps", "6"])
    assert res["schedule"]["history"][-1] < res["schedule"]["history"][0]
    assert res["distillation"]["history"][-1] < res["distillation"]["history"][0] - 0.3


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
