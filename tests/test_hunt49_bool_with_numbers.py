"""A bool tensor with a Python number (`mask * 300`, `mask + 1`, `32 * mask`): PyTorch's
result is int64, and graphnet said int64 too, but its array was JAX's weakly typed int64,
which the next op with a narrower tensor followed: `u8 + mask * 300` wrapped in uint8 (109
where PyTorch gives 365), `int8 + ...` gave -112 for 400, and a compiled function refused
the type it had recorded. Binary kernels now give such results a strong type."""

import operator

import numpy as np
import pytest
import torch

import graphnet as gn

MAKERS = {
    "mask * 300": lambda m: m * 300, "mask + 1": lambda m: m + 1, "32 * mask": lambda m: 32 * m,
    "mask.add(1)": lambda m: m.add(1), "mask.mul(2 ** 40)": lambda m: m.mul(2 ** 40),
    "mask // 2": lambda m: m // 2, "mask % 3": lambda m: m % 3, "7 + mask": lambda m: 7 + m,
    "mask + True": lambda m: m + True,
}
NARROW = {"uint8": [100, 10, 200], "int8": [100, -10, 27], "int32": [2 ** 31 - 1, 5, -7]}


def _values(lib, make, narrow, compiled):
    def f(mask, x):
        return x + make(mask)

    fn = gn.compile(f) if compiled else f
    mask = lib.tensor([True, False, True])
    out = fn(mask, lib.tensor(NARROW[narrow], dtype=getattr(lib, narrow)))
    return str(out.dtype).split(".")[-1], out.tolist()


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("narrow", sorted(NARROW))
@pytest.mark.parametrize("name", sorted(MAKERS))
def test_the_int64_result_promotes_a_narrower_tensor_as_in_torch(name, narrow, static):
    assert _values(gn, MAKERS[name], narrow, static) == \
        _values(torch, MAKERS[name], narrow, False)


def test_ascii_lowercasing_on_uint8_codes():
    text = "Hello, World"

    def lower(lib):
        x = lib.tensor(list(text.encode()), dtype=lib.uint8)
        shifted = x + ((x >= 65) & (x <= 90)) * 32
        return str(shifted.dtype).split(".")[-1], shifted.tolist()

    assert lower(gn) == lower(torch)
    assert bytes(lower(gn)[1]).decode() == text.lower()


@pytest.mark.parametrize("op", [operator.mul, operator.add, operator.floordiv])
def test_the_result_is_a_strong_int64_where_it_is_kept(op):
    kept = op(gn.tensor([True, False]), 3)
    later = kept + gn.tensor([1, 2], dtype=gn.int16)
    assert kept.dtype == later.dtype == gn.int64
    np.testing.assert_array_equal(later.numpy(), op(np.array([1, 0]), 3) + [1, 2])
