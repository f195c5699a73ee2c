"""Elementwise primitives with NumPy broadcasting.

Each op gives its value and one partial derivative per argument, ``d(ans, *args)``, written in tinyad ops;
:meth:`Primitive.def_partials` turns that single formula into both the JVP and the VJP, and the engine
handles broadcasting (aligning tangents, summing cotangents back to an argument's shape) for all of them.
Adding an elementwise primitive is one line here plus its case in tests/test_primitives.py.

Complex values follow JAX's convention: a cotangent c of z means dL = Re(sum(c dz)), so a holomorphic op's
VJP multiplies by the same derivative as its JVP; the non-holomorphic ones (abs, conj, imag, angle; real in
``tinyad.core.vspace``) say their rules explicitly.
"""

from __future__ import annotations

import numpy as np

from ..core.primitive import builtin, is_complex
from ..core.trace import Box
from ..core.vspace import add, real  # noqa: F401 - the engine's own elementwise primitives, re-exported
from ..kernels import special
from .nondiff import as_float, equal, floor, greater, isnan, less, logical_and, logical_or, sign, trunc


def _ew(impl, name: str, *partials, scalar: str | None = None):
    """An elementwise primitive from its partial derivatives; ``scalar``: the same op on scalars, in the
    numba-compilable form fused kernels use (``tinyad.core.fusion``). Only arithmetic has one: NumPy's SIMD
    exp/log/tanh are several times faster than a loop of scalar libm calls, so those are never fused."""
    prim = builtin(impl, name, elementwise=True).def_partials(*partials)
    prim.scalar = scalar
    return prim


# ---- arithmetic -------------------------------------------------------------------------------------
subtract = _ew(np.subtract, "subtract", 1, -1, scalar="({0} - {1})")
negative = _ew(np.negative, "negative", -1, scalar="(-{0})")
multiply = _ew(np.multiply, "multiply", lambda ans, x, y: y, lambda ans, x, y: x, scalar="({0} * {1})")
divide = _ew(np.divide, "divide", lambda ans, x, y: 1.0 / y, lambda ans, x, y: negative(ans) / y, scalar="({0} / {1})")
square = _ew(np.square, "square", lambda ans, x: 2.0 * x, scalar="({0} * {0})")
sqrt = _ew(np.sqrt, "sqrt", lambda ans, x: 0.5 / ans, scalar="np.sqrt({0})")
def _dpower_dx(ans, x, y):
    """y x**(y-1), and 0 at x = y = 0: x**0 is 1 everywhere (0**0 too), so 0 * inf there must not give NaN.
    Only that point is replaced: elsewhere on y = 0 the formula is already 0 and its own derivative in y
    (1/x) is needed by second derivatives."""
    if isinstance(y, Box) or np.any(np.equal(y, 0)):
        at = logical_and(equal(x, 0), equal(y, 0))  # x replaced there too, so higher derivatives are 0, not NaN
        return where(at, 0.0, y * where(at, 1.0, x) ** (y - 1))
    return y * x ** (y - 1)


def _dpower_dy(ans, x, y):
    """log(x) x**y; at x = 0 the factor x**y is 0 (y > 0), so log is evaluated at 1 there. A real x with a
    complex result (a negative base, a complex exponent) takes its complex logarithm."""
    safe = where(equal(x, 0), 1.0, x)
    if is_complex(ans) and not is_complex(x):
        safe = safe + 0j
    return log(safe) * ans


power = _ew(np.power, "power", _dpower_dx, _dpower_dy)

# ---- transcendental ---------------------------------------------------------------------------------
exp = _ew(np.exp, "exp", lambda ans, x: ans)
log = _ew(np.log, "log", lambda ans, x: 1.0 / x)
log1p = _ew(np.log1p, "log1p", lambda ans, x: 1.0 / (1.0 + x))
sin = _ew(np.sin, "sin", lambda ans, x: cos(x))
cos = _ew(np.cos, "cos", lambda ans, x: negative(sin(x)))
tanh = _ew(np.tanh, "tanh", lambda ans, x: 1.0 - square(ans))

