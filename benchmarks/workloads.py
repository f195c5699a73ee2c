"""The benchmark work, written twice: with tinyad, and by hand in NumPy (the baseline each ratio divides by).

MLP 64-128-10 (tanh, softmax cross-entropy, float64, batch 100) on scikit-learn's digits; SGD with
heavy-ball momentum and L2 weight decay in the reference run's form: g += wd*theta; v = mu*v - g;
theta += lr*v. The hand-written forward-mode step carries k = 3 tangents d/d(lr, mu, wd) derived by hand.
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

import tinyad
import tinyad.numpy as tnp
from tinyad import datasets, nn, optim

NAMES = ("W1", "b1", "W2", "b2")


def setup(seed: int = 0):
    d = datasets.digits()
    p0 = nn.init_mlp((64, 128, 10), seed=seed)
    return d, p0


def batch(d, t: int, size: int = 100):
    i = (size * t) % len(d.X_train)
    return d.X_train[i:i + size], d.Y_train[i:i + size]


# ---- tinyad -------------------------------------------------------------------------------------------
def loss(p, X, Y):
    return nn.cross_entropy(nn.mlp(p, X), Y)


def tinyad_step(p, state, X, Y, opt):
    g = tinyad.grad(loss)(p, X, Y)
    return opt.update(g, state, p)


def tinyad_run(h, d, p0, T, step=None):
    """Validation loss after T steps; ``step(p, s, X, Y, h)`` defaults to the eager step (pass jit_step)."""
    p, s = p0, optim.sgd(h["lr"], h["momentum"]).init(p0)
    if step is None:
        opt = optim.sgd(h["lr"], h["momentum"], weight_decay=h["wd"])
        opt.jit = False  # eager end to end
        step = lambda p, s, X, Y, h: tinyad_step(p, s, X, Y, opt)  # noqa: E731
    for t in range(T):
        X, Y = batch(d, t)
        p, s = step(p, s, X, Y, h)
    return loss(p, d.X_val, d.Y_val)


@tinyad.jit
def jit_step(p, state, X, Y, h):
    """The training step compiled by tinyad.jit: everything that changes is an argument."""
    opt = optim.sgd(h["lr"], h["momentum"], weight_decay=h["wd"])
    return opt.update(tinyad.grad(loss)(p, X, Y), state, p)


def train_loss_full(p, d):
    return loss(p, d.X_train, d.Y_train)


# ---- hand-written NumPy: plain step -------------------------------------------------------------------
def numpy_grads(p, X, Y):
    W1, b1, W2, b2 = (p[k] for k in NAMES)
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    loss_value = np.mean(np.log(s[:, 0]) + m[:, 0] - np.sum(z * Y, axis=1))
    dz = (e / s - Y) / n
    dh = dz @ W2.T
    da = dh * (1.0 - h * h)
    return loss_value, {"W1": X.T @ da, "b1": da.sum(0), "W2": h.T @ dz, "b2": dz.sum(0)}


def numpy_step(p, v, X, Y, lr, mu, wd):
    _, g = numpy_grads(p, X, Y)
    new_p, new_v = {}, {}
    for k in NAMES:
        gk = g[k] + wd * p[k]
        new_v[k] = mu * v[k] - gk
        new_p[k] = p[k] + lr * new_v[k]
    return new_p, new_v


# ---- hand-written NumPy: forward mode with k = 3 tangents d/d(lr, mu, wd) -----------------------------
def numpy_fwd_step(p, tp, v, tv, X, Y, lr, mu, wd):
    """One step and its tangents. tp/tv[k] have shape (3, *p[k].shape): directions lr, mu, wd."""
    W1, b1, W2, b2 = (p[k] for k in NAMES)
    tW1, tb1, tW2, tb2 = (tp[k] for k in NAMES)
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    dtanh = 1.0 - h * h
    # k tangents through NumPy's stacked matmul ((k, n, m) @ (m, p)): the fastest layout measured here
    ta = X @ tW1 + tb1[:, None, :]
    th = ta * dtanh
    z = h @ W2 + b2
    tz = th @ W2 + h @ tW2 + tb2[:, None, :]
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    P = e / e.sum(axis=1, keepdims=True)
    tP = P * (tz - np.sum(P * tz, axis=2, keepdims=True))
    dz = (P - Y) / n
    tdz = tP / n
    g = {"W2": h.T @ dz, "b2": dz.sum(0)}
    tg = {"W2": th.transpose(0, 2, 1) @ dz + h.T @ tdz, "b2": tdz.sum(1)}
    dh = dz @ W2.T
    tdh = tdz @ W2.T + dz @ tW2.transpose(0, 2, 1)
    da = dh * dtanh
    tda = tdh * dtanh - 2.0 * dh * h * th
    g["W1"], g["b1"] = X.T @ da, da.sum(0)
    tg["W1"], tg["b1"] = X.T @ tda, tda.sum(1)
    new = ({}, {}, {}, {})
    for k in NAMES:
        gk = g[k] + wd * p[k]
        tgk = tg[k] + wd * tp[k]
        tgk[2] += p[k]  # d/d(wd) of wd * theta
        vk = mu * v[k] - gk
        tvk = mu * tv[k] - tgk
        tvk[1] += v[k]  # d/d(mu) of mu * v
        pk = p[k] + lr * vk
        tpk = tp[k] + lr * tvk
        tpk[0] += vk  # d/d(lr) of lr * v
        for out, val in zip(new, (pk, tpk, vk, tvk)):
            out[k] = val
    return new


def numpy_hvp(p, v, X, Y):
    """H v of the mean cross-entropy of the MLP at p, forward-over-reverse by hand: the tangent along v of
    the hand-written backward pass."""
    W1, b1, W2, b2 = (p[k] for k in NAMES)
    dW1, db1, dW2, db2 = (v[k] for k in NAMES)
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    dh = (X @ dW1 + db1) * (1.0 - h * h)
    z = h @ W2 + b2
    dz = dh @ W2 + h @ dW2 + db2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    s = e / e.sum(axis=1, keepdims=True)
    gz = (s - Y) / n
    sdz = s * dz
    dgz = (sdz - s * sdz.sum(axis=1, keepdims=True)) / n
    gh = gz @ W2.T
    dgh = dgz @ W2.T + gz @ dW2.T
    dga = dgh * (1.0 - h * h) - gh * (2.0 * h * dh)
    return {"W1": X.T @ dga, "b1": dga.sum(0), "W2": dh.T @ gz + h.T @ dgz, "b2": dgz.sum(0)}


def numpy_fwd_hypergrad(d, p0, T, lr=0.1, mu=0.9, wd=1e-4):
    """Validation loss after T hand-written forward-mode steps, and its tangents d/d(lr, mu, wd)."""
    p = dict(p0)
    tp = {k: np.zeros((3,) + p0[k].shape) for k in NAMES}
    v = {k: np.zeros_like(p0[k]) for k in NAMES}
    tv = {k: np.zeros((3,) + p0[k].shape) for k in NAMES}
    for t in range(T):
        X, Y = batch(d, t)
        p, tp, v, tv = numpy_fwd_step(p, tp, v, tv, X, Y, lr, mu, wd)
    X, Y = d.X_val, d.Y_val
    h = np.tanh(X @ p["W1"] + p["b1"])
    th = (np.einsum("ni,kij->knj", X, tp["W1"]) + tp["b1"][:, None, :]) * (1.0 - h * h)
    z = h @ p["W2"] + p["b2"]
    tz = th @ p["W2"] + np.einsum("ni,kij->knj", h, tp["W2"]) + tp["b2"][:, None, :]
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    P = e / e.sum(axis=1, keepdims=True)
    value = np.mean(np.log(e.sum(axis=1)) + m[:, 0] - np.sum(z * Y, axis=1))
    tangent = np.mean(np.sum((P - Y) * tz, axis=2), axis=1)
    return value, tangent


# ---- a chain of small elementwise ops: the cost per operation --------------------------------------------
CHAIN = 200


def chain(x):
    """sin, scale, tanh, shift, CHAIN ops in all, then a sum: written in tinyad.numpy."""
    for _ in range(CHAIN // 4):
        x = tnp.sin(x)
        x = x * 0.9
        x = tnp.tanh(x)
        x = x + 0.1
    return tnp.sum(x)


def hand_chain(x):
    """The chain's value and gradient, by hand in NumPy (activations kept for the backward pass)."""
    acts = []
    for _ in range(CHAIN // 4):
        acts.append(x)
        x = np.sin(x)
        x = x * 0.9
        acts.append(x)
        x = np.tanh(x)
        x = x + 0.1
    value, g = np.sum(x), np.ones_like(x)
    for i in range(CHAIN // 4 - 1, -1, -1):
        t = np.tanh(acts[2 * i + 1])
        g = g * (1.0 - t * t) * 0.9 * np.cos(acts[2 * i])
    return value, g


def peak_memory(f) -> int:
    """The peak of Python-tracked memory (bytes) while ``f()`` runs, after a collection."""
    gc.collect()
    tracemalloc.start()
    f()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak
