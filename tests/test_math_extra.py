"""Elementwise math of issue 10 beyond the parity table (tests/op_cases_math.py): PyTorch's
dtype promotion of integer, bool and Python-scalar inputs, div's rounding modes, the bitwise
operators, in-place forms, aliases and PyTorch's errors, eager and compiled."""

from __future__ import annotations

import numpy as np
import pytest
from parity import assert_close, np_of, to_gn, to_torch, torch

import graphnet

I = np.array([[7, -7, 6], [-6, 0, 5]], np.int64)
B = np.array([[True, False, True], [False, False, True]])
X = np.array([[0.5, -1.5, 2.0], [-0.25, 3.0, 0.0]], np.float32)


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check_both_modes(fn, *arrays, atol=1e-6):
    """fn(T, *tensors) in PyTorch, graphnet eager and graphnet compiled: same values, dtypes."""
    expected = _flat(fn(torch, *[to_torch(a) for a in arrays]))
    eager = _flat(fn(graphnet, *[to_gn(a) for a in arrays]))
    compiled = _flat(graphnet.compile(lambda *xs: fn(graphnet, *xs))(
        *[to_gn(a) for a in arrays]))
    for got in (eager, compiled):
        assert len(got) == len(expected)
        for g, t in zip(got, expected):
            if isinstance(t, torch.Tensor):
                assert np_of(g).dtype == np_of(t).dtype, (np_of(g).dtype, t.dtype)
            assert_close(g, t, atol=atol, rtol=1e-6)


FLOAT_VALUED = ["asin", "acos", "atan", "sinh", "cosh", "tan", "asinh", "atanh", "erfc",
                "erfinv", "lgamma", "digamma", "i0", "sinc", "deg2rad", "rad2deg", "log10",
                "exp", "log", "sqrt", "sin", "cos", "sigmoid", "tanh", "rsqrt", "erf",
                "log1p", "expm1", "log2", "exp2", "reciprocal", "logit"]


@pytest.mark.parametrize("name", FLOAT_VALUED)
@pytest.mark.parametrize("data", [np.array([0, 1, 2]), np.array([True, False])],
                         ids=["int64", "bool"])
def test_float_valued_functions_of_integers_give_float32(name, data):
    expected = getattr(torch, name)(to_torch(data))
    got = getattr(graphnet, name)(to_gn(data))
    assert got.dtype == graphnet.float32
    np.testing.assert_allclose(np_of(got), np_of(expected), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn", [
    lambda T, a, b: T.div(a, b, rounding_mode="trunc"),
    lambda T, a, b: T.div(a, 4, rounding_mode="trunc"),
    lambda T, a, b: T.div(a, b, rounding_mode="floor"),
    lambda T, a, b: a // b, lambda T, a, b: a / b, lambda T, a, b: T.true_divide(a, b),
    lambda T, a, b: T.divide(a, b, rounding_mode="floor"), lambda T, a, b: a % b,
    lambda T, a, b: T.fmod(a, b), lambda T, a, b: T.remainder(a, 3),
    lambda T, a, b: T.float_power(a, 2), lambda T, a, b: T.xlogy(a.abs(), b.abs()),
    lambda T, a, b: T.copysign(a, b), lambda T, a, b: T.atan2(a, b),
    lambda T, a, b: T.ldexp(a, b.abs()),
])
def test_integer_division_and_promotion_keep_pytorchs_dtypes(fn):
    divisor = np.array([[2, 2, -4], [4, 3, -2]], np.int64)
    check_both_modes(fn, I, divisor)


@pytest.mark.parametrize("fn", [
    lambda T, a, b: a & b, lambda T, a, b: a | b, lambda T, a, b: a ^ b,
    lambda T, a, b: ~a, lambda T, a, b: a << 2, lambda T, a, b: a >> 1,
    lambda T, a, b: 5 & a, lambda T, a, b: T.bitwise_and(a, 3),
    lambda T, a, b: T.gcd(a, b), lambda T, a, b: T.lcm(a, b),
])
def test_bitwise_operators_on_integers_are_bitwise(fn):
    check_both_modes(fn, I, np.array([[3, 1, 2], [5, 3, 7]], np.int64))


@pytest.mark.parametrize("fn", [
    lambda T, a: a & ~a.flip(0), lambda T, a: a | a.flip(1), lambda T, a: a ^ a.flip(0),
    lambda T, a: T.logical_xor(a, a.flip(1)), lambda T, a: T.bitwise_not(a),
])
def test_bitwise_operators_on_bools_are_logical(fn):
    check_both_modes(fn, B)


