"""Complex values follow JAX's convention: a cotangent c of z means dL = Re(sum(c dz)). Every expected number
here was computed once with JAX (float64) and written down; tinyad must reproduce it in both modes."""

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp
from tinyad.testing import check_grads

Z = np.array([3 + 4j, -1 + 0.5j, 0.2 - 2j])
T = np.array([1 - 0.5j, 0.3 + 2j, -1 + 1j])  # a tangent of Z
U_REAL = np.array([0.7, -1.3, 0.4])  # a cotangent of a real output
U_COMPLEX = np.array([0.5 - 1j, 2 + 0.3j, -0.7 + 0.8j])  # a cotangent of a complex output


def test_the_cotangent_of_abs_squared_at_3_plus_4j():
    """|z|^2 = x^2 + y^2: dL = 2x dx + 2y dy = Re((2x - 2iy)(dx + i dy)), so the cotangent is 2 conj(z)."""
    np.testing.assert_allclose(tinyad.vjp(lambda z: tnp.abs(z) ** 2, 3 + 4j)[1](1.0)[0], 6 - 8j, rtol=1e-15)
    np.testing.assert_allclose(tinyad.vjp(lambda z: tnp.real(z * tnp.conj(z)), np.array(3 + 4j))[1](1.0)[0], 6 - 8j)


