"""Optional plots (matplotlib): nothing in tinyad needs it unless a plot is asked for."""

from __future__ import annotations

from typing import Any

import numpy as np


def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("plots need matplotlib: pip install matplotlib (or pip install 'tinyad[demo]')") from e
    return plt


def plot_history(history: list, path: str | None = None, title: str = "") -> Any:
    """One panel for the loss, one per scalar hyperparameter, against the outer step."""
    from .hyper import _paths
    from .tree import flatten

    plt = _plt()
    steps = [r["step"] for r in history]
    leaves0, td = flatten(history[0]["hparams"])
    names = _paths(td)
    fig, axes = plt.subplots(1, 1 + len(names), figsize=(4 * (1 + len(names)), 3.2))
    axes = np.atleast_1d(axes)
    axes[0].plot(steps, [r["loss"] for r in history], "k.-")
    axes[0].set(xlabel="outer step", ylabel="validation loss", title=title)
    for i, name in enumerate(names):
        vals = [np.mean(flatten(r["hparams"])[0][i]) for r in history]
        axes[i + 1].plot(steps, vals, ".-")
        axes[i + 1].set(xlabel="outer step", title=name)
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=110)
    return fig
