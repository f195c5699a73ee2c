"""What several demos share: the digits classification loss and an online-tuning training loop."""

from __future__ import annotations

from typing import Any

import tinyad
from tinyad import nn, optim


def digits_loss(p: dict, X: Any, Y: Any) -> Any:
    return nn.cross_entropy(nn.mlp(p, X), Y)


@tinyad.jit(static_argnums=0)
def online_step(opt: optim.Optimizer, p: dict, s: Any, X: Any, Y: Any) -> tuple:
    """One step of ``opt`` on one minibatch, compiled (the optimizer is static: one program per optimizer)."""
    return opt.update(tinyad.grad(digits_loss)(p, X, Y), s, p)


def train_online(opt: optim.Optimizer, p0: dict, data: Any, steps: int, batch: int = 100) -> tuple[dict, list]:
    """Train on consecutive minibatches of the digits; returns the final parameters and the learning rate
    in use after every step (it moves when ``opt`` tunes it online)."""
    p, s = p0, opt.init(p0)
    lrs = []
    for t in range(steps):
        i = (batch * t) % len(data.X_train)
        p, s = online_step(opt, p, s, data.X_train[i:i + batch], data.Y_train[i:i + batch])
        opt.check(s)  # a NaN hypergradient stops the run here, naming the step
        lrs.append(optim.hyperparams_in_use(opt, s)["lr"])
    return p, lrs
