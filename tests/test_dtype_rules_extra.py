"""Result types and values PyTorch gives where NumPy's (JAX's) rules differ, eager and
compiled: an integer `arange` from float bounds, `prod(dtype=...)` computed in that dtype,
float-valued ops of integer inputs in float32 and of mixed float/integer inputs in the float
input's dtype. Before, each gave another length, dtype or value without an error."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet

RANGES = [(0, 2.5), (0.5, 3), (0, 5, 1.5), (-2.7, 3.2, 1.9), (5.5, 0, -1.5), (0.2, 0.9),
          (-0.5, 3.7, 0.9)]


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "uint8"])
def test_an_integer_arange_from_float_bounds_matches_torch(dtype):
    for bounds in RANGES:
        try:
            want = torch.arange(*bounds, dtype=getattr(torch, dtype))
        except (RuntimeError, ValueError):   # torch 2.13 raises ValueError here
            with pytest.raises((RuntimeError, ValueError), match="step must be nonzero"):
                graphnet.arange(*bounds, dtype=getattr(graphnet, dtype))
            continue
        got = graphnet.arange(*bounds, dtype=getattr(graphnet, dtype))
        assert got.dtype == getattr(graphnet, dtype)
        assert got.tolist() == want.tolist(), bounds


CALLS = {
    "prod in int8": lambda T, x: x.int().prod(dtype=T.int8),
    "prod in int32 overflows": lambda T, x: (x.int() * 1024).prod(dtype=T.int32),
    "prod of bools": lambda T, x: (x > 0).prod(dim=0, dtype=T.int32),
    "prod of uint8": lambda T, x: x.to(T.uint8).prod(),
    "logsumexp of ints": lambda T, x: T.logsumexp(x.long(), 0),
    "xlogy float32 with int64": lambda T, x: T.xlogy(x.float() / 2, x.long()),
    "xlogy float16 with int64": lambda T, x: T.xlogy(x.half(), x.long()),
    "xlogy int64 with a float": lambda T, x: T.xlogy(x.long(), 1.5),
}


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", list(CALLS))
def test_result_types_match_torch(name, compiled):
    x = np.array([100.0, 3.0, 2.0, 5.0], np.float32)
    want = CALLS[name](torch, torch.tensor(x))
    call = lambda t: CALLS[name](graphnet, t)   # noqa: E731
    got = (graphnet.compile(call) if compiled else call)(graphnet.tensor(x))
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(np.asarray(got.float().numpy()),
                               want.float().numpy(), rtol=1e-3)


MASKS = {
    "mask * loss": lambda T, m, y: m * y,
    "loss * mask": lambda T, m, y: y * m,
    "mask.float() * loss": lambda T, m, y: m.float() * y,
    "masked sum": lambda T, m, y: (m.float() * y).sum(),
    "mask / 0": lambda T, m, y: m / T.zeros(3),
    "mask.float() / 0": lambda T, m, y: m.float() / 0,
    "mask * -1.0": lambda T, m, y: m * -1.0,
}


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", list(MASKS))
def test_a_bool_mask_times_inf_is_nan_as_in_torch(name, compiled):
    """XLA rewrites float(mask) * y as where(mask, y, 0): 0 * inf gave 0 (eager and
    compiled), where PyTorch gives NaN, and False * -1.0 gave 0.0, not -0.0."""
    m, y = [True, False, False], [1.0, float("inf"), float("nan")]
    want = MASKS[name](torch, torch.tensor(m), torch.tensor(y)).numpy()
    call = lambda m, y: MASKS[name](graphnet, m, y)   # noqa: E731
    got = (graphnet.compile(call) if compiled else call)(graphnet.tensor(m), graphnet.tensor(y))
    got = np.asarray(got.numpy())
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


REFUSED = {
    "bool - int": lambda T: T.tensor([True]) - 1,
    "int - True": lambda T: T.tensor([1]) - True,
    "float - bool": lambda T: T.tensor([1.0]) - T.tensor([True]),
    "bool - bool": lambda T: T.tensor([True]) - T.tensor([False]),
    "rsub of a bool": lambda T: T.rsub(T.tensor([True]), 1),
    "where on an int condition": lambda T: T.where(T.tensor([1, 0]), 1.0, 2.0),
    "float alpha on ints": lambda T: T.add(T.tensor([1]), T.tensor([1]), alpha=2.5),
    "bool alpha on floats": lambda T: T.add(T.tensor([1.0]), T.tensor([1.0]), alpha=True),
    "int into a bool in place": lambda T: T.tensor([True]).add_(2),
    "int tensor into a bool in place": lambda T: T.tensor([True]).mul_(T.tensor([2])),
    "std of ints": lambda T: T.tensor([1, 2]).std(),
    "var of bools": lambda T: T.tensor([True, False]).var(),
    "mean into an int dtype": lambda T: T.tensor([1.0, 2.0]).mean(dtype=T.int64),
    "norm of ints": lambda T: T.tensor([3, 4]).norm(),
    "norm of uint8": lambda T: T.norm(T.tensor([3, 0], dtype=T.uint8), 0),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_what_torch_refuses_raises(name):
    """Before, each of these ran and gave a number (a bool minus 1, an int sum scaled by 2.5
    made float32, an int result written into a bool tensor)."""
    with pytest.raises(RuntimeError) as want:
        REFUSED[name](torch)
    with pytest.raises(RuntimeError) as got:
        REFUSED[name](graphnet)
    assert str(want.value).split(".")[0].split(" ")[:3] == \
        str(got.value).split(".")[0].split(" ")[:3]


def test_what_torch_takes_still_runs():
    for call in (lambda T: T.tensor([True]) | T.tensor([False]), lambda T: T.tensor([2]) - 1,
                 lambda T: T.add(T.tensor([1.0]), 1.0, alpha=0.5),
                 lambda T: T.add(T.tensor([1]), T.tensor([1]), alpha=3),
                 lambda T: T.tensor([1]).add_(T.tensor([True]))):
        assert call(graphnet).tolist() == call(torch).tolist()


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_bool_powers_and_uint8_truth_match_torch(compiled):
    """bool ** 2 was int32 compiled (int64 eagerly), bool ** True int32 (PyTorch: bool);
    any/all of uint8 were bool (PyTorch: uint8)."""
    def calls(T, b, u):
        return [b ** 2, b ** True, b ** False, b ** 2.0, u.any(), u.all(0),
                T.any(u, dim=0, keepdim=True)]

    want = calls(torch, torch.tensor([True, False]), torch.tensor([3, 0], dtype=torch.uint8))
    run = (lambda b, u: calls(graphnet, b, u))
    got = (graphnet.compile(run) if compiled else run)(
        graphnet.tensor([True, False]), graphnet.tensor([3, 0], dtype=graphnet.uint8))
    for w, g in zip(want, got, strict=True):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        assert g.tolist() == w.tolist()
