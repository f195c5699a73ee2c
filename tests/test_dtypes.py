"""float32 in, float32 out (as in JAX): gradients, tangents, Jacobians, optimizer parameters and states;
Python floats stay float64; mixed inputs follow NumPy's promotion."""

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp
from tinyad import nn, optim

X32 = np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(2, 3)


def loss(w, x):
    return tnp.sum(tnp.tanh(x @ w) ** 2) / 2.0 + 0.1 * tnp.sum(tnp.maximum(w, 0.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_tangents_and_jacobians_keep_the_input_dtype(dtype):
    w = np.full((3, 2), 0.3, dtype=dtype)
    x = X32.astype(dtype)
    g = tinyad.grad(loss)(w, x)
    assert g.dtype == dtype and g.shape == w.shape
    out, t = tinyad.jvp(lambda a: tnp.tanh(x @ a), (w,), (np.ones_like(w),))
    assert out.dtype == dtype and t.dtype == dtype
    assert tinyad.jacfwd(lambda a: tnp.tanh(x @ a))(w).dtype == dtype
    assert tinyad.jacrev(lambda a: tnp.tanh(x @ a))(w).dtype == dtype
    assert tinyad.hessian(lambda a: loss(a, x))(w).dtype == dtype
    assert tinyad.hvp(lambda a: loss(a, x), w, np.ones_like(w)).dtype == dtype
    g64 = tinyad.grad(loss)(w.astype(np.float64), x.astype(np.float64))
    np.testing.assert_allclose(g, g64, rtol=1e-5 if dtype == np.float32 else 1e-15)


def test_python_floats_stay_float64_and_mixed_inputs_promote():
    assert tinyad.grad(lambda a: a * a)(3.0).dtype == np.float64
    w32 = np.ones(3, np.float32)
    # float32 parameters on float64 data: the computation promotes (NumPy's rule), the gradient is float32
    g = tinyad.grad(lambda w: tnp.sum(np.arange(3.0) * w))(w32)
    assert g.dtype == np.float32
    out, t = tinyad.jvp(lambda w: np.arange(3.0) * w, (w32,), (np.ones(3),))
    assert out.dtype == np.float64 and t.dtype == np.float64
    # a float64 tangent for a float32 primal is taken in the primal's dtype
    _, t = tinyad.jvp(lambda w: w * 2.0, (w32,), (np.ones(3),))
    assert t.dtype == np.float32


@pytest.mark.parametrize("make", [lambda: optim.sgd(0.1, 0.9, weight_decay=1e-3), lambda: optim.adam(0.01),
                                  lambda: optim.rmsprop(0.01, momentum=0.5), lambda: optim.sgd_hd(0.01, 1e-3),
                                  lambda: optim.adam_hd(0.01, 1e-4)])
def test_optimizers_keep_float32_parameters_and_states(make):
    opt = make()
    p = nn.init_mlp((3, 4, 2), seed=0)
    p = tinyad.tree_map(lambda a: a.astype(np.float32), p)
    s = opt.init(p)
    y = np.eye(2, dtype=np.float32)[[0, 1]]
    for _ in range(3):
        g = tinyad.grad(lambda q: nn.cross_entropy(nn.mlp(q, X32), y))(p)
        assert all(a.dtype == np.float32 for a in tinyad.tree_leaves(g))
        p, s = opt.update(g, s, p)
    assert all(a.dtype == np.float32 for a in tinyad.tree_leaves(p))
    assert all(np.result_type(a) == np.float32 for a in tinyad.tree_leaves(s) if isinstance(a, np.ndarray))


@pytest.mark.parametrize("make", [lambda: optim.stack(optim.sgd(0.1, 0.5), optim.sgd(1e-3)),
                                  lambda: optim.stack(optim.adam(0.01), optim.sgd(1e-4)),
                                  lambda: optim.stack(optim.stack(optim.sgd(0.1), optim.sgd(1e-3)), optim.sgd(1e-4)),
                                  lambda: optim.sgd(0.1, 0.9), lambda: optim.adam(0.01), lambda: optim.rmsprop(0.01),
                                  lambda: optim.sgdn_hd(0.01, 1e-3)])
def test_parameters_stay_float32_under_float64_hyperparameters_and_gradients(make):
    # a stack's tuned hyperparameters are float64 (as hyperparameters are); float64 gradients of float32
    # parameters happen too: the parameters and what is shaped like them keep their dtype, as optax keeps it
    opt = make()
    p = {"w": np.ones(3, np.float32), "b": np.zeros(2, np.float32)}
    s = opt.init(p)
    for i in range(4):
        g = {"w": np.full(3, 0.5, np.float64 if i % 2 else np.float32), "b": np.ones(2, np.float32)}
        p, s = opt.update(g, s, p)
        assert {k: v.dtype for k, v in p.items()} == {"w": np.float32, "b": np.float32}, i
    def state(s):  # a stack keeps the last gradients as given ("prev"): the rest is the optimizers' own state
        return {k: state(v) for k, v in s.items() if k != "prev"} if isinstance(s, dict) else s

    shaped_like_params = [a for a in tinyad.tree_leaves(state(s))
                          if isinstance(a, np.ndarray) and a.shape in ((3,), (2,))]
    assert shaped_like_params and all(a.dtype == np.float32 for a in shaped_like_params)


def test_complex_gradients_of_real_parameters_are_refused():
    p = {"w": np.ones(2)}
    for opt in (optim.sgd(0.1), optim.adam(0.1)):
        with pytest.raises(TypeError, match="parameter 'w' are complex .* the parameter is real"):
            opt.update({"w": np.ones(2) * 1j}, opt.init(p), p)
