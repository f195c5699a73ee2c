"""Argument forms NumPy accepts — axes as ints, negative ints, tuples, lists or None; keepdims; lists and
scalars for arrays; 0-d and empty arrays; dtypes; NumPy's keyword arguments — give NumPy's value, shape and
dtype, and (where the value is differentiable) derivatives that pass check_grads to second order. What tinyad
does not support raises an error naming it, never an internal error."""

import warnings

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp
from tinyad.ops.structural import astype_p
from tinyad.testing import check_grads

RNG = np.random.default_rng(11)
X1 = RNG.standard_normal(5)
X2 = RNG.standard_normal((3, 4))
X3 = RNG.standard_normal((2, 3, 4))
X0 = np.array(0.7)
EMPTY = np.zeros((0, 3))
LIST = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]

# label: (f(m, x), x) -- m is numpy or tinyad.numpy; x the (differentiable) input, None for none
FORMS = {
    # reductions: axis forms, keepdims, NumPy's keywords
    **{f"{name} axis={axis!r} keepdims={kd}": (lambda m, x, name=name, axis=axis, kd=kd: getattr(m, name)(
        x, axis=axis, keepdims=kd), X3)
       for name in ("sum", "mean", "max", "min", "amax", "amin", "prod", "std", "var")
       for axis in (None, 0, -1, (0, 2), (-1, 0), ()) for kd in (False, True) if (name, axis) != ("std", ())},
    **{f"{name} of a list": (lambda m, x, name=name: getattr(m, name)(LIST, 1), None)
       for name in ("sum", "mean", "max", "min", "prod", "std", "var", "cumsum", "cumprod", "sort", "diff", "flip",
                    "diagonal", "trace", "tril", "triu", "roll", "repeat", "tile")},
    **{f"{name} of a list": (lambda m, x, name=name: getattr(m, name)([LIST]), None)
       for name in ("ravel", "squeeze", "atleast_3d", "transpose", "real", "exp", "tanh")},
    **{f"{name} of a 0-d array": (lambda m, x, name=name: getattr(m, name)(x), X0)
       for name in ("sum", "mean", "max", "min", "prod", "var", "cumsum", "cumprod", "ravel", "flip")},
    **{f"{name} of a scalar": (lambda m, x, name=name: getattr(m, name)(2.5), None)
       for name in ("sum", "mean", "max", "prod", "cumsum")},
    "sum of ints": (lambda m, x: m.sum(np.arange(6).reshape(2, 3), axis=0), None),
    "mean of ints": (lambda m, x: m.mean(np.arange(6).reshape(2, 3), 1), None),
    "sum dtype": (lambda m, x: m.sum(x, 0, np.float32), X2),
    "sum initial": (lambda m, x: m.sum(x, axis=1, initial=2.0), X2),
    "sum where": (lambda m, x: m.sum(x, axis=1, where=X2 > 0), X2),
    "prod initial where": (lambda m, x: m.prod(x, axis=0, initial=0.5, where=X2 > -0.5), X2),
    "max initial": (lambda m, x: m.max(x, axis=0, initial=0.3), X2),
    "max where initial": (lambda m, x: m.max(x, axis=1, where=X2 < 0.5, initial=-3.0), X2),
    "min initial of empty": (lambda m, x: m.min(x, axis=0, initial=1.5), EMPTY),
    "mean where": (lambda m, x: m.mean(x, axis=1, where=X2 > -1.0), X2),
    "mean where keepdims": (lambda m, x: m.mean(x, axis=(0, 2), keepdims=True, where=X3 > -1.0), X3),
    "var ddof positional": (lambda m, x: m.var(x, 0, None, None, 1), X2),
    "std correction": (lambda m, x: m.std(x, axis=1, correction=1), X2),
    "var where": (lambda m, x: m.var(x, axis=1, where=X2 > -1.0), X2),
    "var mean": (lambda m, x: m.var(x, axis=1, keepdims=True, mean=np.mean(X2, axis=1, keepdims=True)), X2),
    "var of complex": (lambda m, x: m.var(x * (1 + 2j) + 1j * x ** 2, axis=0), X2),
    "prod of empty": (lambda m, x: m.prod(x, axis=0), EMPTY),
    "sum of empty": (lambda m, x: m.sum(x, axis=1), EMPTY),
    "cumsum axis None": (lambda m, x: m.cumsum(x), X3),
    "cumprod negative axis": (lambda m, x: m.cumprod(x, axis=-2), X3),
    "cumsum dtype": (lambda m, x: m.cumsum(x, 0, np.float32), X2),
    "cumsum of empty": (lambda m, x: m.cumsum(x, axis=0), EMPTY),
    "trace negative axes": (lambda m, x: m.trace(x, -1, -1, -2), X3),
    "any tuple axis": (lambda m, x: m.any(x > 1.0, axis=(0, 2)), X3),
    "all keepdims": (lambda m, x: m.all(x > -2.0, axis=1, keepdims=True), X3),
    "argmax keepdims": (lambda m, x: m.argmax(x, axis=1, keepdims=True), X3),
    "isclose": (lambda m, x: m.isclose(x, x + 1e-9), X2),
    "allclose": (lambda m, x: m.allclose(x, x + 1e-3), X2),
    "zeros_like of ints": (lambda m, x: m.zeros_like(np.arange(3)), None),
    "ones_like dtype": (lambda m, x: m.ones_like(x, dtype=np.float32), X2),
    "full_like": (lambda m, x: m.full_like(x, 2.5), X2),
    "full_like of ints": (lambda m, x: m.full_like(np.arange(3), 2.5), None),
    "empty_like shape": (lambda m, x: m.empty_like(x, shape=(2, 2)).shape, X2),
    # shapes
    "reshape int": (lambda m, x: m.reshape(x, -1), X3),
    "reshape order F": (lambda m, x: m.reshape(x, (4, 6), order="F"), X3),
    "reshape of a list": (lambda m, x: m.reshape(LIST, (3, 2)), None),
    "ravel order F": (lambda m, x: m.ravel(x, order="F"), X3),
    "squeeze tuple": (lambda m, x: m.squeeze(x.reshape(1, 24, 1), axis=(0, 2)), X3),
    "expand_dims tuple": (lambda m, x: m.expand_dims(x, (0, -1)), X2),
    "expand_dims list": (lambda m, x: m.expand_dims(x, [0, 2]), X2),
    "expand_dims negative tuple": (lambda m, x: m.expand_dims(x, (-1, -3)), X2),
    "moveaxis lists": (lambda m, x: m.moveaxis(x, [0, 1], [-1, -2]), X3),
    "moveaxis tuples": (lambda m, x: m.moveaxis(x, (-1,), (0,)), X3),
    "swapaxes negative": (lambda m, x: m.swapaxes(x, -1, 0), X3),
    "transpose negative": (lambda m, x: m.transpose(x, (-1, 0, -2)), X3),
    "transpose list": (lambda m, x: m.transpose(x, [2, 0, 1]), X3),
    "rot90 negative axes": (lambda m, x: m.rot90(x, 1, (-1, -2)), X3),
    "rot90 k=-1": (lambda m, x: m.rot90(x, -1, (0, 2)), X3),
    "rot90 list axes": (lambda m, x: m.rot90(x, 2, [2, 1]), X3),
    "diagonal negative axes": (lambda m, x: m.diagonal(x, 1, -1, -2), X3),
    "diagonal negative offset": (lambda m, x: m.diagonal(x, -1, 0, 2), X3),
    "diagonal offset beyond": (lambda m, x: m.diagonal(x, 5), X2),
    "diag of a list": (lambda m, x: m.diag([1.0, 2.0], 1), None),
    "flip tuple": (lambda m, x: m.flip(x, (0, -1)), X3),
    "roll tuples": (lambda m, x: m.roll(x, (1, -2), (0, 2)), X3),
    "roll lists on one axis": (lambda m, x: m.roll(x, [1, 2], [-1, -1]), X3),
    "roll flat": (lambda m, x: m.roll(x, -7), X3),
    "roll of empty": (lambda m, x: m.roll(x, 1, 0), EMPTY),
    "tile int": (lambda m, x: m.tile(x, 2), X2),
    "tile of 0-d": (lambda m, x: m.tile(x, (2, 3)), X0),
    "repeat per element": (lambda m, x: m.repeat(x, [1, 0, 2], axis=0), X2),
    "repeat negative axis": (lambda m, x: m.repeat(x, 2, axis=-1), X2),
    "concatenate axis None": (lambda m, x: m.concatenate([x, X3], axis=None), X2),
    "concatenate negative": (lambda m, x: m.concatenate((x, x), axis=-1), X3),
    "concatenate lists": (lambda m, x: m.concatenate([LIST, LIST]), None),
    "concatenate dtype": (lambda m, x: m.concatenate([x, x], dtype=np.float32), X2),
    "stack negative": (lambda m, x: m.stack([x, x], axis=-1), X2),
    "stack lists": (lambda m, x: m.stack([[1.0, 2.0], [3.0, 4.0]], axis=1), None),
    "stack 0-d": (lambda m, x: m.stack([x, x]), X0),
    "hstack 0-d": (lambda m, x: m.hstack([x, x]), X0),
    "vstack 1-d": (lambda m, x: m.vstack([x, x]), X1),
    "split sections": (lambda m, x: m.split(x, [1, 3], axis=-1), X2),
    "array_split negative": (lambda m, x: m.array_split(x, 3, axis=-1), X2),
    "array_split beyond": (lambda m, x: m.array_split(x, [2, 10]), X1),
    "take flat": (lambda m, x: m.take(x, [0, 5, 5]), X3),
    "take negative indices": (lambda m, x: m.take(x, [-1, 0], axis=1), X3),
    "take 2-d indices": (lambda m, x: m.take(x, [[0, 1], [1, 1]], axis=-1), X3),
    "take scalar index": (lambda m, x: m.take(x, 2, axis=2), X3),
    "take wrap": (lambda m, x: m.take(x, [0, 9, -7], mode="wrap"), X1),
    "take clip": (lambda m, x: m.take(x, [0, 9, -7], mode="clip"), X1),
    "take_along_axis": (lambda m, x: m.take_along_axis(x, np.argsort(X3, axis=-2), axis=-2), X3),
    "take_along_axis None": (lambda m, x: m.take_along_axis(x, np.array([3, 0, 0]), axis=None), X3),
    "take_along_axis broadcast": (lambda m, x: m.take_along_axis(x, np.array([[[0]], [[1]]]), axis=1), X3),
    "sort axis None": (lambda m, x: m.sort(x, axis=None), X3),
    "sort axis 0": (lambda m, x: m.sort(x, axis=0), X3),
    "sort kind": (lambda m, x: m.sort(x, kind="stable"), X1),
    "pad int": (lambda m, x: m.pad(x, 1), X2),
    "pad pair": (lambda m, x: m.pad(x, (1, 2)), X2),
    "pad per axis": (lambda m, x: m.pad(x, ((0, 1), (2, 0))), X2),
    "pad constant per axis": (lambda m, x: m.pad(x, 1, constant_values=((1.0, 2.0), (3.0, 4.0))), X2),
    "pad of a list": (lambda m, x: m.pad(LIST, 1), None),
    **{f"pad {mode}": (lambda m, x, mode=mode: m.pad(x, ((2, 5), (1, 0)), mode=mode), X2)
       for mode in ("edge", "reflect", "symmetric", "wrap")},
    "tril negative k": (lambda m, x: m.tril(x, -1), X3),
    "tril of 1-d": (lambda m, x: m.tril(x), X1),
    "meshgrid ij": (lambda m, x: m.meshgrid(x, X2[0], indexing="ij"), X1),
    "meshgrid three": (lambda m, x: m.meshgrid(x, X2[0], x[:2]), X1),
    "meshgrid sparse": (lambda m, x: m.meshgrid(x, X2[0], sparse=True), X1),
    "atleast_1d several": (lambda m, x: m.atleast_1d(x, X1), X0),
    "atleast_2d several": (lambda m, x: m.atleast_2d(x, X1), X0),
    "broadcast_to int": (lambda m, x: m.broadcast_to(x, 4), X0),
    "where alone": (lambda m, x: m.where(x > 0), X2),
    "where list condition": (lambda m, x: m.where([True, False, True, True], x, -x), X2),
    "clip None": (lambda m, x: m.clip(x, None, 0.5), X2),
    "clip keywords": (lambda m, x: m.clip(x, min=-0.2, max=0.3), X2),
    "clip ints": (lambda m, x: m.clip(np.arange(5), 1, 3), None),
    "clip crossed bounds": (lambda m, x: m.clip(x, 0.5, -0.5), X2),
    "diff n axis": (lambda m, x: m.diff(x, 2, 0), X2),
    "diff prepend append": (lambda m, x: m.diff(x, 1, -2, prepend=0.5, append=np.ones((1, 4))), X2),
    "diff n beyond": (lambda m, x: m.diff(x, 7), X2),
    "diff of bools": (lambda m, x: m.diff(np.array([True, False, False])), None),
    # products
    "einsum ellipsis": (lambda m, x: m.einsum("...ij->...ji", x), X3),
    "einsum trace": (lambda m, x: m.einsum("ii", x[:, :3]), X2),
    "einsum diagonal": (lambda m, x: m.einsum("ii->i", x[:, :3]), X2),
    "einsum repeated in two operands": (lambda m, x: m.einsum("aab,bcc->ac", x[:2, :2, :3].reshape(2, 2, 3),
                                                             np.ones((3, 2, 2))), X3),
    "einsum implicit": (lambda m, x: m.einsum("ba", x), X2),
    "einsum broadcast ellipsis": (lambda m, x: m.einsum("...ij,...jk", x, np.ones((2, 4, 5))), X3),
    "einsum broadcast size 1": (lambda m, x: m.einsum("ij,ij->ij", x[:1], x), X2),
    "einsum sublists": (lambda m, x: m.einsum(x, [0, 1], x.T, [1, 2], [0, 2]), X2),
    "einsum sublists ellipsis": (lambda m, x: m.einsum(x, [Ellipsis, 1], X1[:4], [1]), X2),
    "tensordot int": (lambda m, x: m.tensordot(x, x.T, 1), X2),
    "tensordot negative": (lambda m, x: m.tensordot(x, X2.T, axes=(-1, 0)), X3),
    "dot 1-d with 3-d": (lambda m, x: m.dot(x[0, :3], X3), X2),
    "inner of 2-d": (lambda m, x: m.inner(x, X3), X2),
    "outer of 2-d": (lambda m, x: m.outer(x, X1), X2),
    # fft
    **{f"{name} n={n}": (lambda m, x, name=name, n=n: getattr(m.fft, name)(x, n=n), X2)
       for name in ("fft", "ifft", "rfft") for n in (2, 4, 7)},
    **{f"{name} norm={norm}": (lambda m, x, name=name, norm=norm: getattr(m.fft, name)(x, norm=norm, axis=0), X2)
       for name in ("fft", "ifft", "rfft", "irfft") for norm in ("backward", "ortho", "forward")},
    **{f"irfft n={n}": (lambda m, x, n=n: m.fft.irfft(m.fft.rfft(x) * (1 + 0.3j), n=n), X1) for n in range(1, 10)},
    **{f"{name}": (lambda m, x, name=name: getattr(m.fft, name)(x), X3)
       for name in ("fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn")},
    **{f"{name} axes s": (lambda m, x, name=name: getattr(m.fft, name)(x, s=(3, 5), axes=(0, 2), norm="ortho"), X3)
       for name in ("fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn")},
    "fft2 one axis": (lambda m, x: m.fft.fft2(x, axes=(1,)), X3),
    "fftshift int axes": (lambda m, x: m.fft.fftshift(x, axes=-1), X3),
    "fft of a list": (lambda m, x: m.fft.fft([1.0, 2.0, 3.0]), None),
    # statistics, products and joins built from primitives
    "median": (lambda m, x: m.median(x), X2),
    "median axis keepdims": (lambda m, x: m.median(x, axis=(0, 2), keepdims=True), X3),
    "median even count": (lambda m, x: m.median(x, axis=0), X2[:2]),
    "quantile": (lambda m, x: m.quantile(x, 0.3, axis=1), X2),
    "quantile array keepdims": (lambda m, x: m.quantile(x, np.array([0.1, 0.5, 1.0]), axis=-1, keepdims=True), X3),
    "percentile": (lambda m, x: m.percentile(x, [25, 75]), X2),
    "average weights along axis": (lambda m, x: m.average(x, axis=1, weights=np.array([1.0, 2, 3, 4])), X2),
    "average full weights": (lambda m, x: m.average(x, weights=np.abs(X2) + 0.1), X2),
    "average returned": (lambda m, x: m.average(x, axis=0, returned=True), X2),
    "ptp": (lambda m, x: m.ptp(x, axis=0), X2),
    "cov": (lambda m, x: m.cov(x), X2),
    "cov rowvar ddof": (lambda m, x: m.cov(x, rowvar=False, ddof=0), X2),
    "cov of two vectors": (lambda m, x: m.cov(x, x ** 2), X1),
    "cov of one vector": (lambda m, x: m.cov(x), X1),
    "corrcoef": (lambda m, x: m.corrcoef(x), X2),
    "corrcoef two vectors": (lambda m, x: m.corrcoef(x, x ** 3), X1),
    **{f"{name}": (lambda m, x, name=name: getattr(m, name)(x, axis=1), np.where(X2 > 1.2, np.nan, X2))
       for name in ("nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanstd", "nanvar")},
    "count_nonzero": (lambda m, x: m.count_nonzero(x > 0, axis=0), X2),
    "cumulative_sum": (lambda m, x: m.cumulative_sum(x, axis=1, include_initial=True), X2),
    "kron": (lambda m, x: m.kron(x[:2, :3], X2[:3, :2]), X2),
    "kron of ranks 1 and 3": (lambda m, x: m.kron(x[:2], X3), X1),
    "cross": (lambda m, x: m.cross(x[:, :3], X2[::-1, 1:]), X2),
    "cross axis": (lambda m, x: m.cross(x[:, :3].T, X2[:, 1:].T, axis=0), X2),
    "cross of a 2- and a 3-vector": (lambda m, x: m.cross(x[:, :2], X2[:, :3]), X2),
    "vdot complex": (lambda m, x: m.vdot(x * (1 + 1j), X2 + 2j), X2),
    **{f"convolve {mode}": (lambda m, x, mode=mode: m.convolve(x, X2[0, :3], mode), X1)
       for mode in ("full", "same", "valid")},
    **{f"correlate {mode} shorter first": (lambda m, x, mode=mode: m.correlate(X2[0, :3], x, mode), X1)
       for mode in ("full", "same", "valid")},
    "correlate complex": (lambda m, x: m.correlate(x * (1 + 1j), X2[0, :3] + 0.5j, "full"), X1),
    "polyval": (lambda m, x: m.polyval(X1[:3], x), X2),
    "polyval in the coefficients": (lambda m, x: m.polyval(x, X2), X1),
    "interp": (lambda m, x: m.interp(x, np.array([-1.0, 0, 0.5, 2]), X2[0]), np.array([-2.0, -0.3, 0.7, 2.5])),
    "interp in fp": (lambda m, x: m.interp(np.array([-2.0, -0.3, 0.7]), np.array([-1.0, 0, 0.5, 2]), x, left=-5.0),
                     X2[0]),
    "flipud": (lambda m, x: m.flipud(x), X2),
    "fliplr": (lambda m, x: m.fliplr(x), X3),
    "column_stack": (lambda m, x: m.column_stack([x, x ** 2]), X1),
    "dstack": (lambda m, x: m.dstack([x, x]), X2),
    "append": (lambda m, x: m.append(x, x[0]), X2),
    "append axis": (lambda m, x: m.append(x, x[:1], axis=0), X2),
    "select": (lambda m, x: m.select([x > 0.5, x < -0.5], [x, x ** 2], 0.25), X2),
    "deg2rad": (lambda m, x: m.deg2rad(x), X2),
    "degrees": (lambda m, x: m.degrees(x), X2),
    "fmax with NaN": (lambda m, x: m.fmax(x, np.where(X2 > 0.5, np.nan, -X2)), X2),
    "fmin with NaN": (lambda m, x: m.fmin(np.where(X2 > 0.5, np.nan, -X2), x), X2),
    "copysign": (lambda m, x: m.copysign(x, X2[::-1]), X2),
    "sinc": (lambda m, x: m.sinc(x), np.array([0.0, 1e-5, 0.3, -1.2, 2.0])),
    "cumulative_prod": (lambda m, x: m.cumulative_prod(x, axis=0, include_initial=True), X2),
    "vecdot": (lambda m, x: m.vecdot(x, X3, axis=-1), X2),
    "vecdot complex": (lambda m, x: m.vecdot(x * 1j + X2, X2), X2),
    "permute_dims": (lambda m, x: m.permute_dims(x, (2, 0, 1)), X3),
    "concat": (lambda m, x: m.concat([x, x], axis=1), X2),
    "matrix_transpose": (lambda m, x: m.matrix_transpose(x), X3),
    **{f"alias {name}": (lambda m, x, name=name: getattr(m, name)(x), X2 / 4.0)
       for name in ("acos", "asin", "atan", "asinh", "atanh")},
    "alias acosh": (lambda m, x: m.acosh(x), np.abs(X2) + 1.1),
    "alias pow": (lambda m, x: m.pow(x, 3.0), X2),
    "alias atan2": (lambda m, x: m.atan2(x, X2[::-1]), X2),
    "alias around": (lambda m, x: m.around(x, 1), X2),
    "array of an array": (lambda m, x: m.array(x, dtype=np.float32), X2),
    "asarray of a list": (lambda m, x: m.asarray([[1, 2], [3, 4]]), None),
    # elementwise
    "relu of ints": (lambda m, x: (np.maximum(np.arange(-2, 3), 0) if m is np else m.relu(np.arange(-2, 3))), None),
    "logaddexp broadcast": (lambda m, x: m.logaddexp(x, X1[:4]), X2),
    "logaddexp2 scalar": (lambda m, x: m.logaddexp2(x, 1.5), X2),
    "astype complex": (lambda m, x: (x.astype(np.complex128) if m is np else m.astype(x, np.complex128)) * 1j, X2),
}


