"""Numeric edges against PyTorch, eagerly and compiled: `dim=()` reductions (logsumexp,
vector_norm, all/any), integer pow past 63 (wrapping as PyTorch), half-precision
round(decimals), logaddexp's gradient at infinities, max/min(dim) of bool tensors, unique /
unique_consecutive / histc of empty inputs, and the sign of zero in sign and relu."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from parity import np_of, to_gn, to_torch
from test_shape_extra_kit import check, raises_like

import graphnet

inf, nan = float("inf"), float("nan")


def exact(call, *arrays, compiled=True):
    """`call(T, *inputs)` gives bit-identical arrays (dtype, shape, signs of zero; NaN where
    PyTorch has NaN) for PyTorch, graphnet eagerly and graphnet compiled."""
    arrays = [np.asarray(a) for a in arrays]

    def outputs(T, fn):
        make = to_torch if T is torch else to_gn
        out = fn(T, *[make(a) for a in arrays])
        return [np_of(o) for o in (out if isinstance(out, (tuple, list)) else [out])]

    expected = outputs(torch, call)
    modes = [("eager", call)]
    if compiled:
        modes.append(("compiled", lambda T, *xs: graphnet.compile(
            lambda *ys: call(T, *ys))(*xs)))
    for mode, fn in modes:
        for k, (g, t) in enumerate(zip(outputs(graphnet, fn), expected, strict=True)):
            assert g.dtype == t.dtype and g.shape == t.shape, f"{mode} {k}: {g.dtype}{g.shape}"
            if g.dtype.kind == "f":   # NaN where torch has NaN, whatever its sign bit
                assert (np.isnan(g) == np.isnan(t)).all(), f"{mode} output {k}: {g} != {t}"
                g, t = (np.where(np.isnan(a), 0, a).astype(a.dtype) for a in (g, t))
            assert g.tobytes() == t.tobytes(), f"{mode} output {k}: {g} != torch {t}"


X = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 10) / 4


# ---- dim=() ----------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [(), []])
def test_empty_dim_reduces_every_dim(dim):
    check(lambda T, x: [T.logsumexp(x, dim=dim, keepdim=True),
                        T.linalg.vector_norm(x, dim=dim),
                        T.linalg.vector_norm(x, ord=1, dim=dim, keepdim=True)], X)
    check(lambda T, x: [T.logsumexp(x, dim=dim), T.linalg.vector_norm(x, dim=dim)],
          np.zeros((0, 3, 4), np.float32), grads=False)


@pytest.mark.parametrize("dim", [(), []])
def test_empty_dim_refusals_match_torch(dim):
    # PyTorch's logsumexp cannot drop the dims it reduced; linalg.norm wants 1 or 2 dims
    raises_like(lambda T, x: T.logsumexp(x, dim=dim), X)
    raises_like(lambda T, x: T.linalg.norm(x, dim=dim), X[0, 0])
    raises_like(lambda T, x: T.linalg.norm(x, dim=(0, 1, 2)), X)


@pytest.mark.parametrize("dim", [(), [], [-3, 1], (0, 2)])
def test_all_any_take_lists_and_empty_dims_reduce_nothing(dim):
    exact(lambda T, x: [x.all(dim=dim, keepdim=True), x.any(dim=dim), T.all(x > 0, dim=dim),
                        (x > 0).to(T.uint8).any(dim=dim)], X)


# ---- integer pow ---------------------------------------------------------------------

BASES = np.array([3, -3, 2, 0, 1, -1, 7, -2], np.int64)
POWERS = np.array([70, 64, 64, 65, 100, 71, 2 ** 62 + 1, 63], np.int64)


def test_integer_pow_wraps_past_63_as_torch():
    exact(lambda T, a: [a ** 70, a ** 64, a.int() ** 70, a.to(T.int16) ** 33,
                        a.to(T.uint8) ** 70, T.pow(a, 2)], BASES)
    exact(lambda T, a, b: [a ** b, a.int() ** b.int(), a.int() ** b, a ** -b,
                           a.to(T.int8) ** b.to(T.int8), a ** (b > 0)], BASES, POWERS)
    exact(lambda T, b: [2 ** b, 3 ** b, (-1) ** b, 3 ** -b, b.clone().pow_(3)], POWERS)


# ---- round(decimals) in half precision ---------------------------------------------------

@pytest.mark.parametrize("decimals", [3, 40, -5])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_round_with_decimals_scales_in_float32(decimals, dtype):
    x = np.float32([1.2345, 100.5, 60000.0, 3.14159, -2.71828, 0.0001234, 0.25, -0.0, nan,
                    inf])

    def call(T, x):
        out = x.to(getattr(T, dtype)).round(decimals=decimals)
        return [out.float(), T.tensor(str(out.dtype).split(".")[-1] == dtype)]
    exact(call, x)


# ---- logaddexp gradient --------------------------------------------------------------

A = np.float32([inf, 1.0, inf, -inf, -inf, 2.0, 0.5, -inf, inf, 3.0])
B = np.float32([1.0, inf, inf, 1.0, -inf, -inf, -1.5, inf, -inf, 0.25])


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_gradient_at_infinities_is_torch_formula(name):
    check(lambda T, a, b: getattr(T, name)(a, b), A, B)
    check(lambda T, a, b: getattr(T, name)(a, b), A.reshape(2, 5), B[:5])
    check(lambda T, a, b: getattr(T, name)(a.double(), b.double()), A, B)


# ---- max/min of bool, unique and histc of empty inputs -----------------------------------

def test_max_min_along_a_dim_of_bool():
    masks = np.array([[1, 0, 3], [0, 0, 0], [2, 2, 0]])
    exact(lambda T, x: [*(x > 0).max(1), *(x > 0).min(0, keepdim=True), (x > 0).max()],
          masks)


@pytest.mark.parametrize("shape,dim", [((0,), None), ((0, 3), None), ((0, 2), 0),
                                       ((3, 0), 1), ((2, 3, 0), 2), ((0, 3), 0)])
def test_unique_of_empty_inputs(shape, dim):
    x = np.zeros(shape, np.float32)
    exact(lambda T, x: T.unique(x, dim=dim, return_inverse=True, return_counts=True), x,
          compiled=False)
    exact(lambda T, x: T.unique_consecutive(x, dim=dim, return_inverse=True,
                                            return_counts=True), x, compiled=False)


@pytest.mark.parametrize("shape,dim", [((3, 0), 0), ((0, 2), 1), ((0, 3, 0), 0)])
def test_unique_of_empty_inputs_refused_as_torch(shape, dim):
    x = np.zeros(shape, np.float32)
    for name in ("unique", "unique_consecutive"):
        expected, got = raises_like(lambda T, x: getattr(T, name)(x, dim=dim), x)
        assert got == expected


def test_histc_of_empty_input_is_all_zeros():
    exact(lambda T, x: [T.histc(x, bins=5), T.histc(x.double(), bins=3, min=1, max=1)],
          np.zeros((0, 2), np.float32))


# ---- signed zeros --------------------------------------------------------------------

def test_sign_of_negative_zero_and_relu_keeping_it():
    x = np.float32([-0.0, 0.0, -1.0, 2.0, nan, inf, -inf])
    exact(lambda T, x: [x.sign(), x.sgn(), T.relu(x), T.nn.functional.relu(x.half()),
                        x.double().sign()], x)
    # relu's slope: 0 at +-0 and below, 1 above and at NaN, as PyTorch's threshold_backward
    check(lambda T, x: T.relu(x), x)