ELEMENTWISE = {  # name: (f, cotangent), with JAX's vjp(f, Z)(cotangent) and jvp(f, (Z,), (T,))
    "abs": (tnp.abs, U_REAL),
    "angle": (tnp.angle, U_REAL),
    "real": (tnp.real, U_REAL),
    "imag": (tnp.imag, U_REAL),
    "conj": (tnp.conj, U_COMPLEX),
    "exp": (tnp.exp, U_COMPLEX),
    "log": (tnp.log, U_COMPLEX),
    "sin": (tnp.sin, U_COMPLEX),
    "abs2": (lambda z: tnp.abs(z) ** 2, U_REAL),
    "sqrt": (tnp.sqrt, U_COMPLEX),
    "square": (tnp.square, U_COMPLEX),
    "reciprocal": (lambda z: 1 / z, U_COMPLEX),
    "tanh": (tnp.tanh, U_COMPLEX),
}
JAX_VJP = {
    "abs": [
        (0.42 - 0.5599999999999999j),
        (1.1627553482998907 + 0.5813776741499453j),
        (0.03980148760839958 + 0.3980148760839957j),
    ],
    "angle": [
        (-0.11199999999999999 - 0.08399999999999999j),
        (0.52 - 1.04j),
        (0.19801980198019803 - 0.019801980198019806j),
    ],
    "real": [(0.7 + 0j), (-1.3 + 0j), (0.4 + 0j)],
    "imag": [-0.7j, 1.3j, -0.4j],
    "conj": [(0.5 + 1j), (2 - 0.3j), (-0.7 - 0.8j)],
    "exp": [
        (-21.765176003799034 + 5.528390849928181j),
        (0.5927779251325564 + 0.44959497318507374j),
        (1.2442927338610825 + 0.3708065544123357j),
    ],
    "log": [(-0.1 - 0.2j), (-1.48 - 1.04j), (-0.4306930693069307 - 0.3069306930693069j)],
    "sin": [
        (-17.36862613634889 + 25.109368935668336j),
        (1.08697184434781 + 1.0597508325325287j),
        (-3.1574783233818358 + 2.4453796538236707j),
    ],
    "abs2": [(4.2 - 5.6000000000000005j), (2.6 + 1.3j), (0.16000000000000003 + 1.6000000000000003j)],
    "sqrt": [-0.25j, (0.3553532065406291 - 0.88784903074718j), (-0.3723616715370523 + 0.04354065556802463j)],
    "square": [(11 - 2j), (-4.3 + 1.4j), (2.9200000000000004 + 3.1199999999999997j)],
    "reciprocal": [(0.044 + 0.007999999999999998j), (-0.768 - 1.424j), (-0.1306244485834722 + 0.22840897951181258j)],
    "tanh": [
        (-0.01052122359656415 - 0.003516256074982878j),
        (0.5563978857089107 + 0.7577577897910666j),
        (0.4743629525676005 + 4.951325293579877j),
    ],
}
JAX_JVP = {
    "abs": [0.19999999999999996, 0.6260990336999411, -1.0945409092309881],
    "angle": [-0.22, -1.7200000000000002, -0.44554455445544555],
    "real": [1.0, 0.3, -1.0],
    "imag": [-0.5, 2.0, 1.0],
    "conj": [(1 + 0.5j), (0.3 - 2j), (-1 - 1j)],
    "exp": [
        (-20.729175312996134 - 8.636392922336874j),
        (-0.255888223715054 + 0.6986004046675756j),
        (1.618901279071142 + 0.6023354911545238j),
    ],
    "log": [(0.04 - 0.22j), (0.5599999999999999 - 1.72j), (-0.5445544554455446 - 0.44554455445544555j)],
    "sin": [
        (-28.960522270480112 + 9.666319466725335j),
        (-0.6941954870378522 + 1.350063792283367j),
        (-4.407748186243469 + 2.9666563260153294j),
    ],
    "abs2": [1.9999999999999996, 1.4000000000000001, -4.4],
    "sqrt": [
        (0.15000000000000002 - 0.2j),
        (0.953035099772672 + 0.07922058696265125j),
        (-0.49813856005520435 + 0.02484497008701919j),
    ],
    "square": [(10 + 5j), (-2.6 - 3.7j), (3.6 + 4.4j)],
    "reciprocal": [
        (0.030399999999999996 + 0.032799999999999996j),
        (1.1360000000000001 - 1.152j),
        (-0.19360846975786689 + 0.29163807469855896j),
    ],
    "tanh": [
        (-0.006307225232261593 - 0.009125739017924794j),
        (-0.5611627127707524 + 0.7542359610931834j),
        (0.1915149553039049 + 6.61453472179343j),
    ],
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_vjp_and_jvp_of_complex_inputs_equal_jax(name):
    f, u = ELEMENTWISE[name]
    np.testing.assert_allclose(tinyad.vjp(f, Z)[1](u)[0], JAX_VJP[name], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tinyad.jvp(f, (Z,), (T,))[1], JAX_JVP[name], rtol=1e-12, atol=1e-15)
    check_grads(f, (Z,), order=2)


def test_abs_of_complex_zero_has_derivative_zero_as_in_jax():
    assert tinyad.vjp(tnp.abs, np.array(0j))[1](1.0)[0] == 0
    assert tinyad.jvp(tnp.abs, (np.array(0j),), (np.array(1 + 1j),))[1] == 0
    assert tinyad.grad(lambda x: tnp.abs(x * (1 + 1j)))(0.0) == 0.0


def test_matmul_of_complex_matrices_equals_jax():
    a = np.array([[1 + 1j, 2 - 0.5j], [0.3j, -1 + 2j]])
    b = np.array([[0.5, 1j], [2 - 1j, 1 + 0.2j]])
    g = np.array([[1 - 1j, 0.5], [0.2j, -1 + 0.3j]])
    ca, cb = tinyad.vjp(tnp.matmul, a, b)[1](g)
    np.testing.assert_allclose(
        ca, [[(0.5 + 0j), (1.5 - 2.9j)], [(-0.3 - 0.9j), (-0.86 + 0.49999999999999994j)]], rtol=1e-12
    )
    np.testing.assert_allclose(
        cb, [[(1.94 + 0j), (0.41000000000000003 + 0.2j)], [(1.1 - 2.7j), (1.4 - 2.55j)]], rtol=1e-12
    )
    np.testing.assert_allclose(
        tinyad.jvp(tnp.matmul, (a, b), (b, a))[1],
        [[(1.4 + 4.6j), (1.3 + 7.5j)], [(2.3000000000000003 - 1.1j), (-0.8900000000000001 - 0.9999999999999996j)]],
        rtol=1e-12,
    )
    check_grads(tnp.matmul, (a, b), order=2)


X = np.array([0.5, -1.2, 2.0, 0.3, -0.7])
XC = X + 1j * np.array([0.1, 0.4, -0.3, 1.0, 0.0])
U5 = np.array([1 + 1j, -0.5j, 0.3, 2 - 1j, -1 + 0.2j])
X2 = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.2]])
U2 = np.array([[1 + 1j, -0.5, 0.3j], [2 - 1j, 0.1, -1.0]])
FFTS = {  # name: (f, input, cotangent); JAX's vjp and jvp (along the input reversed)
    "fft": (tnp.fft.fft, XC, U5),
    "ifft": (tnp.fft.ifft, XC, U5),
    "rfft": (tnp.fft.rfft, X, U5[:3]),
    "fft2": (tnp.fft.fft2, X2 + 1j * X2[::-1], U2),
    "ifft2": (tnp.fft.ifft2, X2 + 1j * X2[::-1], U2),
}
JAX_FFT_VJP = {
    "fft": [
        (2.3 - 0.30000000000000004j),
        (-1.2477103905514606 + 1.764490308664514j),
        (1.1572498885374416 - 1.270893226056697j),
        (3.882262274337211 + 3.1382694339317707j),
        (-1.0918017723231923 + 1.6681334834604125j),
    ],
    "ifft": [
        (0.45999999999999996 - 0.06000000000000001j),
        (-0.21836035446463847 + 0.3336266966920825j),
        (0.7764524548674423 + 0.6276538867863541j),
        (0.23144997770748832 - 0.2541786452113394j),
        (-0.24954207811029214 + 0.35289806173290283j),
    ],
    "rfft": [1.3, 0.281766643539939, 0.7988124721662476, 1.3865977244587206, 1.2328231598350925],
    "fft2": [
        [
            (1.6 + 0.30000000000000004j),
            (3.4401923788646687 - 0.6696152422706634j),
            (3.9598076211353317 + 0.3696152422706632j),
        ],
        [
            (-0.6000000000000001 + 2.3j),
            (-1.4598076211353317 + 3.235640646055102j),
            (-0.9401923788646687 + 0.46435935394489813j),
        ],
    ],
    "ifft2": [
        [
            (0.26666666666666666 + 0.05000000000000002j),
            (0.6599679368558886 + 0.06160254037844387j),
            (0.5733653964774448 - 0.11160254037844386j),
        ],
        [
            (-0.10000000000000002 + 0.3833333333333333j),
            (-0.1566987298107781 + 0.07739322565748302j),
            (-0.24330127018922193 + 0.5392734410091836j),
        ],
    ],
}
JAX_FFT_JVP = {
    "fft": [
        (0.9000000000000001 + 1.2000000000000002j),
        (-0.6554988119390931 - 1.431684509701936j),
        (0.09474628846983313 + 2.3019209082280385j),
        (-2.2947462884698333 - 4.019954896977933j),
        (-1.5445011880609072 + 1.9497184984518308j),
    ],
    "ifft": [
        (0.18000000000000005 + 0.24000000000000005j),
        (-0.30890023761218144 + 0.3899436996903662j),
        (-0.45894925769396666 - 0.8039909793955866j),
        (0.018949257693966628 + 0.46038418164560774j),
        (-0.13109976238781862 - 0.2863369019403872j),
    ],
    "rfft": [(0.9000000000000001 + 0j), (-1.1 - 1.6907015040768834j), (-1.1 + 3.160937902602986j)],
}


