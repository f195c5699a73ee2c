"""The engine: traces and boxes, primitives and their dispatch, forward and reverse mode, transforms.

Read it in this order: ``trace`` (which differentiation a box belongs to) -> ``primitive`` (an op's value
and rules; dispatch) -> ``vspace`` (the few primitives the engine itself applies to tangents and
cotangents) -> ``box`` (operators every box shares) -> ``forward`` (``Dual``) / ``reverse`` (``Var`` and
the tape) -> ``tree`` (containers) -> ``transforms`` (grad, vjp, jvp, ...) -> ``staging``, ``program``, ``fusion``,
``jitting`` (tinyad.jit: trace a function once, replay it compiled). Nothing here imports the op
library: operators on boxes find the built-in primitives by name in the registry that ``tinyad.ops`` fills.
"""

from . import tree  # noqa: F401 - tinyad.core.tree (pytrees) as a namespace
from .forward import Dual, ForwardTrace
from .jitting import Jitted, jit
from .primitive import REGISTRY, NonDifferentiableError, Primitive, primitive
from .reverse import ReverseTrace, Var
from .staging import CapturedBoxError, ConcretizationError
from .trace import Box, LeakedBoxError, Trace
from .transforms import grad, hessian, hvp, jacfwd, jacrev, jvp, linearize, value_and_grad, vjp
from .tree import (
    register_dataclass,
    register_pytree_node,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_structure,
    tree_unflatten,
)

__all__ = [
    "Box", "CapturedBoxError", "ConcretizationError", "Dual", "ForwardTrace", "Jitted", "LeakedBoxError",
    "NonDifferentiableError", "Primitive", "REGISTRY", "ReverseTrace", "Trace", "Var", "grad", "hessian", "hvp",
    "jacfwd", "jacrev", "jit", "jvp", "linearize", "primitive", "register_dataclass", "register_pytree_node",
    "tree_flatten", "tree_leaves", "tree_map", "tree_structure", "tree_unflatten", "value_and_grad", "vjp",
]
