"""The demos run as a newcomer types them, and show the hyperparameters improving."""

import subprocess
import sys

import pytest

from tinyad.cli import main


def test_quadratic_demo_improves_alpha_and_loss(capsys):
    main(["demo", "quadratic"])
    out = capsys.readouterr().out
    assert "hypergradient" in out
    from tinyad.demos import quadratic

    res = quadratic.main([])
    rows = res["rows"]
    assert rows[0]["hypergrad"] == pytest.approx(-2500 * 10 * 0.95 ** 19, rel=1e-12)
    assert all(b["alpha"] > a["alpha"] and b["loss"] < a["loss"] for a, b in zip(rows, rows[1:]))


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