def _equal_to_numpy(ours, theirs) -> None:
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _equal_to_numpy(a, b)
        return
    a, b = np.asarray(tinyad.stop_gradient(ours)), np.asarray(theirs)
    assert a.shape == b.shape, f"shape {a.shape}, NumPy's {b.shape}"
    assert a.dtype == b.dtype, f"dtype {a.dtype}, NumPy's {b.dtype}"
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("label", sorted(FORMS))
def test_argument_form_gives_numpy_value_and_checked_derivatives(label):
    f, x = FORMS[label]
    expected = f(np, x)
    _equal_to_numpy(f(tnp, x), expected)
    if x is None or label.startswith("empty_like"):
        return
    # the same value under differentiation (as an auxiliary output: constants, integers and booleans too)
    _, _, seen = tinyad.vjp(lambda a: (tnp.sum(a * 0.0), f(tnp, a)), x, has_aux=True)
    _equal_to_numpy(seen, expected)
    if _differentiable_output(expected):
        check_grads(lambda a: f(tnp, a), (x,), order=2)


def _differentiable_output(value) -> bool:
    """float64 or complex128 and not empty (float32 is too coarse for central differences)."""
    parts = value if isinstance(value, (tuple, list)) else (value,)
    return all(np.asarray(p).dtype in (np.float64, np.complex128) and np.size(p) for p in parts)


