"""Reductions and scans of issue 10 beyond the parity table: argument forms (dim None or
tuple, keepdim, dtype, q as float / 0-d / 1-d tensor), named tuples, gradients PyTorch
defines specially (cumprod through zeros, median shared among ties), eager and compiled."""

from __future__ import annotations

import numpy as np
import pytest
from parity import assert_close, np_of, to_gn, to_torch, torch
from test_math_extra import check_both_modes

import graphnet

X = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
I = np.array([[3, 0, 2, 2, 1], [4, 4, 0, 1, 5], [1, 1, 1, 0, 2]], np.int64)


@pytest.mark.parametrize("fn", [
    lambda T, x: T.quantile(x, 0.3), lambda T, x: T.quantile(x, 0.3, dim=0),
    lambda T, x: T.quantile(x, T.tensor(0.7), dim=1),
    lambda T, x: T.quantile(x, T.tensor([0.2, 0.8]), dim=1, keepdim=True),
    lambda T, x: T.quantile(x, T.tensor([0.2, 0.8]), keepdim=True),
    lambda T, x: T.quantile(x, 0.5, dim=-1, interpolation="lower"),
    lambda T, x: T.quantile(x, 0.5, dim=-1, interpolation="higher"),
    lambda T, x: T.quantile(x, T.tensor([0.125, 0.375, 0.625]), dim=1,
                            interpolation="nearest"),
    lambda T, x: T.nanquantile(x.where(x > 0, T.tensor(float("nan"))), 0.5, dim=1),
    lambda T, x: T.median(x), lambda T, x: tuple(x.median(0, keepdim=True)),
    lambda T, x: T.nanmedian(x.where(x > 0, T.tensor(float("nan")))),
    lambda T, x: T.count_nonzero(x > 0) + T.count_nonzero(x, dim=(0, 1)),
    lambda T, x: tuple(T.count_nonzero(x > 0, dim=1)),
    lambda T, x: tuple(T.aminmax(x)) + tuple(x.aminmax(dim=1, keepdim=True)),
    lambda T, x: T.std_mean(x) + T.var_mean(x, 1, keepdim=True) + T.var_mean(x, (0, 1)),
    lambda T, x: T.std_mean(x, dim=0, correction=0) + T.var_mean(x, unbiased=False),
    lambda T, x: (T.diff(x), x.diff(n=2, dim=0), T.diff(x, prepend=x[:, :1], append=x)),
    lambda T, x: (T.diff(x, n=3, dim=1, prepend=T.ones(3, 1)), T.diff(x > 0)),
    lambda T, x: (T.renorm(x, 2, 0, 1.0), x.renorm(1, 1, 0.5), T.renorm(x, 3, 0, 10.0)),
    lambda T, x: (T.logcumsumexp(x, 0), T.cumprod(x, dim=-1)),
    lambda T, x: (T.sum(x, (0, 1), keepdim=True), T.sum(x, dtype=T.float64),
                  T.mean(x, -1, True), T.prod(x, 1, keepdim=True), T.prod(x, dtype=T.float64)),
    lambda T, x: (T.nansum(x, (0, 1)), T.nanmean(x, 0, keepdim=True, dtype=T.float64)),
])
def test_reductions_match_torch_in_both_modes(fn):
    check_both_modes(fn, X, atol=1e-5)


@pytest.mark.parametrize("fn", [
    lambda T, x: (T.cumprod(x, 1), T.prod(x), T.prod(x > 1, 0), T.cumsum(x > 1, 0)),
    lambda T, x: (T.nansum(x), T.nansum(x, 1), T.count_nonzero(x, 0)),
    lambda T, x: tuple(T.cummax(x, 1)) + tuple(T.cummin(x, 0)),
    lambda T, x: tuple(T.mode(x, 1)) + (T.median(x),) + tuple(T.median(x, 1)),
    lambda T, x: (T.diff(x), T.diff(x, dim=0, append=x[:1])),
    lambda T, x: (T.sum(x, dtype=T.int32), T.cumprod(x, 0, dtype=T.float32)),
])
def test_integer_reductions_keep_pytorchs_dtypes(fn):
    check_both_modes(fn, I)


