"""SGD with momentum and weight decay, one pass per parameter array; optionally carrying k tangents.

    g' = g + wd p;  b' = mu b + g';  d = g' + mu b' (Nesterov) or b';  p' = p - lr d

Arrays are flat (callers pass contiguous ``reshape(-1)`` views). Tangents ``tX`` have shape (k, n) and the
scalars' tangents ``tlr``, ``tmu``, ``twd`` shape (k,): the product rule of each line. k = 0 is the plain
update.
"""

from __future__ import annotations

import numpy as np

from .compiling import kernel, warms_up


def sgd_update_tangents(g, tg, b, tb, p, tp, lr, tlr, mu, tmu, wd, twd, nesterov):
    """(new p, new b, their tangents): checks shapes and dtypes, then runs the kernel."""
    n, k = np.shape(p)[0] if np.ndim(p) == 1 else -1, np.shape(tg)[0] if np.ndim(tg) == 2 else -1
    for name, a, shape in (("g", g, (n,)), ("b", b, (n,)), ("p", p, (n,)), ("tg", tg, (k, n)), ("tb", tb, (k, n)),
                           ("tp", tp, (k, n)), ("tlr", tlr, (k,)), ("tmu", tmu, (k,)), ("twd", twd, (k,))):
        if type(a) is not np.ndarray or a.dtype != np.float64 or a.shape != shape or min(shape) < 0:
            raise ValueError(f"sgd_update_tangents: {name} must be a float64 array of shape {shape} (n parameters, k "
                             f"tangents), got {getattr(a, 'dtype', type(a))} {np.shape(a)}")
    return _sgd_update_tangents(g, tg, b, tb, p, tp, float(lr), tlr, float(mu), tmu, float(wd), twd, bool(nesterov))


@kernel
def _sgd_update_tangents(g, tg, b, tb, p, tp, lr, tlr, mu, tmu, wd, twd, nesterov):
    n = p.shape[0]
    k = tg.shape[0]
    new_p = np.empty(n)
    new_b = np.empty(n)
    new_tp = np.empty((k, n))
    new_tb = np.empty((k, n))
    for i in range(n):
        gi = g[i] + wd * p[i]
        bi = mu * b[i] + gi
        di = gi + mu * bi if nesterov else bi
        new_p[i] = p[i] - lr * di
        new_b[i] = bi
        for j in range(k):
            tgi = tg[j, i] + twd[j] * p[i] + wd * tp[j, i]
            tbi = tmu[j] * b[i] + mu * tb[j, i] + tgi
            tdi = tgi + tmu[j] * bi + mu * tbi if nesterov else tbi
            new_tp[j, i] = tp[j, i] - tlr[j] * di - lr * tdi
            new_tb[j, i] = tbi
    return new_p, new_b, new_tp, new_tb


@warms_up
def _warm_up() -> None:
    """The library's calls: flat C-contiguous float64 arrays; k = 0 tangents (plain arrays) or k > 0."""
    for k in (0, 2):
        x, t, s = np.ones(3), np.ones((k, 3)), np.ones(k)
        sgd_update_tangents(x, t, x, t, x, t, 0.1, s, 0.9, s, 0.01, s, False)
