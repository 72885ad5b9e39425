"""`arange`, `linspace` and `logspace` give PyTorch's values bit for bit, eagerly and
compiled (graphnet/_ops/_range_values.py). Before, NumPy's and JAX's formulas differed from
PyTorch's in the last bit for about one float32 element in five.

PyTorch's CPU `arange` takes its vectorized loop's runs of 32-byte vectors, so its own
results depend on the CPU's vectors: the bitwise checks of arange run where PyTorch reports
AVX2 (the machines this project tests on); elsewhere values are compared to within an ulp."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet
from graphnet._ops._exact_fma import fma

DTYPES = ["float32", "float64", "float16", "bfloat16"]
ARANGES = [(0.1, 1.7, 0.3), (-1.3, 2.9, 0.7), (0, 1, 0.1), (0.5, 100.3, 0.37),
           (1e-3, 1.0, 0.013), (-5.5, 7.3, 0.011), (3.0, -2.5, -0.0137), (7,), (2, 9.5)]
# where `start + step * i` nearly cancels: PyTorch's fused sum keeps the residue (5.55e-17
# at -1 + 0.2 * 5), a twice-rounded one gave 0; and a bfloat16 tie its vector rounds down
NEAR_ZERO = [(-1, 1, 0.2), (-2.1, 1.1, 0.3), (-2.7, 1.5, 0.3), (-8.5, 116.8, 1.7),
             (-6.0, 215.7, 1.2), (-5.474, 194.4, 1.2)]
LINSPACES = [(0.1, 1.7, 7), (-1.3, 2.9, 11), (0, 1, 10), (0.5, 100.3, 37), (1e-3, 1.0, 100),
             (3.7, -2.2, 50), (-7.1, 13.3, 1000), (2.5, 2.5, 1), (1, 3, 0), (0.5, 10.7, 5)]
AVX2 = torch.backends.cpu.get_cpu_capability() == "AVX2"


def _bits(t) -> np.ndarray:
    """The values as float64 (every dtype here converts exactly), for a bitwise compare."""
    return np.asarray(t.double().numpy() if hasattr(t, "double") else t, np.float64)


def _same(got, want, exact: bool = True) -> None:
    got, want = _bits(got), _bits(want)
    assert got.shape == want.shape
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-2, atol=0)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_arange_values_are_torch_bits(dtype, compiled):
    def make(lib, bounds):
        return lib.arange(*bounds, dtype=getattr(lib, dtype))

    for bounds in (ARANGES[3:6] if compiled else ARANGES) + NEAR_ZERO:   # compiled: a
        # compile each, so the long ones
        call = graphnet.compile(lambda: make(graphnet, bounds) * 1) if compiled else \
            (lambda: make(graphnet, bounds))
        _same(call(), make(torch, bounds), exact=AVX2)


@pytest.mark.parametrize("dtype", DTYPES + ["int64", "int32", "int8"])
def test_linspace_values_are_torch_bits(dtype):
    for args in LINSPACES:
        want = torch.linspace(*args, dtype=getattr(torch, dtype))
        _same(graphnet.linspace(*args, dtype=getattr(graphnet, dtype)), want)


@pytest.mark.parametrize("base", [10.0, 2.0, 2.5])
@pytest.mark.parametrize("dtype", DTYPES)
def test_logspace_values_are_torch_bits(dtype, base):
    for args in LINSPACES:
        want = torch.logspace(*args, base=base, dtype=getattr(torch, dtype))
        _same(graphnet.logspace(*args, base=base, dtype=getattr(graphnet, dtype)), want)


def test_linspace_in_compiled_code_is_torch_bits():
    want = torch.linspace(-7.1, 13.3, 1000)
    _same(graphnet.compile(lambda: graphnet.linspace(-7.1, 13.3, 1000) + 0)(), want)


def test_the_float64_fma_rounds_once():
    from fractions import Fraction

    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(2000) * 10.0 ** rng.integers(-5, 5, 2000) for _ in range(3))
    exact = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c)]
    np.testing.assert_array_equal(fma(a, b, c), np.array(exact))