def test_named_tuples_print_and_unpack_like_pytorchs():
    x = to_gn(X)
    for name, result in [("max", x.max(1)), ("min", graphnet.min(x, 0)),
                         ("cummax", x.cummax(1)), ("cummin", graphnet.cummin(x, 0)),
                         ("median", x.median(1)), ("nanmedian", x.nanmedian(0)),
                         ("mode", x.mode())]:
        values, indices = result
        assert type(result).__name__ == name and result.values is values
        assert result.indices is indices and indices.dtype == graphnet.int64
        assert repr(result).startswith(f"graphnet.return_types.{name}(\nvalues=tensor(")
    assert graphnet.aminmax(x)._fields == ("min", "max")


def test_cumprod_gradient_through_zeros_matches_torch():
    x = np.array([[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 1.5, -2.0, 4.0, 0.5]], np.float32)
    w = np.arange(10, dtype=np.float32).reshape(2, 5)
    t = to_torch(x, True)
    (torch.cumprod(t, 1) * to_torch(w)).sum().backward()
    for fn in (lambda a: graphnet.cumprod(a, 1), graphnet.compile(lambda a: a.cumprod(1))):
        g = to_gn(x, True)
        (fn(g) * to_gn(w)).sum().backward()
        assert np.isfinite(np_of(g.grad)).all()
        assert_close(g.grad, t.grad)


@pytest.mark.parametrize("fn", [
    lambda T, x: T.median(x), lambda T, x: x.nanmedian(), lambda T, x: x.median(1).values,
    lambda T, x: T.mode(x, 1).values, lambda T, x: T.cummax(x, 1).values,
    lambda T, x: T.quantile(x, 0.4, dim=1), lambda T, x: T.renorm(x, 2, 0, 1.0),
    lambda T, x: T.aminmax(x).max, lambda T, x: T.logcumsumexp(x, 1),
])
def test_gradients_of_selections_match_torch(fn):
    """Ties included: the median of all elements shares its gradient among equal values."""
    x = np.array([[1.0, 2.0, 2.0, 0.5], [2.0, 3.0, -1.0, 2.0], [0.0, 4.0, 1.0, 7.0]],
                 np.float32)
    t = to_torch(x, True)
    fn(torch, t).sum().backward()
    for mode in ("eager", "compiled"):
        g = to_gn(x, True)
        run = (lambda a: fn(graphnet, a))
        (run if mode == "eager" else graphnet.compile(run))(g).sum().backward()
        assert_close(g.grad, t.grad, what=mode)


@pytest.mark.parametrize("call, message", [
    (lambda T, x: T.quantile(x, 1.5), r"in the range \[0, 1\]"),
    (lambda T, x: T.quantile(x.long(), 0.5), "float or double"),
    (lambda T, x: T.quantile(x, 0.5, interpolation="mean"), "interpolation"),
    (lambda T, x: T.quantile(x, T.tensor([[0.5]])), "scalar or 1D"),
    (lambda T, x: T.quantile(x, T.tensor([0.5], dtype=T.float64)), "same dtype"),
    (lambda T, x: T.nanmean(x.long()), "floating point"),
    (lambda T, x: T.diff(x[0, 0]), "at least one-dimensional"),
    (lambda T, x: T.median(x, 2), "Dimension out of range"),
    (lambda T, x: T.renorm(x, 0, 0, 1.0), "non-positive"),
])
def test_bad_arguments_raise_pytorchs_errors(call, message):
    with pytest.raises((RuntimeError, IndexError)) as expected:
        call(torch, to_torch(X))
    with pytest.raises(type(expected.value), match=message):
        call(graphnet, to_gn(X))