@pytest.mark.parametrize("name", sorted(FFTS))
def test_fft_vjp_and_jvp_equal_jax(name):
    f, x, u = FFTS[name]
    np.testing.assert_allclose(tinyad.vjp(f, x)[1](u)[0], JAX_FFT_VJP[name], rtol=1e-12, atol=1e-14)
    if name in JAX_FFT_JVP:
        np.testing.assert_allclose(tinyad.jvp(f, (x,), (x[::-1],))[1], JAX_FFT_JVP[name], rtol=1e-12, atol=1e-14)
    check_grads(f, (x,), order=2)


C3 = np.array([1.0 + 0j, 0.5 - 1j, -0.3 + 0.2j])
JAX_IRFFT_VJP = {  # n: vjp(lambda c: irfft(c, n), C3)(arange(1, n + 1))
    None: [(2.5 - 0j), (-1 - 1j), (-0.5 - 0j)],
    2: [(1.5 - 0j), (-0.5 - 0j), 0j],
    3: [(2 - 0j), (-1 - 0.5773502691896257j), 0j],
    4: [(2.5 - 0j), (-1 - 1j), (-0.5 - 0j)],
    5: [(3 - 0j), (-1 - 1.3763819204711734j), (-1 - 0.3249196962329064j)],
    6: [(3.5 - 0j), (-1 - 1.7320508075688772j), (-1 - 0.5773502691896257j)],
    7: [(4 - 0j), (-1 - 2.0765213965723364j), (-0.9999999999999997 - 0.797473388882404j)],
}
JAX_IRFFT_JVP = {  # n: jvp along C3 reversed
    None: [0.425, 0.175, -0.07500000000000001, -0.825],
    2: [0.1, -0.4],
    3: [0.2333333333333333, 0.310683602522959, -0.8440169358562924],
    4: [0.425, 0.175, -0.07500000000000001, -0.825],
    5: [0.54, 0.058619207643071915, 0.13691749979197873, -0.3333107020419998, -0.7022260053930509],
    6: [0.45, 0.1553418012614795, -0.01132486540518714, 0.11666666666666665, -0.5886751345948129, -0.4220084679281462],
    7: [
        0.38571428571428573,
        0.20601584269745202,
        -0.05351469219964357,
        0.13053974486430914,
        -0.11739382034572403,
        -0.6106163563035427,
        -0.24074500442713642,
    ],
}


