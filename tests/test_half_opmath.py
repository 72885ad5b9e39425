"""float16/bfloat16 activations computed as PyTorch's CPU kernels compute them: in float32
("opmath"), rounded once, in the forward and the gradient (graphnet/_ops/_opmath.py).
Computed in the half dtype itself, softplus(12) was inf, sigmoid(-12) 0 and hypot's float16
gradient -inf. Each case runs eagerly and compiled (forward and backward in one compiled
step) and is compared with torch bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphnet

DTYPES = ["float16", "bfloat16"]


def _torch_result(fn, values, grad, dtype):
    x = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
    y = fn(torch, x)
    y.backward(torch.tensor(grad, dtype=y.dtype))
    return y.detach(), x.grad


def _step(fn, dtype):
    def step(x, grad):
        y = fn(graphnet, x)
        y.backward(grad)
        return y.detach(), x.grad
    return step


@pytest.fixture(params=["eager", "compiled"])
def mode(request):
    return request.param


def _check(fn, values, dtype, mode, grad=None):
    """fn's value and gradient (for `grad`, ones by default) equal torch's bit for bit."""
    grad = np.ones(len(values), np.float32) if grad is None else grad
    want = _torch_result(fn, values, grad, dtype)
    x = graphnet.tensor(values, dtype=getattr(graphnet, dtype), requires_grad=True)
    g = graphnet.tensor(grad, dtype=getattr(graphnet, dtype))
    step = _step(fn, dtype)
    got = step(x, g) if mode == "eager" else graphnet.compile(step)(x, g)
    for name, w, r in zip(("value", "gradient"), want, got):
        assert str(r.dtype) == str(w.dtype).replace("torch", "graphnet"), name
        np.testing.assert_array_equal(np.asarray(r.float().tolist()), w.float().numpy(),
                                      err_msg=f"{name} in {dtype}, {mode}")


def _normal_halves(dtype, low, high):
    """Every value of `dtype` in [low, high] away from the subnormal range, so that no result
    is subnormal either (XLA's CPU code flushes subnormals to 0; PyTorch keeps them)."""
    bits = np.arange(1 << 16, dtype=np.uint16).view(np.int16)
    t = torch.from_numpy(bits).view(getattr(torch, dtype)).float()
    tiny = torch.finfo(getattr(torch, dtype)).tiny
    keep = torch.isfinite(t) & (t >= low) & (t <= high) & ((t.abs() >= 4 * tiny) | (t == 0))
    return t[keep].numpy()


def softplus(lib, x):
    return lib.nn.functional.softplus(x)


def logsigmoid(lib, x):
    return lib.nn.functional.logsigmoid(x)


def sigmoid(lib, x):
    return lib.sigmoid(x)


def silu(lib, x):
    return lib.nn.functional.silu(x)


def tanh(lib, x):
    return lib.tanh(x)


def hypot_self(lib, x):
    return lib.hypot(x, x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_stays_finite_past_the_half_range_of_exp(dtype, mode):
    # exp(12) > float16's 65504; near 0, log1p(exp(x)) rounded twice in bfloat16 was 1 ulp off
    _check(softplus, [-15.0, 0.0004253, 0.00390625, 12.0, 15.0, 19.0], dtype, mode)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsigmoid_stays_finite_below_minus_12(dtype, mode):
    _check(logsigmoid, [-15.0, -12.0, -10.0, 3.0], dtype, mode)


@pytest.mark.parametrize("fn", [sigmoid, silu], ids=["sigmoid", "silu"])
def test_float16_sigmoid_and_silu_keep_their_small_tail(fn, mode):
    _check(fn, [-9.0, -12.0, -14.0, -16.0], "float16", mode)


@pytest.mark.parametrize("fn", [sigmoid, silu], ids=["sigmoid", "silu"])
def test_bfloat16_sigmoid_and_silu_keep_their_small_tail(fn, mode):
    _check(fn, [-60.0, -80.0, -85.0], "bfloat16", mode)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", [sigmoid, tanh], ids=["sigmoid", "tanh"])
def test_gradient_from_the_rounded_result_everywhere(fn, dtype, mode):
    # NOTE: torch's float16 sigmoid_backward rounds each operation, its bfloat16 one and
    # tanh_backward compute in float32; a varying incoming gradient exposes the order
    values = _normal_halves(dtype, -12.0, 12.0)[::3]
    grad = np.linspace(0.5, 1.5, len(values)).astype(np.float32)
    _check(fn, values, dtype, mode, grad)


def test_float16_hypot_gradient_of_large_and_small_values(mode):
    _check(hypot_self, [300.0, 1e-3, 3.0, -300.0], "float16", mode)


@pytest.mark.parametrize("dtype", DTYPES)
def test_hypot_everywhere(dtype, mode):
    values = _normal_halves(dtype, -300.0, 300.0)[::5]
    grad = np.linspace(0.5, 1.5, len(values)).astype(np.float32)
    _check(lambda lib, x: lib.hypot(x, x * 0.75), values, dtype, mode, grad)


def test_bfloat16_hypot_is_rounded_once(mode):
    _check(lambda lib, x: lib.hypot(x, x * 5), [1.0, 3.0], "bfloat16", mode)
