"""Functional optimizers, written in tinyad ops so that every hyperparameter may be a box.

``base`` (what every optimizer shares), ``momentum`` (SGD with momentum, and its fused fast path beside it),
``adaptive`` (Adam, RMSProp), ``online`` (hypergradient descent: sgd_hd, sgdn_hd, adam_hd), ``stacks``
(hyperoptimizer stacks of any height), ``constraints`` (keeping hyperparameters valid: exp, sigmoid).

Nothing here is differentiated by hand: taking ``tinyad.jvp`` of a training loop that calls ``update``
gives hypergradients through the update equations.
"""

from .adaptive import Adam, RMSProp, adam, rmsprop
from .base import Optimizer
from .momentum import SGD, sgd
from .online import SGDHD, SGDNHD, AdamHD, HypergradientDescent, HypergradientError, adam_hd, sgd_hd, sgdn_hd
from .stacks import Stack, hyperparams_in_use, stack

hyper = stack  # the earlier name of stack()

__all__ = [
    "SGD", "SGDHD", "SGDNHD", "Adam", "AdamHD", "HypergradientDescent", "HypergradientError", "Optimizer",
    "RMSProp", "Stack", "adam", "adam_hd", "hyper", "hyperparams_in_use", "rmsprop", "sgd", "sgd_hd", "sgdn_hd",
    "stack",
]
