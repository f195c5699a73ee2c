"""tinyad: automatic differentiation for gradient-based hyperparameter optimization.

A small reverse-mode tape (``Var``) and a forward-mode dual number (``Dual``), both generic over one number
protocol, so each can carry the other: backprop whose numbers are dual numbers gives hypergradients of a
whole training run without storing it. Read the package top-down, one layer at a time: ``kernels`` (numba)
-> ``core`` (the engine) -> ``ops`` (the built-in primitives) -> ``numpy`` (the namespace models are
written in) -> libraries (``optim``, ``nn``, ``datasets``, ``plotting``, ``hyper``, ``reversible``,
``testing``) -> ``demos`` and ``cli``.

The libraries are imported on first use: ``import tinyad`` then ``tinyad.optim.sgd(...)`` works.
"""

from __future__ import annotations

import importlib as _importlib

from . import numpy, ops  # noqa: F401 - fill the registry of built-in primitives and the NumPy table
from ._version import __version__ as __version__  # one source: tinyad/_version.py
from .core import (
    REGISTRY,
    CapturedBoxError,
    ConcretizationError,
    Dual,
    LeakedBoxError,
    NonDifferentiableError,
    Primitive,
    Var,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacrev,
    jit,
    jvp,
    linearize,
    primitive,
    register_dataclass,
    register_pytree_node,
    tree,  # tinyad.tree: containers (pytrees)
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_structure,
    tree_unflatten,
    value_and_grad,
    vjp,
)
from .ops.nondiff import stop_gradient

_LAZY = ("optim", "hyper", "nn", "datasets", "reversible", "plotting", "testing", "kernels", "demos", "cli")


def __getattr__(name: str):
    """Import the libraries on first use (``tinyad.optim`` after ``import tinyad``)."""
    if name in _LAZY:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'tinyad' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *_LAZY, "core", "ops", "numpy", "__version__"})


__all__ = [
    "CapturedBoxError", "ConcretizationError", "Dual", "LeakedBoxError", "NonDifferentiableError", "Primitive",
    "REGISTRY", "Var", "grad", "hessian", "hvp", "jacfwd", "jacrev", "jit", "jvp", "linearize", "primitive",
    "register_dataclass", "register_pytree_node", "stop_gradient", "tree", "tree_flatten", "tree_leaves",
    "tree_map", "tree_structure", "tree_unflatten", "value_and_grad", "vjp",
]
