"""A hypergradient of a whole training run, written from scratch with tinyad's two operators.

The inner loop is ordinary code with `tinyad.grad` inside; wrapping it in `tinyad.jvp` makes every number
in it a dual number, so the validation loss comes back with its derivative w.r.t. the learning rate.
"""

import numpy as np

import tinyad
import tinyad.numpy as tnp

rng = np.random.default_rng(0)
X, w_true = rng.standard_normal((50, 5)), rng.standard_normal(5)
y = X @ w_true + 0.1 * rng.standard_normal(50)
X_tr, y_tr, X_va, y_va = X[:40], y[:40], X[40:], y[40:]


def mse(w, X, y):
    return tnp.mean((X @ w - y) ** 2)


def val_loss_after_training(lr, steps=30):
    w = np.zeros(5)
    for _ in range(steps):
        w = w - lr * tinyad.grad(mse)(w, X_tr, y_tr)
    return mse(w, X_va, y_va)


loss, dloss_dlr = tinyad.jvp(val_loss_after_training, (0.05,), (1.0,))
print(f"validation loss {loss:.5f}, d/d(lr) = {dloss_dlr:.5f}")
h = 1e-6
fd = (val_loss_after_training(0.05 + h) - val_loss_after_training(0.05 - h)) / (2 * h)
print(f"finite differences:        {fd:.5f}")
