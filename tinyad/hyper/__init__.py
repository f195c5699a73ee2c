"""Hypergradients of whole training runs, and an outer loop that tunes hyperparameters with them.

``hypergrad`` (forward/hybrid: one pass with k tangent directions; or reverse through the unrolled run;
averaged over seeds), ``implicit`` (at an inner optimum: the implicit function theorem, with conjugate
gradients or a Neumann series on Hessian-vector products), ``outer`` (``optimize``: gradient descent on the
hyperparameters, in an unconstrained space, that loses nothing when interrupted and resumes bit for bit),
``result`` (``Result``: history, checkpoints, JSON/CSV), ``many`` (``optimize_many``: many trials on any
executor), ``executors`` (the executor protocol those use), ``progress`` (progress bars). Constraints (exp
for positive hyperparameters, sigmoid for those in (0, 1)) live in ``tinyad.optim.constraints`` and are
re-exported here.
"""

from ..optim.constraints import CONSTRAINTS, POSITIVE, UNIT, Constraint, Positive, Unit, default_constraint
from .hypergrad import SeedAverage, hypergrad
from .implicit import ImplicitResult, ImplicitWarning, implicit_hypergrad, implicit_solution, newton_minimize
from .many import TrialError, TrialsFailed, optimize_many
from .outer import HypergradientWarning, StoppedWarning, optimize
from .result import Result, load_result

__all__ = ["CONSTRAINTS", "Constraint", "HypergradientWarning", "ImplicitResult", "ImplicitWarning", "POSITIVE",
           "Positive", "Result", "SeedAverage", "StoppedWarning", "TrialError", "TrialsFailed", "UNIT", "Unit",
           "default_constraint", "hypergrad", "implicit_hypergrad", "implicit_solution", "load_result",
           "newton_minimize", "optimize", "optimize_many"]
