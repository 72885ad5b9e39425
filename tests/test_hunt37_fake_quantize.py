"""`fake_quantize_per_tensor_affine` and `fake_quantize_per_channel_affine`, the float-in,
float-out primitives quantization-aware training calls, against PyTorch: values (ties
rounded half to even, clamped ends, a zero scale), the straight-through gradient, dtypes,
grad_fn names, compiled calls, and PyTorch's argument errors. They were refused as
"quantized tensor internals" (QAT hunt)."""

import numpy as np
import pytest
import torch

import graphnet


def _values():
    rng = np.random.default_rng(0)
    ties = np.array([0.05, -0.15, 0.25, 0.35, -0.45, 0.0, -0.0, 0.85, -0.95], np.float32)
    return np.concatenate([rng.normal(0, 0.6, 31).astype(np.float32), ties])


def _run(L, fn, x, dtype="float32"):
    t = L.tensor(x).to(getattr(L, dtype)).requires_grad_()
    y = fn(L, t)
    y.backward(L.linspace(0.5, 2.0, y.numel()).reshape(y.shape).to(y.dtype))
    return y.detach().double().numpy(), t.grad.double().numpy(), type(y.grad_fn).__name__


PER_TENSOR = {
    "numbers": lambda L, t: L.fake_quantize_per_tensor_affine(t, 0.1, 0, -8, 7),
    "zero point": lambda L, t: L.fake_quantize_per_tensor_affine(t, 0.07, 3, -4, 12),
    "uint8 range": lambda L, t: L.fake_quantize_per_tensor_affine(t, 0.01, 128, 0, 255),
    "tensors": lambda L, t: L.fake_quantize_per_tensor_affine(
        t, L.tensor(0.1), L.tensor(2, dtype=L.int32), -8, 7),
    "float zero point tensor": lambda L, t: L.fake_quantize_per_tensor_affine(
        t, L.tensor([0.1]), L.tensor([1.7]), -8, 7),
    "zero scale": lambda L, t: L.fake_quantize_per_tensor_affine(t, 0.0, 0, -8, 7),
}


@pytest.mark.parametrize("case", sorted(PER_TENSOR))
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_per_tensor_matches_torch(case, dtype):
    want = _run(torch, PER_TENSOR[case], _values(), dtype)
    got = _run(graphnet, PER_TENSOR[case], _values(), dtype)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[2] == want[2]


def _per_channel(axis, zero_points):
    def fn(L, t):
        n = t.shape[axis]
        scale = L.linspace(0.05, 0.3, n)
        zp = L.tensor(zero_points[:n])
        return L.fake_quantize_per_channel_affine(t, scale, zp, axis, -8, 7)
    return fn


PER_CHANNEL = {
    "rows, int32 zero points": (0, np.array([0, 2, -3, 1, 5], np.int32)),
    "columns, int32 zero points": (1, np.array([0, 2, -3, 1, 5, -1, 4, 0], np.int32)),
    "rows, float zero points": (0, np.array([0.5, 1.5, -2.5, 0.25, 3.0], np.float32)),
}


@pytest.mark.parametrize("case", sorted(PER_CHANNEL))
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_per_channel_matches_torch(case, dtype):
    fn = _per_channel(*PER_CHANNEL[case])
    x = _values().reshape(5, 8)
    want, got = _run(torch, fn, x, dtype), _run(graphnet, fn, x, dtype)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[2] == want[2]


def test_compiled_qat_step_matches_dynamic_and_torch():
    def make(L):
        lin = L.nn.Linear(8, 3)
        with L.no_grad():
            lin.weight.copy_(L.tensor(_values()[:24].reshape(3, 8)))
            lin.bias.zero_()
        return lin, L.optim.SGD(lin.parameters(), lr=0.1)

    def step(L, lin, opt, x, bits):
        opt.zero_grad()
        w = L.fake_quantize_per_channel_affine(
            lin.weight, L.tensor([0.05, 0.1, 0.2]), L.zeros(3, dtype=L.int32), 0,
            -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        h = L.fake_quantize_per_tensor_affine(x @ w.t() + lin.bias, 0.05, 0, -128, 127)
        loss = (h - 1.0).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    x_np = _values()[:32].reshape(4, 8)
    results = []
    for L, compiled in ((torch, False), (graphnet, False), (graphnet, True)):
        lin, opt = make(L)
        fn = graphnet.compile(lambda x, b: step(L, lin, opt, x, b)) if compiled else \
            (lambda x, b: step(L, lin, opt, x, b))
        losses = [float(fn(L.tensor(x_np), bits)) for bits in (4, 4, 2, 8)]
        results.append((losses, lin.weight.detach().numpy().copy()))
    for losses, weight in results[1:]:
        np.testing.assert_allclose(losses, results[0][0], rtol=1e-6)
        np.testing.assert_allclose(weight, results[0][1], rtol=1e-6, atol=1e-7)


ERRORS = [
    lambda L: L.fake_quantize_per_tensor_affine(L.ones(3), 0.1, 0, 7, -8),
    lambda L: L.fake_quantize_per_tensor_affine(L.ones(3), 0.1, 9, -8, 7),
    lambda L: L.fake_quantize_per_tensor_affine(L.arange(3), 0.1, 0, -8, 7),
    lambda L: L.fake_quantize_per_tensor_affine(L.ones(3), L.ones(2), L.zeros(2), -8, 7),
    lambda L: L.fake_quantize_per_tensor_affine(
        L.ones(3), L.tensor(0.1, requires_grad=True), L.tensor(0), -8, 7),
    lambda L: L.fake_quantize_per_channel_affine(
        L.ones(3, 4), L.ones(3), L.zeros(3, dtype=L.int64), 0, -8, 7),
    lambda L: L.fake_quantize_per_channel_affine(
        L.ones(3, 4), L.ones(3).double(), L.zeros(3, dtype=L.int32), 0, -8, 7),
    lambda L: L.fake_quantize_per_channel_affine(
        L.ones(3, 4), L.ones(3), L.zeros(3, dtype=L.int32), -1, -8, 7),
    lambda L: L.fake_quantize_per_channel_affine(
        L.ones(3, 4), L.ones(3), L.zeros(3, dtype=L.int32), 2, -8, 7),
    lambda L: L.fake_quantize_per_channel_affine(
        L.ones(3, 4), L.ones(2), L.zeros(3, dtype=L.int32), 0, -8, 7),
    lambda L: L.fake_quantize_per_channel_affine(
        L.ones(3, 4), L.ones(2), L.zeros(2, dtype=L.int32), 0, -8, 7),
    lambda L: L.fake_quantize_per_channel_affine(
        L.ones(3, 4), L.ones(3, 1), L.zeros(3, dtype=L.int32), 0, -8, 7),
    lambda L: L.fake_quantize_per_channel_affine(
        L.ones(3, 4), L.ones(3), L.full((3,), 20, dtype=L.int32), 0, -8, 7),
    lambda L: L.fake_quantize_per_channel_affine(
        L.ones(3, 4), L.ones(3, requires_grad=True), L.zeros(3, dtype=L.int32), 0, -8, 7),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_argument_errors_match_torch(index):
    with pytest.raises(Exception) as want:
        ERRORS[index](torch)
    with pytest.raises(type(want.value)) as got:
        ERRORS[index](graphnet)
    assert str(got.value) == str(want.value)
