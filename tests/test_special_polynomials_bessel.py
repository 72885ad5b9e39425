"""graphnet.special's Airy and Bessel functions and its orthogonal polynomials against
torch.special on dense grids (float32 and float64, small, large, negative and edge arguments,
degrees below 0, past the trigonometric bounds, fractional, NaN and infinite), plus their dtype
rules, refusals, `out=`, the missing derivative, and compiled calls."""

import numpy as np
import pytest
import torch

import graphnet as gn
import graphnet.special as S

UNARY = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
         "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
         "scaled_modified_bessel_k0", "scaled_modified_bessel_k1"]
# name -> the degree past which PyTorch uses the trigonometric form where |2x - 1| < 1 or |x| < 1
CHEBYSHEV = {"chebyshev_polynomial_t": 6, "chebyshev_polynomial_u": 8,
             "chebyshev_polynomial_v": 8, "chebyshev_polynomial_w": 8,
             "shifted_chebyshev_polynomial_t": 6, "shifted_chebyshev_polynomial_u": 6,
             "shifted_chebyshev_polynomial_v": 6, "shifted_chebyshev_polynomial_w": 4}
POLYNOMIALS = [*CHEBYSHEV, "hermite_polynomial_h", "hermite_polynomial_he",
               "laguerre_polynomial_l", "legendre_polynomial_p"]
RTOL = {np.float32: 1e-5, np.float64: 1e-10}


def _unary_grid(dtype):
    tiny = np.geomspace(1e-8, 800.0, 400)
    edges = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-5, 2.0, 2.09, -2.09, 5.0, 8.0, 8.3203353,
             103.892, 103.9, 700.0, 720.0]
    return np.concatenate([np.linspace(-40, 40, 4001), np.linspace(-3, 3, 1201), tiny, -tiny,
                           edges]).astype(dtype)


