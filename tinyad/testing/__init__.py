"""Tools to test derivatives: ``check_grads`` and (with hypothesis installed) ``tinyad.testing.strategies``."""

from .check import GradientCheckError, check_grads

__all__ = ["GradientCheckError", "check_grads"]