REFUSED = {  # what NumPy refuses, tinyad refuses with the same kind of error
    "rot90 equal axes": (lambda m: m.rot90(X3, 1, (1, 1)), ValueError),
    "rot90 three axes": (lambda m: m.rot90(X3, 1, (0, 1, 2)), ValueError),
    "moveaxis repeated": (lambda m: m.moveaxis(X3, [0, 0], [1, 2]), ValueError),
    "transpose repeated": (lambda m: m.transpose(X3, (0, 0, 1)), ValueError),
    "squeeze a long axis": (lambda m: m.squeeze(X2, axis=1), ValueError),
    "axis out of range": (lambda m: m.sum(X2, axis=2), np.exceptions.AxisError),
    "sort of 0-d": (lambda m: m.sort(X0), np.exceptions.AxisError),
    "concatenate 0-d": (lambda m: m.concatenate([X0, X0]), ValueError),
    "stack different shapes": (lambda m: m.stack([X1, X1[:2]]), ValueError),
    "split unequal": (lambda m: m.split(X2, 3, -1), ValueError),
    "diag of 0-d": (lambda m: m.diag(X0), ValueError),
    "diagonal of 1-d": (lambda m: m.diagonal(X1), ValueError),
    "einsum missing ellipsis": (lambda m: m.einsum("...i->i", X2), ValueError),
    "einsum repeated output": (lambda m: m.einsum("ij->ii", X2), ValueError),
    "where with one branch": (lambda m: m.where(X2 > 0, X2), ValueError),
    "take out of range": (lambda m: m.take(X1, [7]), IndexError),
    "fft n=0": (lambda m: m.fft.fft(X1, n=0), ValueError),
    "fft bad norm": (lambda m: m.fft.fft(X1, norm="unitary"), ValueError),
    "diff negative order": (lambda m: m.diff(X1, -1), ValueError),
    "max of empty": (lambda m: m.max(EMPTY, axis=0), ValueError),
    "max where without initial": (lambda m: m.max(X2, where=X2 > 0), ValueError),
    "pad negative width": (lambda m: m.pad(X2, -1), ValueError),
    "concatenate to int by same_kind": (lambda m: m.concatenate([X1, X1], dtype=np.int64), TypeError),
}


