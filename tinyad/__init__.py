"""tinyad: automatic differentiation for gradient-based hyperparameter optimization.

A small reverse-mode tape (``Var``) and a forward-mode dual number (``Dual``), both generic over one number
protocol, so each can carry the other: backprop whose numbers are dual numbers gives hypergradients of a
whole training run without storing it. Read the package top-down: ``tags`` -> ``primitive`` ->
``primitives/`` -> ``box`` -> ``forward``/``reverse`` -> ``transforms`` -> ``numpy`` -> libraries.
"""

from ._version import __version__ as __version__  # one source: tinyad/_version.py
from .forward import Dual
from .primitive import REGISTRY, NonDifferentiableError, Primitive, primitive
from .primitives.special import stop_gradient
from .reverse import Var
from .tags import LeakedBoxError
from .transforms import grad, hessian, hvp, jacfwd, jacrev, jvp, value_and_grad, vjp
from .tree import flatten as tree_flatten
from .tree import tree_map

__all__ = [
    "Dual", "LeakedBoxError", "NonDifferentiableError", "Primitive", "REGISTRY", "Var", "grad", "hessian",
    "hvp", "jacfwd", "jacrev", "jvp", "primitive", "stop_gradient", "tree_flatten", "tree_map",
    "value_and_grad", "vjp",
]