@pytest.mark.parametrize("n", [None, 2, 3, 4, 5, 6, 7])
def test_irfft_vjp_and_jvp_equal_jax_for_every_n(n):
    """The VJP used to crash unless n was 2(m - 1) or 2m - 1; a 3-bin spectrum read as 2, 3 (truncated) ...
    7 (zero-padded) points."""
    f = lambda c: tnp.fft.irfft(c, n=n)  # noqa: E731
    u = np.arange(1.0, (4 if n is None else n) + 1.0)
    np.testing.assert_allclose(tinyad.vjp(f, C3)[1](u)[0], JAX_IRFFT_VJP[n], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tinyad.jvp(f, (C3,), (C3[::-1],))[1], JAX_IRFFT_JVP[n], rtol=1e-12, atol=1e-14)
    check_grads(f, (C3,), order=2)


def test_composites_through_ffts_equal_jax():
    np.testing.assert_allclose(
        tinyad.grad(lambda x: tnp.sum(tnp.abs(tnp.fft.fft(x)) ** 2))(X),
        [5.000000000000001, -12.0, 20.0, 3.0000000000000018, -7.000000000000001],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        tinyad.grad(
            lambda x: tnp.real(
                tnp.sum(tnp.fft.ifft(tnp.fft.fft(x * (1 + 1j)) * tnp.exp(1j * x)) * tnp.conj(tnp.fft.rfft(x, n=8)[:5]))
            )
        )(X),
        [2.6217833527773955, -4.361373238657508, -4.211888428173981, 12.531570864199379, 3.780037640962214],
        rtol=1e-12,
    )


def test_sinc_sigmoid_and_angle_in_degrees_of_complex_numbers_as_jax():
    z = np.array(0.1 + 1.0j)  # |Im z| > |Re z|: z^2 has a negative real part (the series must not be taken)
    _, t = tinyad.jvp(tnp.sinc, (z,), (np.array(1.0 + 0j),))
    np.testing.assert_allclose(t, -2.0207548252025385 - 7.652242566407539j, rtol=1e-12)  # JAX
    np.testing.assert_allclose(tnp.sigmoid(np.array(1 + 1j)), 0.7820415706337492 + 0.20194822765801285j, rtol=1e-14)
    g = tinyad.grad(lambda v: tnp.real(tnp.sigmoid(v) * tnp.conj(tnp.sigmoid(v))))(np.array(1 + 1j))
    np.testing.assert_allclose(g, 0.2843799986724539 - 0.26349078069738896j, rtol=1e-12)  # JAX
    g = tinyad.grad(lambda v: tnp.sum(tnp.angle(v, deg=True)))(np.array([1 + 1j]))
    np.testing.assert_allclose(g, [-28.64788976 - 28.64788976j], rtol=1e-9)  # JAX
    with pytest.raises(TypeError, match="softplus takes real numbers"):
        tnp.softplus(np.array(1 + 1j))