@pytest.mark.parametrize("label", sorted(REFUSED))
def test_what_numpy_refuses_is_refused(label):
    f, error = REFUSED[label]
    with pytest.raises(error):
        f(np)
    with pytest.raises(error):
        f(tnp)


UNSUPPORTED = {  # NumPy accepts these; tinyad says what it does not support (never an internal error)
    "pad mode mean": (lambda: tnp.pad(X2, 1, mode="mean"), NotImplementedError, "mode='mean'"),
    "pad reflect odd": (lambda: tnp.pad(X2, 1, mode="reflect", reflect_type="odd"), NotImplementedError, "odd"),
    "sum out": (lambda: tnp.sum(X2, out=np.zeros(())), TypeError, "out="),
    "sort order": (lambda: tnp.sort(X1, order="a"), NotImplementedError, "order="),
    "svd full non-square": (lambda: tinyad.grad(lambda a: tnp.sum(tnp.linalg.svd(a)[0]))(X2), NotImplementedError,
                            "full_matrices=False"),
    "qr raw": (lambda: tinyad.grad(lambda a: tnp.sum(tnp.linalg.qr(a, "raw")[0]))(X2), NotImplementedError,
               "mode='raw'"),
}


@pytest.mark.parametrize("label", sorted(UNSUPPORTED))
def test_unsupported_forms_say_what_is_unsupported(label):
    f, error, words = UNSUPPORTED[label]
    with pytest.raises(error, match=words):
        f()