# ---- piecewise: derivative of the selected branch; ties split the gradient evenly (as JAX does) -----
abs = builtin(np.abs, "abs", elementwise=True)  # noqa: A001 - the NumPy name
# |x|' = sign(x), 0 at x = 0 (JAX takes 1 there for real x; see docs/numpy.md); for complex z,
# d|z| = Re(conj(z/|z|) dz), so the cotangent is g conj(z/|z|) — written with z / |z| (not sign, a constant)
# because it varies with z and second derivatives need that; 0 at z = 0, as in JAX.
def _unit(ans, z):
    """z / |z|, and 0 at z = 0 (not 0/0)."""
    return z / where(equal(ans, 0), 1.0, ans)


abs.defjvp(lambda g, ans, x: real(conj(_unit(ans, x)) * g) if is_complex(x) else g * sign(x))
abs.defvjp(lambda g, ans, x: g * conj(_unit(ans, x)) if is_complex(x) else g * sign(x))
abs.scalar = "abs({0})"


def _pick(a, b):
    return as_float(greater(a, b)) + 0.5 * as_float(equal(a, b))


maximum = _ew(np.maximum, "maximum", lambda ans, x, y: _pick(x, y), lambda ans, x, y: _pick(y, x),
              scalar="({0} if {0} > {1} or {0} != {0} else {1})")  # NaN propagates, ties give y: NumPy's
minimum = _ew(np.minimum, "minimum", lambda ans, x, y: _pick(y, x), lambda ans, x, y: _pick(x, y),
              scalar="({0} if {0} < {1} or {0} != {0} else {1})")

# where(cond, x, y): cond is a constant (tinyad.numpy.where strips it); x and y are selected elementwise.
where = _ew(
    np.where,
    "where",
    None,
    lambda ans, c, x, y: as_float(c),
    lambda ans, c, x, y: 1.0 - as_float(c),
    scalar="({1} if {0} else {2})",
)

# ---- more transcendental functions ------------------------------------------------------------------
tan = _ew(np.tan, "tan", lambda ans, x: 1.0 + square(ans))
arcsin = _ew(np.arcsin, "arcsin", lambda ans, x: 1.0 / sqrt(1.0 - square(x)))
arccos = _ew(np.arccos, "arccos", lambda ans, x: -1.0 / sqrt(1.0 - square(x)))
arctan = _ew(np.arctan, "arctan", lambda ans, x: 1.0 / (1.0 + square(x)))
arctan2 = _ew(np.arctan2, "arctan2", lambda ans, y, x: x / (square(x) + square(y)),
              lambda ans, y, x: negative(y) / (square(x) + square(y)))
sinh = _ew(np.sinh, "sinh", lambda ans, x: cosh(x))
cosh = _ew(np.cosh, "cosh", lambda ans, x: sinh(x))
arcsinh = _ew(np.arcsinh, "arcsinh", lambda ans, x: 1.0 / sqrt(square(x) + 1.0))
log2 = _ew(np.log2, "log2", lambda ans, x: 1.0 / (x * np.log(2.0)))
log10 = _ew(np.log10, "log10", lambda ans, x: 1.0 / (x * np.log(10.0)))
exp2 = _ew(np.exp2, "exp2", lambda ans, x: ans * np.log(2.0))
expm1 = _ew(np.expm1, "expm1", lambda ans, x: ans + 1.0)
reciprocal = _ew(np.reciprocal, "reciprocal", lambda ans, x: negative(square(ans)), scalar="(1.0 / {0})")
hypot = _ew(np.hypot, "hypot", lambda ans, x, y: x / ans, lambda ans, x, y: y / ans)
fmod = _ew(np.fmod, "fmod", lambda ans, x, y: 1.0, lambda ans, x, y: negative(trunc(x / y)))
# mod(x, y) = x - y floor(x / y) (NumPy's sign convention: the result takes y's sign), as in JAX
mod = _ew(np.mod, "mod", lambda ans, x, y: 1.0, lambda ans, x, y: negative(floor(x / y)))
float_power = _ew(np.float_power, "float_power", _dpower_dx, _dpower_dy)
arccosh = _ew(np.arccosh, "arccosh", lambda ans, x: 1.0 / sqrt(square(x) - 1.0))
arctanh = _ew(np.arctanh, "arctanh", lambda ans, x: 1.0 / (1.0 - square(x)))


# ---- activations and log-sum-exp of two ---------------------------------------------------------------
def _sigmoid(x):
    """1 / (1 + exp(-x)) without overflow: exp of -|x| only (complex x: the formula itself, as JAX)."""
    if np.iscomplexobj(x):
        return 1.0 / (1.0 + np.exp(-x))
    e = np.exp(-np.abs(x))
    return np.where(np.greater_equal(x, 0), 1.0 / (1.0 + e), e / (1.0 + e))[()]


