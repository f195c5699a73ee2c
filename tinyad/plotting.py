"""Optional plots (matplotlib): nothing in tinyad needs it unless a plot is asked for.

Figures are made with matplotlib's object API (``matplotlib.figure.Figure``), never through pyplot's
global state, so making one neither switches the user's backend nor opens a window.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core.tree import flatten, leaf_names


def figure(*, figsize: tuple = (6.4, 4.8)) -> Any:
    """A new matplotlib Figure (not registered with pyplot); raises a clear error without matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("plots need matplotlib: pip install matplotlib (or pip install 'tinyad[demo]')") from e
    return Figure(figsize=figsize)


def plot_history(history: list, path: str | None = None, title: str = "") -> Any:
    """One panel for the loss, one per scalar hyperparameter, against the outer step."""
    steps = [r["step"] for r in history]
    names = leaf_names(flatten(history[0]["hparams"])[1])
    fig = figure(figsize=(4 * (1 + len(names)), 3.2))
    axes = np.atleast_1d(fig.subplots(1, 1 + len(names)))
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


def colormap(name: str) -> Any:
    """A matplotlib colormap by name (``colormap("viridis")(0.5)`` is a colour)."""
    figure()  # the clear error if matplotlib is missing
    import matplotlib

    return matplotlib.colormaps[name]
