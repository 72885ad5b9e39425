"""softmax / log_softmax / softmin with `dtype=`: PyTorch casts the input to `dtype` first and
computes in it, so a float16 input keeps float32 precision and an integer input is legal; the
input's gradient comes back in the input's own dtype. Every entry point, eagerly and compiled,
against torch (graphnet/_math.py softmax, log_softmax)."""

import graphnet as gt
import numpy as np
import pytest
import torch

# NOTE: a float16 input whose float16 softmax differs from the float32 one by ~1e-4, far
# beyond the float32 tolerance below, so computing before the cast cannot pass.
HALF = (np.linspace(-3, 3, 14, dtype=np.float32) * 1.37).astype(np.float16).reshape(2, 7)
WIDE = np.array([[0.0, 10.0, 20.0]], np.float16)   # log_softmax's last entry: -4.5e-5, not 0
INTS = np.array([[3, 1, 3], [2, 2, 0]], np.int64)


def _entry_points(L):
    F = L.nn.functional
    return {
        "Tensor.softmax": lambda a, d: a.softmax(1, dtype=d),
        "Tensor.log_softmax": lambda a, d: a.log_softmax(1, dtype=d),
        "softmax": lambda a, d: L.softmax(a, 1, dtype=d),
        "log_softmax": lambda a, d: L.log_softmax(a, 1, dtype=d),
        "F.softmax": lambda a, d: F.softmax(a, dim=1, dtype=d),
        "F.log_softmax": lambda a, d: F.log_softmax(a, dim=1, dtype=d),
        "F.softmin": lambda a, d: F.softmin(a, dim=1, dtype=d),
        "special.softmax": lambda a, d: L.special.softmax(a, 1, dtype=d),
    }


def _run(L, name, x, dtype_name, compiled=False):
    fn = _entry_points(L)[name]
    dtype = getattr(L, dtype_name)
    call = (lambda a: fn(a, dtype))
    if compiled:
        call = gt.compile(call)
    return call(L.tensor(x))


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("name", sorted(_entry_points(torch)))
@pytest.mark.parametrize("x, dtype_name", [(HALF, "float32"), (WIDE, "float32"),
                                           (INTS, "float32"), (INTS, "float64")],
                         ids=["f16->f32", "f16-wide->f32", "i64->f32", "i64->f64"])
def test_values_match_torch(name, x, dtype_name, compiled):
    want = _run(torch, name, x, dtype_name)
    got = _run(gt, name, x, dtype_name, compiled)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7)


def _grad(L, name, compiled=False):
    a = L.tensor(HALF, requires_grad=True)
    weights = L.arange(14.0).reshape(2, 7)

    def loss(a):
        return (_entry_points(L)[name](a, L.float32) * weights).sum()

    if compiled:
        def step(a):
            loss(a).backward()
            return a.grad
        return gt.compile(step)(a)
    loss(a).backward()
    return a.grad


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "F.softmin"])
def test_gradient_flows_back_in_input_dtype(name, compiled):
    want = _grad(torch, name)
    got = _grad(gt, name, compiled)
    assert got.dtype == gt.float16 and want.dtype == torch.float16
    np.testing.assert_allclose(got.numpy().astype(np.float32),
                               want.numpy().astype(np.float32), rtol=2e-3, atol=1e-3)


def test_without_dtype_keeps_input_dtype():
    got = gt.softmax(gt.tensor(HALF), 1)
    want = torch.softmax(torch.tensor(HALF), 1)
    assert got.dtype == gt.float16
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-3, atol=1e-4)
