"""Hypergradients of whole training runs: d run(hparams) / d hparams.

The mechanism is just composition (see docs/hybrid.md): ``run(hparams)`` is an ordinary training loop
with ``tinyad.grad`` inside; :func:`hypergrad` wraps it in one batched ``tinyad.jvp`` whose k tangent
directions are the k hyperparameters. Every inner backprop then runs on Duals carrying
d(.)/d(hyperparameters), no graph of the run is kept, and memory is O(parameters x (1 + k)) for any
number of steps. ``mode="reverse"`` differentiates the same ``run`` by reverse mode through the unrolled
loop instead: same numbers, memory linear in the number of steps (the comparison every other library has).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..core.primitive import shape_of
from ..core.trace import innermost
from ..core.transforms import basis_tangents, check_differentiable, jvp, value_and_grad
from ..core.tree import flatten, leaf_names


def hypergrad(run: Callable[[Any], Any], hparams: Any, mode: str = "forward") -> tuple[Any, Any]:
    """``(run(hparams), d run / d hparams)``, the gradient in the container structure of ``hparams``.

    ``mode="forward"`` (default) computes all k hyperparameter derivatives in ONE pass of ``run`` with k
    tangent directions; memory does not grow with the length of the training run. ``mode="reverse"``
    records the whole run on a tape instead (memory grows with its length; useful as a cross-check, or
    when there are many more hyperparameters than a forward pass can carry).
    """
    leaves, td = flatten(hparams)
    names = leaf_names(td)
    for name, leaf in zip(names, leaves):
        check_differentiable(leaf, f"hyperparameter {name!r}")
    if mode == "reverse":
        value, g = value_and_grad(run)(hparams)
        return value, g
    if mode != "forward":
        raise ValueError(f"hypergrad: mode must be 'forward' or 'reverse', got {mode!r}")
    tangents, sizes = basis_tangents(leaves)
    value, tangent = jvp(run, (hparams,), (td.unflatten(tangents),), batched=True)
    if shape_of(value) != ():
        raise TypeError(f"hypergrad: run must return a scalar (the validation loss), got shape {shape_of(value)}")
    t = np.asarray(innermost(tangent), dtype=float)
    grads, start = [], 0
    for x, n in zip(leaves, sizes):
        g = t[start:start + n].reshape(shape_of(x))
        grads.append(float(g) if g.shape == () else g)
        start += n
    return value, td.unflatten(grads)
