"""A `dtype=` graphnet has not is refused, never built: `dtype=complex` (and NumPy's complex
types) made complex arrays that graphnet read back wrongly (`z.real` was 2j, `angle` 0,
`z.dtype` a KeyError), and a dtype name as a string was taken where PyTorch refuses it. The
FFT frequency helpers divide as IEEE floats (n = 0 or d = 0 gave ZeroDivisionError), and
fftshift checks its dims and refuses none, as PyTorch does."""

import math

import numpy as np
import pytest
import torch

import graphnet

_MAKERS = {
    "zeros": lambda T, d: T.zeros(2, dtype=d),
    "full": lambda T, d: T.full((2,), -4.0, dtype=d),
    "tensor": lambda T, d: T.tensor([1.0, 2.0], dtype=d),
    "arange": lambda T, d: T.arange(3, dtype=d),
    "zeros_like": lambda T, d: T.zeros_like(T.ones(2), dtype=d),
    "new_zeros": lambda T, d: T.ones(2).new_zeros(3, dtype=d),
    "randn": lambda T, d: T.randn(2, dtype=d),
    "rand": lambda T, d: T.rand(2, dtype=d),
    "to": lambda T, d: T.ones(2).to(d),
    "to_keyword": lambda T, d: T.ones(2).to(dtype=d),
}


@pytest.mark.parametrize("dtype", [complex, np.complex64, np.complex128],
                         ids=["complex", "np.complex64", "np.complex128"])
@pytest.mark.parametrize("name", sorted(_MAKERS))
def test_complex_dtype_is_refused(name, dtype):
    # `to(np.complex64)`: PyTorch's parser refuses a NumPy type; graphnet's too
    says = "invalid combination" if name.startswith("to") and dtype is not complex \
        else "no complex dtypes"
    with pytest.raises(TypeError, match=says):
        _MAKERS[name](graphnet, dtype)


@pytest.mark.parametrize("name", ["zeros", "full", "arange", "randn"])
def test_dtype_name_string_is_refused_as_in_torch(name):
    with pytest.raises(TypeError):
        _MAKERS[name](torch, "float32")
    with pytest.raises(TypeError, match="must be torch.dtype, not str"):
        _MAKERS[name](graphnet, "float32")


@pytest.mark.parametrize("name, kind", [(name, kind) for name in sorted(_MAKERS)
                                         for kind in (float, int, bool)
                                         if (name not in ("randn", "rand") or kind is float)
                                         and (name, kind) != ("arange", bool)])
def test_python_type_dtypes_still_read_as_torch(name, kind):
    want = _MAKERS[name](torch, kind)
    got = _MAKERS[name](graphnet, kind)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]


@pytest.mark.parametrize("kind", ["bool", bool])
def test_bool_arange_refused_as_torch(kind):
    for T in (torch, graphnet):
        with pytest.raises(NotImplementedError, match="arange_cpu.*Bool"):
            T.arange(3, dtype=getattr(T, kind) if isinstance(kind, str) else kind)


def test_float_arange_with_python_type_dtype():
    for bounds, kind in (((0.5, 3), float), ((0.5, 3), int), ((0, 2.5), float)):
        want = torch.arange(*bounds, dtype=kind)
        got = graphnet.arange(*bounds, dtype=kind)
        assert got.tolist() == want.tolist() and got.dtype.itemsize == want.dtype.itemsize


def _same(got, want):
    assert got.dtype.itemsize == want.dtype.itemsize
    for g, w in zip(got.tolist(), want.tolist()):
        assert (math.isnan(g) and math.isnan(w)) or (g == w and math.copysign(1, g)
                                                     == math.copysign(1, w)), (got, want)
    assert len(got.tolist()) == len(want.tolist())


@pytest.mark.parametrize("fn", ["fftfreq", "rfftfreq"])
@pytest.mark.parametrize("n, d", [(0, 1.0), (4, 0.0), (3, -0.0), (5, 0.0), (1, 1.0),
                                  (4, float("inf")), (6, 0.25)])
def test_frequencies_divide_as_ieee_floats(fn, n, d):
    want = getattr(torch.fft, fn)(n, d)
    got = getattr(graphnet.fft, fn)(n, d)
    _same(got, want)


def test_fftfreq_negative_length_raises():
    for T in (torch, graphnet):
        with pytest.raises(RuntimeError, match="negative dimension -2"):
            T.fft.fftfreq(-2)


@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
def test_fftshift_dims_checked(name):
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    for T in (torch, graphnet):
        shift = getattr(T.fft, name)
        with pytest.raises(IndexError, match="Dimension out of range"):
            shift(T.tensor(x), dim=4)
        with pytest.raises(RuntimeError, match="`shifts` required"):
            shift(T.tensor(x), dim=())
        with pytest.raises(RuntimeError, match="`shifts` required"):
            shift(T.tensor(1.0))
    for dim in (-1, 0, (0, -1), None):
        want = getattr(torch.fft, name)(torch.tensor(x), dim=dim)
        got = getattr(graphnet.fft, name)(graphnet.tensor(x), dim=dim)
        assert got.tolist() == want.tolist()