def test_softmax_and_log_softmax_take_none_and_tuple_axes():
    """axis=None used to be read as axis 0 (a silently different result)."""
    for axis in (None, (0, 2), -2, 1):
        e = np.exp(X3 - X3.max(axis=axis, keepdims=True))
        expected = e / e.sum(axis=axis, keepdims=True)
        np.testing.assert_allclose(tnp.softmax(X3, axis=axis), expected, rtol=1e-13)
        np.testing.assert_allclose(tnp.log_softmax(X3, axis=axis), np.log(expected), rtol=1e-12, atol=1e-13)
        check_grads(lambda a: tnp.softmax(a, axis=axis), (X3,), order=2)


def test_array_and_asarray_of_lists_of_boxes_are_differentiable():
    """jnp.array([a, b]) of traced values is a stack; tnp.array does the same (NumPy's own would refuse)."""
    x = np.array(1.5)
    assert tinyad.grad(lambda a: tnp.sum(tnp.array([a, 2.0 * a, [a, a][0]]) ** 2))(x) == 2 * 1.5 * (1 + 4 + 1)
    np.testing.assert_array_equal(tinyad.grad(lambda a: tnp.mean([a[0], 3.0 * a[1]]))(np.array([1.0, 2.0])),
                                  [0.5, 1.5])
    assert tinyad.grad(lambda a: tnp.sum(tnp.asarray([[a, 1.0], [2.0, a]], dtype=np.float64)))(x) == 2.0
    np.testing.assert_array_equal(tnp.array([[1, 2]]), np.array([[1, 2]]))
    check_grads(lambda a: tnp.stack([tnp.array([a[0], a[1]]), tnp.asarray((a[1], a[0]))]) ** 2, (X1[:2],), order=2)


