"""Hypergradients of whole training runs, and an outer loop that tunes hyperparameters with them.

``hypergrad`` (forward/hybrid: one pass with k tangent directions; or reverse through the unrolled run),
``outer`` (``optimize``: gradient descent on the hyperparameters, in an unconstrained space; ``Result``).
Constraints (exp for positive hyperparameters, sigmoid for those in (0, 1)) live in
``tinyad.optim.constraints`` and are re-exported here.
"""

from ..optim.constraints import CONSTRAINTS, POSITIVE, UNIT, Constraint, Positive, Unit, default_constraint
from .hypergrad import SeedAverage, hypergrad
from .outer import HypergradientWarning, Result, optimize

__all__ = ["CONSTRAINTS", "Constraint", "HypergradientWarning", "POSITIVE", "Positive", "Result", "SeedAverage",
           "UNIT", "Unit", "default_constraint", "hypergrad", "optimize"]
