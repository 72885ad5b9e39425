"""Dtype questions and conversions (graphnet/_dtype_methods.py) against torch 2.13: type
strings, conversions by name, element sizes, PyTorch's promotion rules (not NumPy's), and the
complex names graphnet refuses."""

from __future__ import annotations

import numpy as np
import pytest
from parity import np_of, to_gn, to_torch, torch

import graphnet

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
          "uint8", "bool"]


def _both(name):
    return getattr(graphnet, name), getattr(torch, name)


@pytest.mark.parametrize("name", DTYPES)
def test_type_strings_sizes_and_signedness(name):
    g_dtype, t_dtype = _both(name)
    g, t = graphnet.zeros(2, dtype=g_dtype), torch.zeros(2, dtype=t_dtype)
    assert g.type() == t.type()
    assert g.element_size() == t.element_size()
    assert g.is_signed() == t.is_signed()
    assert g.is_floating_point() == t.is_floating_point() == graphnet.is_floating_point(g)
    assert g.is_complex() is False and graphnet.is_complex(g) is False
    assert graphnet.zeros(2).type(t.type()).dtype == g_dtype
    assert graphnet.zeros(2).type(g_dtype).dtype == g_dtype


@pytest.mark.parametrize("method", ["half", "bfloat16", "float", "double", "bool", "int",
                                    "long", "short", "char", "byte"])
def test_conversion_methods(method):
    x = np.array([[-1.7, 0.0, 2.5], [100.0, 1.0, -0.5]], np.float32)
    g, t = getattr(to_gn(x), method)(), getattr(to_torch(x), method)()
    assert str(g.dtype).split(".")[1] == str(t.dtype).split(".")[1]
    if method != "byte":   # NOTE: float -> uint8 of negative values is undefined behaviour
        np.testing.assert_array_equal(np_of(g.double()), np_of(t.double()))


def test_type_accepts_cuda_names_and_refuses_others():
    x = graphnet.ones(2)
    if graphnet.cuda.is_available():
        assert x.type("torch.cuda.LongTensor").dtype == graphnet.int64
    else:   # PyTorch without CUDA raises: a CPU tensor would hide that a GPU was asked for
        with pytest.raises(RuntimeError, match="no CUDA device"):
            x.type("torch.cuda.LongTensor")
    assert x.type_as(graphnet.zeros(1, dtype=graphnet.int16)).dtype == graphnet.int16
    with pytest.raises(ValueError, match="invalid type: 'torch.Foo'"):
        x.type("torch.Foo")


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("b", DTYPES)
def test_promote_types_and_can_cast_follow_pytorch(a, b):
    (ga, ta), (gb, tb) = _both(a), _both(b)
    assert str(graphnet.promote_types(ga, gb)).split(".")[1] == \
        str(torch.promote_types(ta, tb)).split(".")[1]
    assert graphnet.can_cast(ga, gb) == torch.can_cast(ta, tb)


@pytest.mark.parametrize("make", [
    lambda T: (T.tensor([1], dtype=T.int32), 1.0), lambda T: (T.tensor([1]), 2),
    lambda T: (T.tensor([1], dtype=T.int32), T.tensor(1.0, dtype=T.float64)),
    lambda T: (T.tensor([1.0]), T.tensor(1.0, dtype=T.float64)),
    lambda T: (T.tensor([1], dtype=T.uint8), T.tensor(1000)),
    lambda T: (T.tensor([True]), T.tensor(3)), lambda T: (T.tensor([True]), 2.5),
    lambda T: (2, 3.0), lambda T: (True, 3), lambda T: (T.tensor(1, dtype=T.int8), 5),
    lambda T: (T.tensor([1], dtype=T.float16), T.tensor([1], dtype=T.int64)),
])
def test_result_type_uses_pytorchs_dimension_categories(make):
    expected = torch.result_type(*make(torch))
    assert str(graphnet.result_type(*make(graphnet))).split(".")[1] == \
        str(expected).split(".")[1]


def test_tensor_questions():
    x = graphnet.tensor([[1.5, -2.0]])
    assert graphnet.is_nonzero(graphnet.tensor([0.5])) and not graphnet.is_nonzero(
        graphnet.tensor(0))
    for bad, message in [(x, "more than one value"), (graphnet.zeros(0), "no values")]:
        with pytest.raises(RuntimeError, match=message):
            graphnet.is_nonzero(bad)
    assert graphnet.is_same_size(x, graphnet.zeros(1, 2)) and not x.is_same_size(x.t())
    assert graphnet.numel(x) == 2
    assert x.conj() is x and graphnet.resolve_conj(x) is x and x.resolve_neg() is x
    assert x.real is x and graphnet.real(x) is x and not x.is_conj() and not x.is_neg()
    with pytest.raises(RuntimeError, match="imag is not implemented"):
        _ = x.imag
    with pytest.raises(RuntimeError, match="only supported for complex"):
        graphnet.view_as_real(x)


def test_angle_of_real_tensors_matches_torch():
    a = np.array([-1.0, 0.0, 2.0, np.nan, -0.0], np.float32)
    for make in (lambda m: m(a), lambda m: m(np.array([-3, 0, 4]))):
        expected = torch.angle(make(to_torch))
        for got in (graphnet.angle(make(to_gn)), make(to_gn).angle(),
                    graphnet.compile(graphnet.angle)(make(to_gn))):
            assert got.dtype == graphnet.float32
            np.testing.assert_array_equal(np_of(got), np_of(expected))


@pytest.mark.parametrize("call", [
    lambda: graphnet.ones(2).cfloat(), lambda: graphnet.ones(2).cdouble(),
    lambda: graphnet.ones(2).chalf(), lambda: graphnet.complex(graphnet.ones(2),
                                                               graphnet.ones(2)),
    lambda: graphnet.polar(graphnet.ones(2), graphnet.ones(2)),
    lambda: graphnet.view_as_complex(graphnet.ones(2, 2)),
])
def test_complex_tensors_are_refused_with_the_reason(call):
    with pytest.raises(TypeError, match="graphnet has no complex dtypes"):
        call()


def test_is_signed_and_complex_copies_are_functions_too():
    x = graphnet.ones(2, dtype=graphnet.uint8)
    assert graphnet.is_signed(x) is False and graphnet.is_signed(x.char()) is True
    assert graphnet.conj_physical_(x) is x
    with pytest.raises(RuntimeError, match="only supported for complex"):
        graphnet.view_as_real_copy(x)
    with pytest.raises(TypeError, match="no complex dtypes"):
        graphnet.view_as_complex_copy(x)