@pytest.mark.parametrize("call, error, message", [
    (lambda T, x: T.bitwise_and(x, x), NotImplementedError, "not implemented for 'Float'"),
    (lambda T, x: ~x, TypeError, "only implemented on integer and Boolean"),
    (lambda T, x: T.hypot(x.long(), x.long()), NotImplementedError, "for 'Long'"),
    (lambda T, x: T.frac(x.long()), NotImplementedError, "for 'Long'"),
    (lambda T, x: T.gcd(x, x), NotImplementedError, "for 'Float'"),
    (lambda T, x: T.heaviside(x, x.long()), RuntimeError, "different dtypes"),
    (lambda T, x: +x.bool(), RuntimeError, "bool tensor is not supported"),
    (lambda T, x: T.div(x, x, rounding_mode="round"), RuntimeError, "rounding_mode"),
    (lambda T, x: T.addcdiv(x, x.long(), x.long()), RuntimeError, "Integer division"),
    (lambda T, x: x.float_power_(2), RuntimeError, "float_power_"),
    (lambda T, x: x.long().asin_(), RuntimeError, "can't be cast"),
    (lambda T, x: T.polygamma(-1, x), RuntimeError, "negative n"),
    (lambda T, x: T.isclose(x, x.double()), RuntimeError, "did not match"),
])
def test_bad_inputs_raise_pytorchs_errors(call, error, message):
    with pytest.raises(error):
        call(torch, to_torch(X))
    with pytest.raises(error, match=message):
        call(graphnet, to_gn(X))


@pytest.mark.parametrize("call", [
    lambda T, x: T.bitwise_and(x, x), lambda T, x: T.hypot(x.long(), x.long()),
    lambda T, x: T.lcm(x.bool(), x.bool()),
])
def test_bad_inputs_raise_the_same_error_in_a_compiled_function(call):
    with pytest.raises((NotImplementedError, RuntimeError)) as eager:
        call(graphnet, to_gn(X))
    with pytest.raises(type(eager.value)):
        graphnet.compile(lambda x: call(graphnet, x))(to_gn(X))


INPLACE = [("asin_", ()), ("arcsinh_", ()), ("frac_", ()), ("sgn_", ()), ("fix_", ()),
           ("trunc_", ()), ("sin_", ()), ("exp2_", ()), ("logit_", (0.1,)),
           ("nan_to_num_", ()), ("clamp_min_", (0.0,)), ("clamp_max_", (0.5,)),
           ("lerp_", ("end", 0.3)), ("addcmul_", ("end", "end")),
           ("addcdiv_", ("end", "end")), ("hypot_", ("end",)), ("xlogy_", (2.0,)),
           ("eq_", ("end",)), ("lt_", (0.0,)), ("greater_equal_", (0.0,)),
           ("not_equal_", (0.0,)), ("logical_and_", ("end",)), ("mul_", (2,)),
           ("multiply_", (2,)), ("subtract_", ("end",)), ("divide_", (2.0,)),
           ("true_divide_", (2.0,)), ("absolute_", ()), ("copysign_", ("end",)),
           ("fmod_", (0.7,)), ("cumsum_", (1,)), ("cumprod_", (0,)),
           ("float_power_", (2,)), ("renorm_", (2, 0, 1.0))]