def test_boxes_have_the_ndarray_methods_numpy_code_calls():
    def f(x):
        parts = [x.real, x.imag, x.conj(), x.clip(0.0, 1.0), x.cumsum(0), x.round(1), x.take([0]), x.swapaxes(0, 1),
                 x.diagonal(), x.repeat(2), x.mT]
        assert x.argmax() == np.argmax(X2) and x.any() == np.any(X2) and x.all() == np.all(X2)
        return sum(tnp.sum(p) for p in parts)

    tinyad.grad(f)(X2)


def test_astype_primitive_from_real_to_complex_has_a_clean_vjp():
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        (g,) = tinyad.vjp(lambda x: astype_p(x, dtype=np.dtype(np.complex128)), X1)[1](X1 * (1 + 1j))
    np.testing.assert_array_equal(g, X1)


def test_zero_size_axes_give_numpys_results():
    np.testing.assert_array_equal(tnp.einsum("ij->j", np.zeros((0, 3))), np.zeros(3))
    np.testing.assert_array_equal(tnp.einsum("ij,jk->ik", np.zeros((2, 0)), np.zeros((0, 3))), np.zeros((2, 3)))
    assert tnp.einsum("ii->", np.zeros((0, 0))) == 0.0
    assert tnp.median(np.zeros((3, 0)), axis=0).shape == (0,)
    assert tnp.quantile(np.zeros((2, 0, 3)), [0.5, 0.2], axis=0).shape == (2, 0, 3)
    np.testing.assert_array_equal(tnp.logsumexp(np.zeros((3, 0)), axis=1), [-np.inf] * 3)  # SciPy, JAX
    assert tnp.logsumexp(np.zeros((3, 0)), axis=1, keepdims=True).shape == (3, 1)


