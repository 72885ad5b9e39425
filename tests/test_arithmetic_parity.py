"""Silent differences from PyTorch in everyday arithmetic: `x % y` (and the rounded
divisions) left autograd, so the inputs got no gradient; a NumPy number (`np.sqrt(d)`,
`np.float64(2.0)`) promoted float32 tensors to float64, or, on the left of an operator,
turned the result into a NumPy array outside autograd; half precision rounded a Python number
before multiplying or dividing, and accumulated cumsum/cumprod in half."""

import numpy as np
import pytest
import torch

import graphnet


def _grads(lib, fn, compiled=False):
    x = lib.tensor([1.5, 3.5, -0.5, 7.25], requires_grad=True)
    y = lib.tensor([1.0, 2.0, -3.0, -2.0], requires_grad=True)
    run = graphnet.compile(fn) if compiled else fn
    out = run(x, y)
    out.backward()
    return [t.detach().numpy() if t is not None else None for t in (out, x.grad, y.grad)]


CASES = {
    "remainder": lambda x, y: (lib_w(x) * (x % y)).sum(),
    "remainder by a number": lambda x, y: (lib_w(x) * (x % 2)).sum() + y.sum(),
    "div floor": lambda x, y: (x.div(y, rounding_mode="floor") + x).sum(),
    "div trunc": lambda x, y: (x.div(y, rounding_mode="trunc") * 2 + x).sum(),
}


def lib_w(x):
    return (graphnet if isinstance(x, graphnet.Tensor) else torch).tensor([1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("case", CASES)
def test_remainder_and_rounded_division_gradients_match_torch(case, compiled):
    want = _grads(torch, CASES[case])
    got = _grads(graphnet, CASES[case], compiled)
    for w, g in zip(want, got):
        np.testing.assert_array_equal(np.abs(g), np.abs(w))   # trunc's zeros may be -0.0


def test_integer_remainder_is_unchanged():
    a = np.arange(-7, 7)
    for b in (3, -3):
        assert (graphnet.tensor(a) % b).tolist() == (torch.tensor(a) % b).tolist()


NUMPY_NUMBERS = {
    "times np.float64": lambda t, x: x * np.float64(2.0),
    "np.float64 times": lambda t, x: np.float64(2.0) * x,
    "np.float64 minus": lambda t, x: np.float64(1.0) - x,
    "np.float32 over": lambda t, x: np.float32(1.0) / x,
    "over np.sqrt": lambda t, x: x / np.sqrt(4),
    "half times np.float64": lambda t, x: x.half() * np.float64(2.0),
    "int32 plus np.int64": lambda t, x: x.int() + np.int64(1),
    "int64 times np.float32": lambda t, x: x.long() * np.float32(2.5),
    "clamp to np.float64": lambda t, x: t.clamp(x, np.float64(0.5)),
    "clamp_min np.float64": lambda t, x: x.clamp_min(np.float64(0.2)),
    "leaky_relu np.float64": lambda t, x: t.nn.functional.leaky_relu(x - 1, np.float64(0.1)),
    "compare np.float64": lambda t, x: x > np.float64(1.5),
}


@pytest.mark.parametrize("case", NUMPY_NUMBERS)
def test_numpy_numbers_count_as_python_numbers(case):
    want = NUMPY_NUMBERS[case](torch, torch.tensor([1.0, 2.0, 3.0]))
    got = NUMPY_NUMBERS[case](graphnet, graphnet.tensor([1.0, 2.0, 3.0]))
    assert isinstance(got, graphnet.Tensor)
    assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
    np.testing.assert_allclose(got.numpy().astype(np.float64), want.numpy().astype(np.float64))


def test_a_numpy_number_on_the_left_keeps_autograd():
    x = graphnet.tensor([1.0, 2.0], requires_grad=True)
    (np.float64(3.0) * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_attention_scaled_by_a_numpy_number_runs_compiled():
    def attend(q):
        s = (q @ q.transpose(1, 2)) / np.sqrt(q.shape[-1])
        return s.softmax(-1) @ q

    q = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    want = attend(torch.tensor(q)).numpy()
    for fn in (attend, graphnet.compile(attend)):
        got = fn(graphnet.tensor(q))
        assert got.dtype == graphnet.float32
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6)


HALF_OPS = {"t/s": lambda t, s: t / s, "s/t": lambda t, s: s / t, "t*s": lambda t, s: t * s,
            "s*t": lambda t, s: s * t, "t//s": lambda t, s: t // s, "t+s": lambda t, s: t + s,
            "s-t": lambda t, s: s - t, "t**s": lambda t, s: t ** s, "t%s": lambda t, s: t % s}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("op", HALF_OPS)
def test_half_precision_with_a_python_number_rounds_as_torch(dtype, op):
    """PyTorch computes mul, div and floor division of a half tensor and a number in float32
    and rounds once (bf16 * 3.7 is 48.0; rounding 3.7 to bf16 first gave 48.25), rounds the
    number first for the others, and computes `s / t` as `t.reciprocal() * s`."""
    values = np.linspace(-50, 50, 41).astype(np.float32)
    for s in (3.7, 0.7, 7.1, -2.3, 1.1, 2049.0, 0.1, 3.0):
        want = HALF_OPS[op](torch.tensor(values).to(getattr(torch, dtype)), s)
        got = HALF_OPS[op](graphnet.tensor(values).to(getattr(graphnet, dtype)), s)
        assert str(got.dtype) == f"graphnet.{dtype}"
        np.testing.assert_array_equal(got.float().numpy(), want.float().numpy())


def test_a_number_over_a_tensor_is_its_reciprocal_times_the_number():
    values = np.linspace(0.5, 50, 60).astype(np.float32)
    want = (3.0 / torch.tensor(values)).numpy()
    np.testing.assert_array_equal((3.0 / graphnet.tensor(values)).numpy(), want)
    np.testing.assert_array_equal(graphnet.compile(lambda x: 3.0 / x)(
        graphnet.tensor(values)).numpy(), want)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_scans_accumulate_in_float32(dtype):
    for lib_case in (lambda t: t.full((5000,), 0.1, dtype=getattr(t, dtype)).cumsum(0),
                     lambda t: t.linspace(0.9, 1.1, 300).to(getattr(t, dtype)).cumprod(0),
                     lambda t: t.ones(3).cumsum(0, dtype=getattr(t, dtype))):
        want, got = lib_case(torch), lib_case(graphnet)
        assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
        np.testing.assert_array_equal(got.float().numpy(), want.float().numpy())