@pytest.mark.parametrize("name, args", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_methods_update_the_tensor_like_pytorch(name, args):
    x = np.array([[0.25, -0.5, 0.75], [0.1, 0.9, -0.3]], np.float32)
    if name == "float_power_":
        x = x.astype(np.float64)
    end = np.array([[0.5, 1.5, -0.25], [2.0, 0.3, 0.6]], x.dtype)

    def run(T, make):
        t = make(x)
        result = getattr(t, name)(*[make(end) if a == "end" else a for a in args])
        assert result is t
        return t

    expected = run(torch, to_torch)
    for got in (run(graphnet, to_gn),
                graphnet.compile(lambda: run(graphnet, to_gn))()):
        assert np_of(got).dtype == np_of(expected).dtype
        assert_close(got, expected, atol=1e-6)


@pytest.mark.parametrize("name", ["abs_", "relu_", "sigmoid_", "exp_", "asin_", "clamp_min_",
                                  "nan_to_num_", "trunc_", "xlogy_", "logit_"])
def test_top_level_inplace_functions(name):
    args = {"clamp_min_": (0.1,), "xlogy_": (3.0,)}.get(name, ())
    t, g = to_torch(X / 4), to_gn(X / 4)
    assert getattr(graphnet, name)(g, *args) is g
    getattr(torch, name)(t, *args)
    assert_close(g, t, atol=1e-6)


@pytest.mark.parametrize("fn", [
    lambda T, a, b: T.absolute(a) + T.negative(b) + T.positive(a) + T.multiply(a, b),
    lambda T, a, b: T.subtract(a, b, alpha=2) + T.rsub(a, b) + T.rsub(a, 1.5, alpha=2),
    lambda T, a, b: T.not_equal(a, b) | T.greater(a, b) | T.less_equal(a, 0),
    lambda T, a, b: T.sgn(a) + T.fix(a * 3) + T.arctan2(a, b) + a.arctan2(b),
    lambda T, a, b: T.clamp_min(a, b) + a.clamp_max(0.1) + T.clamp_min(a, 0.2),
    lambda T, a, b: T.addcmul(a, a, b, value=0.5) + a.addcdiv(a, b.abs() + 1, value=-2),
    lambda T, a, b: (T.isclose(a, a + 1e-7), T.isclose(a, b, rtol=0, atol=1.0)),
])
def test_aliases_and_compositions_match_torch(fn):
    check_both_modes(fn, X, X[::-1].copy())


def test_allclose_and_equal_return_python_bools():
    a, b = to_gn(X), to_gn(X * (1 + 1e-6))
    assert graphnet.allclose(a, b) is True and a.allclose(b + 1) is False
    assert graphnet.equal(a, to_gn(X)) is True and graphnet.equal(a, b) is False
    assert graphnet.equal(a, a[:1]) is False
    nan = to_gn(np.array([np.nan, 1.0], np.float32))
    assert not graphnet.allclose(nan, nan) and graphnet.allclose(nan, nan, equal_nan=True)


def test_frexp_is_a_named_tuple_with_int32_exponent():
    m, e = graphnet.frexp(to_gn(X))
    tm, te = torch.frexp(to_torch(X))
    assert graphnet.frexp(to_gn(X)).mantissa is not None and e.dtype == graphnet.int32
    assert_close(m, tm) and assert_close(e, te)


def test_gradients_where_pytorch_defines_special_values():
    """xlogy at x=0, lerp's weight, fmax with NaN, logit with eps, nan_to_num at inf."""
    x = np.array([0.0, 0.5, 2.0, np.nan, np.inf, 0.95], np.float32)
    y = np.array([0.0, 1.5, np.nan, 1.0, 2.0, 0.5], np.float32)

    def loss(T, a, b):
        return (T.xlogy(a.nan_to_num(0, 1.0) * 0, b.nan_to_num(1) + 1)
                + T.fmax(a.nan_to_num(posinf=3.0), b) + T.logit(a.nan_to_num(0.2, 0.9), 0.3)
                + T.lerp(a.nan_to_num(0, 1.0), b.nan_to_num(0), 0.75)).sum()

    ta, tb = to_torch(x, True), to_torch(y, True)
    loss(torch, ta, tb).backward()
    for mode in ("eager", "compiled"):
        ga, gb = to_gn(x, True), to_gn(y, True)
        fn = (lambda a, b: loss(graphnet, a, b))
        (fn if mode == "eager" else graphnet.compile(fn))(ga, gb).backward()
        assert_close(ga.grad, ta.grad, what=f"{mode} grad a")
        assert_close(gb.grad, tb.grad, what=f"{mode} grad b")


def test_fill_zero_clone_and_detach_functions():
    t, g = to_torch(X), to_gn(X, requires_grad=True)
    assert_close(graphnet.fill(g, 2.5), torch.fill(t, 2.5))
    copy = graphnet.clone(g)
    assert copy.requires_grad and copy is not g and graphnet.detach(copy).requires_grad is False
    plain = to_gn(X)
    assert graphnet.fill_(plain, 1.5) is plain and float(plain.sum()) == 9.0
    assert graphnet.zero_(plain) is plain and float(plain.abs().sum()) == 0.0
    assert graphnet.detach_(copy) is copy and not copy.requires_grad


@pytest.mark.parametrize("fn", [
    lambda T, x: T.round(x), lambda T, x: T.round(x, decimals=2),
    lambda T, x: x.round(decimals=-2), lambda T, x: x.round(decimals=1),
    lambda T, x: x.clone().round_(decimals=3), lambda T, x: T.round(x.long()),
])
def test_round_with_decimals(fn):
    check_both_modes(fn, np.array([1.2345, -2.5, 1234.5678, 0.125, 0.5, 1.5], np.float32))


@pytest.mark.parametrize("fn", [
    lambda T, x: x * T.tensor(2.0, dtype=T.float64), lambda T, x: T.tensor(3) + x.int(),
    lambda T, x: x.int() * T.tensor(2.5, dtype=T.float64), lambda T, x: T.tensor(2) * x,
    lambda T, x: x.half() - T.tensor(1.0), lambda T, x: T.maximum(x, T.tensor(0.5).double()),
    lambda T, x: x.long() // T.tensor(2, dtype=T.int32), lambda T, x: x < T.tensor(0.5).double(),
])
def test_zero_dim_tensors_do_not_widen_the_result(fn):
    """PyTorch: a 0-d tensor raises the kind of the result (int -> float) but not its width."""
    check_both_modes(fn, X * 3)
    t, g = to_torch(X, True), to_gn(X, True)
    fn(torch, t).float().sum().backward() if fn(torch, t).requires_grad else None
    if t.grad is not None:
        fn(graphnet, g).float().sum().backward()
        assert_close(g.grad, t.grad)