def assert_matches(got, want, rtol, atol):
    """Same dtype, NaN where torch has NaN, the same infinities, and |got - want| <= rtol |want|
    + atol elsewhere (`atol` may be an array). At the edge of overflow an infinity of the same
    sign passes: PyTorch's CPU kernels fuse 2x * q - p into one FMA, XLA does not always, so
    T_129(-1.25) is -FLT_MAX there and may be -inf here."""
    assert got.dtype == getattr(gn, str(want.dtype).removeprefix("torch."))
    g, w = got.numpy(), want.numpy()
    np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
    infinite = np.isinf(w)
    np.testing.assert_array_equal(g[infinite], w[infinite])
    finite = np.isfinite(w)
    atol = np.broadcast_to(atol, w.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(g - w) <= rtol * np.abs(w) + atol
        overflowed = (np.abs(w) > np.finfo(w.dtype).max / 4) & (g == np.sign(w) * np.inf)
    bad = finite & ~close & ~overflowed
    assert not bad.any(), (f"{bad.sum()} values off, e.g. got {g[bad][:4]}, want {w[bad][:4]}",
                           np.argwhere(bad)[:4].tolist())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", UNARY)
def test_airy_and_bessel_values_match_torch(name, dtype):
    x = _unary_grid(dtype)
    # atol: near a root the value is far below the terms that cancel there; XLA also flushes
    # subnormal results to zero (K0(90) in float32), where PyTorch keeps them
    atol = 1e-7 if dtype == np.float32 else 1e-14
    want = getattr(torch.special, name)(torch.from_numpy(x))
    assert_matches(getattr(S, name)(gn.tensor(x)), want, RTOL[dtype], atol)


def _degrees():
    return np.array([-3, -1, -0.5, 0, 1, 2, 2.7, 3, 4, 5, 6, 7, 8, 9, 10, 12, 20, 64, 129, 513,
                     np.nan, np.inf, -np.inf, 1e30])


def _polynomial_grid(name, dtype):
    xs = np.concatenate([np.linspace(-1.5, 1.5, 301), [-1.0, 1.0, 0.0, 0.5, 1e-7, 1 - 1e-7,
                                                       np.inf, -np.inf, 3.0, -20.0]])
    return np.meshgrid(xs.astype(dtype), _degrees().astype(dtype), indexing="ij")


def _polynomial_atol(name, x, n, dtype):
    if dtype == np.float64:
        return 1e-12   # exact zeros of the trigonometric forms come out as +-1e-13
    if name not in CHEBYSHEV:
        return 1e-6
    # NOTE: the trigonometric forms multiply acos(x) by n: PyTorch's float32 acos is the C
    # library's acosf, which is 1 ulp off at times (glibc 2.36: 8% of arguments); graphnet's
    # is rounded once from float64, so there the two differ by up to about n^2 ulp(pi)
    y = 2 * x - 1 if name.startswith("shifted") else x
    with np.errstate(invalid="ignore"):
        trig = (n > CHEBYSHEV[name]) & (np.abs(y) < 1)
    degree = np.where(trig, n, 0).astype(np.float64)
    return np.where(trig, 4e-7 * (degree + 1) ** 2, 1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_values_match_torch(name, dtype):
    x, n = _polynomial_grid(name, dtype)
    want = getattr(torch.special, name)(torch.from_numpy(x), torch.from_numpy(n))
    got = getattr(S, name)(gn.tensor(x), gn.tensor(n))
    assert_matches(got, want, RTOL[dtype], _polynomial_atol(name, x, n, dtype))


def test_degree_as_number_tensor_or_broadcast_matches_torch():
    x = np.array([[-0.7], [0.2], [0.9]], np.float32)
    n = np.array([0, 3, 10, 25], np.int64)
    for name in ("chebyshev_polynomial_t", "legendre_polynomial_p", "hermite_polynomial_he"):
        T, G = getattr(torch.special, name), getattr(S, name)
        tx, gx = torch.from_numpy(x), gn.tensor(x)
        cases = [(lambda L, a: L(a, torch.from_numpy(n)), lambda L, a: L(a, gn.tensor(n))),
                 (lambda L, a: L(a, 7), lambda L, a: L(a, 7)),
                 (lambda L, a: L(a, 7.9), lambda L, a: L(a, 7.9)),   # truncated to 7
                 (lambda L, a: L(a, torch.tensor(5)), lambda L, a: L(a, gn.tensor(5))),
                 (lambda L, a: L(0.3, torch.from_numpy(n)), lambda L, a: L(0.3, gn.tensor(n)))]
        for torch_call, gn_call in cases:
            assert_matches(gn_call(G, gx), torch_call(T, tx), 1e-5, 1e-6)


def test_dtypes_follow_torch():
    ints, floats = np.array([1, 2, 3]), np.array([0.5, 1.5, 2.5], np.float32)
    assert S.bessel_j0(gn.tensor(ints)).dtype == gn.float32
    assert S.airy_ai(gn.tensor([True, False])).dtype == gn.float32
    assert S.modified_bessel_k1(gn.tensor(floats, dtype=gn.float64)).dtype == gn.float64
    for x, n in [(gn.tensor(ints), gn.tensor(ints)), (gn.tensor(floats), gn.tensor(2.0, dtype=gn.float64)),
                 (gn.tensor(floats), gn.tensor([2.0], dtype=gn.float64)), (gn.tensor(ints), 2.5),
                 (gn.tensor([True]), 2), (2, gn.tensor(ints))]:
        def to_torch(v):
            return torch.from_numpy(v.numpy()) if isinstance(v, gn.Tensor) else v
        want = torch.special.laguerre_polynomial_l(to_torch(x), to_torch(n))
        assert_matches(S.laguerre_polynomial_l(x, n), want, 1e-6, 1e-6)


def test_integer_input_follows_the_default_dtype():
    torch.set_default_dtype(torch.float64)
    gn.set_default_dtype(gn.float64)
    try:
        want = torch.special.bessel_y1(torch.tensor([1, 2, 3]))
        got = S.bessel_y1(gn.tensor([1, 2, 3]))
        want_p = torch.special.hermite_polynomial_h(torch.tensor([1, 2]), 3)
        got_p = S.hermite_polynomial_h(gn.tensor([1, 2]), 3)
    finally:
        torch.set_default_dtype(torch.float32)
        gn.set_default_dtype(gn.float32)
    assert_matches(got, want, 1e-12, 0)
    assert_matches(got_p, want_p, 1e-12, 0)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_is_refused_as_in_torch(dtype):
    for name, args in [("bessel_j1", ()), ("chebyshev_polynomial_t", (3,))]:
        with pytest.raises(NotImplementedError) as want:
            getattr(torch.special, name)(torch.ones(2, dtype=getattr(torch, dtype)), *args)
        with pytest.raises(NotImplementedError) as got:
            getattr(S, name)(gn.ones(2, dtype=getattr(gn, dtype)), *args)
        assert str(got.value) == str(want.value)


def test_nan_input():
    """NaN x gives NaN, n >= 2 too: PyTorch returns an uninitialised value there for U, W, L
    and P (its loop never runs); graphnet returns NaN for every polynomial."""
    x = gn.tensor([np.nan] * 4)
    n = gn.tensor([0.0, 1.0, 2.0, 9.0])
    for name in POLYNOMIALS:
        got = getattr(S, name)(x, n).numpy()
        assert got[0] == 1 and np.isnan(got[1:]).all(), name
    for name in UNARY:
        assert np.isnan(getattr(S, name)(gn.tensor([np.nan])).numpy()).all(), name


def test_no_derivative_as_in_torch():
    tx = torch.tensor([0.5, 2.0], requires_grad=True)
    gx = gn.tensor([0.5, 2.0], requires_grad=True)
    compiled = gn.compile(lambda t: S.bessel_j0(t) + S.chebyshev_polynomial_t(t, 3))
    for want, got in [(torch.special.bessel_j0(tx), S.bessel_j0(gx)),
                      (torch.special.legendre_polynomial_p(tx, 4), S.legendre_polynomial_p(gx, 4)),
                      (torch.special.bessel_j0(tx) + torch.special.chebyshev_polynomial_t(tx, 3),
                       compiled(gx))]:
        assert not got.requires_grad and got.grad_fn is None and not want.requires_grad
        with pytest.raises(RuntimeError) as torch_error:
            want.sum().backward()
        with pytest.raises(RuntimeError) as gn_error:
            got.sum().backward()
        assert str(gn_error.value) == str(torch_error.value)


def test_compiled_matches_eager_and_torch():
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, (5, 6))
    n = rng.integers(-1, 14, (6,))

    def program(L, x, n):
        sp = L.special
        return (sp.bessel_j1(x) + sp.airy_ai(x) + sp.modified_bessel_i1(x)
                + sp.scaled_modified_bessel_k0(x.abs() + 0.1) * sp.bessel_y0(x.abs() + 0.1)
                + sp.chebyshev_polynomial_u(x / 4, n) + sp.legendre_polynomial_p(x / 4, 9)
                + sp.hermite_polynomial_h(x, n) + sp.shifted_chebyshev_polynomial_w(x / 8 + 0.5, n))

    want = program(torch, torch.from_numpy(x), torch.from_numpy(n))
    gx, gnn = gn.tensor(x), gn.tensor(n)
    compiled = gn.compile(lambda a, b: program(gn, a, b))(gx, gnn)
    assert_matches(compiled, want, 1e-10, 1e-10)
    assert_matches(program(gn, gx, gnn), want, 1e-10, 1e-10)


def test_out_argument():
    x = torch.tensor([0.5, 3.0])
    out, gout = torch.empty(2, dtype=torch.float64), gn.empty(2, dtype=gn.float64)
    assert S.modified_bessel_k0(gn.tensor([0.5, 3.0]), out=gout) is gout
    torch.special.modified_bessel_k0(x, out=out)
    assert_matches(gout, out, 1e-7, 0)
    S.hermite_polynomial_he(gn.tensor([0.5, 3.0]), 4, out=gout)
    assert_matches(gout, torch.special.hermite_polynomial_he(x, 4).double(), 1e-7, 0)
    with pytest.raises(RuntimeError) as want:
        torch.special.bessel_j0(x, out=torch.empty(2, dtype=torch.long))
    with pytest.raises(RuntimeError) as got:
        S.bessel_j0(gn.tensor([0.5, 3.0]), out=gn.empty(2, dtype=gn.int64))
    assert str(got.value) == str(want.value)


def test_argument_errors_and_keywords_match_torch():
    for call in [lambda L: L.special.bessel_j0(0.5),
                 lambda L: L.special.chebyshev_polynomial_t(0.5, 2),
                 lambda L: L.special.legendre_polynomial_p(L.ones(2), "2")]:
        with pytest.raises(TypeError) as want:
            call(torch)
        with pytest.raises(TypeError) as got:
            call(gn)
        assert str(got.value).splitlines()[0] == str(want.value).splitlines()[0]
    x = [0.5, 2.0]
    for call in [lambda L: L.special.bessel_j0(input=L.tensor(x)),
                 lambda L: L.special.airy_ai(x=L.tensor(x)),
                 lambda L: L.special.scaled_modified_bessel_k1(x=L.tensor(x)),
                 lambda L: L.special.chebyshev_polynomial_v(x=L.tensor(x), n=5)]:
        assert_matches(call(gn), call(torch), 1e-6, 0)


def test_every_name_is_exported_like_torch():
    for name in UNARY + POLYNOMIALS:
        assert name in S.__all__ and name in dir(torch.special)
        assert getattr(S, name).__doc__