def _softplus(x):
    if np.iscomplexobj(x):
        raise TypeError("tinyad.numpy.softplus takes real numbers (log(1 + exp(x)) of a complex x has branch cuts); "
                        "write tnp.log1p(tnp.exp(z)) if that is what you mean")
    return np.logaddexp(x, 0.0)


def _relu(x):
    return np.maximum(x, 0)


sigmoid = _ew(_sigmoid, "sigmoid", lambda ans, x: ans * (1.0 - ans))
softplus = _ew(_softplus, "softplus", lambda ans, x: sigmoid(x))
relu = _ew(_relu, "relu", lambda ans, x: as_float(greater(x, 0)))  # 0 at 0, as JAX's relu
# d/dx log(e^x + e^y) = sigmoid(x - y): 1 and 0 at x = inf > y (exp(x - ans) would give exp(inf - inf) = NaN)
logaddexp = _ew(np.logaddexp, "logaddexp", lambda ans, x, y: sigmoid(x - y), lambda ans, x, y: sigmoid(y - x))
logaddexp2 = _ew(np.logaddexp2, "logaddexp2", lambda ans, x, y: sigmoid((x - y) * np.log(2.0)),
                 lambda ans, x, y: sigmoid((y - x) * np.log(2.0)))

# ---- the error function (numba kernels: NumPy has none) ------------------------------------------------
_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)
erf = _ew(special.erf, "erf", lambda ans, x: _TWO_OVER_SQRT_PI * exp(negative(square(x))))
erfc = _ew(special.erfc, "erfc", lambda ans, x: -_TWO_OVER_SQRT_PI * exp(negative(square(x))))

# NaN-ignoring maximum/minimum: the derivative goes to the argument that is selected, to y at ties (as JAX).
def _x_wins(beats, x, y):
    """1 where fmax/fmin select x: x beats y, or y is NaN."""
    return as_float(logical_or(beats(x, y), isnan(y)))


fmax = _ew(np.fmax, "fmax", lambda ans, x, y: _x_wins(greater, x, y), lambda ans, x, y: 1.0 - _x_wins(greater, x, y))
fmin = _ew(np.fmin, "fmin", lambda ans, x, y: _x_wins(less, x, y), lambda ans, x, y: 1.0 - _x_wins(less, x, y))
# copysign(x, y) = |x| with the sign of y: d/dx = sign(x) * (+-1 by y's sign bit); y only chooses a sign.
copysign = _ew(np.copysign, "copysign", lambda ans, x, y: sign(x) * copysign(1.0, y), 0.0)


def _sinc_partial(ans, x):
    """sinc'(x) = (cos(pi x) - sinc(x)) / x, by its Maclaurin series -pi^2 x / 3 + pi^4 x^3 / 30 near 0 (so that
    the second derivative at 0 is -pi^2 / 3, not the 0 a guarded division would give)."""
    small = less(abs(x), 1e-3)  # a constant mask, by a primitive (jit replays rules); |x|: complex x too
    safe = where(small, 1.0, x)
    series = x * (-np.pi ** 2 / 3.0 + (np.pi ** 4 / 30.0) * square(x))
    return where(small, series, (cos(np.pi * x) - ans) / safe)


sinc = _ew(np.sinc, "sinc", _sinc_partial)

# ---- complex numbers (JAX's convention: a cotangent c of z means dL = Re(sum(c dz))) -------------------
imag = builtin(np.imag, "imag", elementwise=True)
imag.defjvp(lambda g, ans, x: imag(g))
imag.defvjp(lambda g, ans, x: g * -1j)  # g Im(dz) = Re(-i g dz)
conj = builtin(np.conjugate, "conj", elementwise=True)
conj.defjvp(lambda g, ans, x: conj(g))
conj.defvjp(lambda g, ans, x: conj(g))  # Re(g conj(dz)) = Re(conj(g) dz)
angle = builtin(np.angle, "angle", elementwise=True)
angle.defjvp(lambda g, ans, x: imag(conj(x) * g) / square(abs(x)))
angle.defvjp(lambda g, ans, x: g * -1j * conj(x) / square(abs(x)))  # Im(conj(z) dz) / |z|^2