def test_special_values_in_reductions_give_numpys_values():
    for a in ([1.0, np.inf, 2.0], [-np.inf, 5.0], [-np.inf, -np.inf], [np.inf, np.inf, 0.0], [3.0, 1.0, 2.0, 5.0]):
        assert tnp.median(np.array(a)) == np.median(np.array(a))
    assert np.isnan(tnp.nanmax(np.array([np.nan, np.nan])))  # all NaN: NaN, not the identity
    np.testing.assert_array_equal(tnp.nanmin(np.array([[np.nan], [1.0]]), axis=1), [np.nan, 1.0])
    np.testing.assert_array_equal(tinyad.grad(tnp.nanmax)(np.array([1.0, np.nan, 3.0])), [0.0, 0.0, 1.0])


def test_dtypes_of_counts_and_quantiles():
    x32 = np.arange(5, dtype=np.float32)
    assert tnp.median(x32).dtype == np.float32 and tnp.quantile(x32, [0.3, 0.7]).dtype == np.float32
    xc, m = np.array([1 + 2j, 3 - 1j]), np.array([True, True])
    assert tnp.var(xc, where=m) == np.var(xc, where=m) and np.result_type(tnp.var(xc, where=m)) == np.float64
    np.testing.assert_allclose(tinyad.grad(lambda z: tnp.var(z, where=m))(xc), [-1 - 1.5j, 1 + 1.5j])  # JAX
    np.testing.assert_array_equal(tnp.column_stack([1.0, 2.0]), np.column_stack([1.0, 2.0]))


def test_logsumexp_log_softmax_and_logaddexp_stay_accurate_at_extremes():
    x = np.array([1e4, 1e4 + 1], np.float32)  # JAX's values (max subtracted first)
    np.testing.assert_allclose(tinyad.grad(tnp.logsumexp)(x), [0.26894143, 0.7310586], rtol=1e-6)
    np.testing.assert_allclose(tnp.log_softmax(x), [-1.3132616, -0.31326163], rtol=1e-6)
    np.testing.assert_allclose(tinyad.grad(tnp.logsumexp)(np.array([1e16, 1e16])), [0.5, 0.5])
    assert tinyad.grad(tnp.logaddexp, argnums=(0, 1))(np.inf, 0.0) == (1.0, 0.0)
    _, t = tinyad.jvp(lambda c: np.array([-1.5]) ** c, (np.array([0.3 + 0.7j]),), (np.array([1 + 0j]),))
    np.testing.assert_allclose(t, [-0.35320387 + 0.18068238j], rtol=1e-7)  # JAX
