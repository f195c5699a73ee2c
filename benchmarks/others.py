"""The same work in other AD systems, when they are installed (``pip install 'tinyad[bench]'``).

Each returns None when its library is missing, so benchmarks/run.py skips it cleanly. The work is the
benchmark's: MLP 64-128-10 on the digits, SGD with momentum and weight decay, and the forward-mode
hypergradient d(val loss after T steps)/d(lr, momentum, wd).
"""

from __future__ import annotations

import time

import numpy as np


def jax_model(d, p0):
    """The benchmark's model and training run in JAX (float64), or None when JAX is not installed.

    Returns (jax, jnp, loss, step, val_loss_after, params0, Xtr, Ytr): ``step(t, (p, v), h)`` is one SGD
    step with h = [lr, momentum, wd] on minibatch t, ``val_loss_after(h, T)`` the validation loss after T of
    them in a ``fori_loop``."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    Xtr, Ytr, Xva, Yva = (jnp.asarray(a) for a in (d.X_train, d.Y_train, d.X_val, d.Y_val))
    params0 = {k: jnp.asarray(v) for k, v in p0.items()}

    def loss(p, X, Y):
        z = jnp.tanh(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
        return jnp.mean(jax.nn.logsumexp(z, axis=1) - jnp.sum(z * Y, axis=1))

    def step(t, carry, h):
        p, v = carry
        i = (100 * t) % 1000
        X, Y = jax.lax.dynamic_slice_in_dim(Xtr, i, 100), jax.lax.dynamic_slice_in_dim(Ytr, i, 100)
        g = jax.grad(loss)(p, X, Y)
        v = jax.tree.map(lambda vv, gg, pp: h[1] * vv - (gg + h[2] * pp), v, g, p)
        return jax.tree.map(lambda pp, vv: pp + h[0] * vv, p, v), v

    def val_loss_after(h, T):
        zeros = jax.tree.map(jnp.zeros_like, params0)
        p, _ = jax.lax.fori_loop(0, T, lambda t, c: step(t, c, h), (params0, zeros))
        return loss(p, Xva, Yva)

    return jax, jnp, loss, step, val_loss_after, params0, Xtr, Ytr


def jax_hypergradient(d, p0, T: int, h0: dict):
    """JAX: jit(jacfwd(val_loss_after)) over a fori_loop with jax.grad inside (forward-over-reverse).

    Returns (seconds to first result incl. compilation, seconds per later call, hypergradient)."""
    model = jax_model(d, p0)
    if model is None:
        return None
    jax, jnp, val_loss_after = model[0], model[1], model[4]
    f = jax.jit(jax.jacfwd(lambda h: val_loss_after(h, T)))
    h = jnp.array([h0["lr"], h0["momentum"], h0["wd"]])
    t0 = time.perf_counter()
    g = np.asarray(f(h).block_until_ready())
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    f(h).block_until_ready()
    later = time.perf_counter() - t0
    return first, later, g


def autograd_hypergradient(d, p0, T: int, h0: dict):
    """autograd: one forward-mode pass per hyperparameter (make_jvp) over a loop with autograd.grad inside.

    Returns (seconds for the three directions, hypergradient)."""
    try:
        import autograd
        import autograd.numpy as anp
        from autograd import make_jvp
    except ImportError:
        return None

    def loss(p, X, Y):
        z = anp.dot(anp.tanh(anp.dot(X, p["W1"]) + p["b1"]), p["W2"]) + p["b2"]
        m = anp.max(z, axis=1, keepdims=True)
        return anp.mean(anp.log(anp.sum(anp.exp(z - m), axis=1)) + m[:, 0] - anp.sum(z * Y, axis=1))

    def val_loss_after(h):
        lr, mu, wd = h[0], h[1], h[2]
        p = dict(p0)
        v = {k: np.zeros_like(x) for k, x in p0.items()}
        for t in range(T):
            i = (100 * t) % 1000
            g = autograd.grad(loss)(p, d.X_train[i:i + 100], d.Y_train[i:i + 100])
            v = {k: mu * v[k] - (g[k] + wd * p[k]) for k in p}
            p = {k: p[k] + lr * v[k] for k in p}
        return loss(p, d.X_val, d.Y_val)

    h = np.array([h0["lr"], h0["momentum"], h0["wd"]])
    t0 = time.perf_counter()
    g = np.array([make_jvp(val_loss_after)(h)(e)[1] for e in np.eye(3)])
    return time.perf_counter() - t0, g


def torch_hypergradient(d, p0, T: int, h0: dict):
    """PyTorch eager: torch.func.jvp over the training loop with torch.func.grad inside, one pass per
    hyperparameter (forward-over-reverse). Returns (seconds for the three directions after a warm-up call,
    hypergradient)."""
    try:
        import torch
        from torch.func import grad, jvp
    except ImportError:
        return None
    torch.set_default_dtype(torch.float64)
    Xtr, Ytr, Xva, Yva = (torch.from_numpy(np.ascontiguousarray(a)) for a in (d.X_train, d.Y_train, d.X_val, d.Y_val))
    params0 = {k: torch.from_numpy(v.copy()) for k, v in p0.items()}

    def loss(p, X, Y):
        z = torch.tanh(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
        return torch.mean(torch.logsumexp(z, dim=1) - torch.sum(z * Y, dim=1))

    def val_loss_after(h):
        p = dict(params0)
        v = {k: torch.zeros_like(x) for k, x in p.items()}
        for t in range(T):
            i = (100 * t) % 1000
            g = grad(loss)(p, Xtr[i:i + 100], Ytr[i:i + 100])
            v = {k: h[1] * v[k] - (g[k] + h[2] * p[k]) for k in p}
            p = {k: p[k] + h[0] * v[k] for k in p}
        return loss(p, Xva, Yva)

    h = torch.tensor([h0["lr"], h0["momentum"], h0["wd"]])
    jvp(val_loss_after, (h,), (torch.eye(3)[0],))  # warm-up: torch.func's first call does one-time setup
    t0 = time.perf_counter()
    g = np.array([float(jvp(val_loss_after, (h,), (e,))[1]) for e in torch.eye(3)])
    return time.perf_counter() - t0, g
