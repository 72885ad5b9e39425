"""A bfloat16/float16 convolution adds its bias before the one rounding to the half type, as
PyTorch's CPU kernel: added after the rounding, a bfloat16 conv2d with a bias differed from
torch's in 29% of elements (by up to 0.25) and a bfloat16 cellular automaton drifted.
A bfloat16 transposed convolution likewise; torch's float16 one rounds twice, and so does
graphnet's."""

import numpy as np
import pytest
import torch

import graphnet


def _inputs(dtype, shape_x, shape_w, channels):
    torch.manual_seed(0)
    return ((torch.randn(*shape_x) * 3).to(dtype), torch.randn(*shape_w).to(dtype),
            (torch.randn(channels) * 5).to(dtype))


def _g(a):
    return graphnet.tensor(a.float().numpy()).to(getattr(graphnet, str(a.dtype).split(".")[1]))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("compiled", [False, True])
def test_half_conv2d_with_bias_rounds_once(dtype, compiled):
    x, w, b = _inputs(dtype, (4, 4, 16, 16), (8, 4, 3, 3), 8)
    want = torch.nn.functional.conv2d(x, w, b, padding=1).float().numpy()

    def f(a, c, d):
        return graphnet.nn.functional.conv2d(a, c, d, padding=1)

    if compiled:
        f = graphnet.compile(f)
    got = f(_g(x), _g(w), _g(b))
    assert got.dtype == getattr(graphnet, str(dtype).split(".")[1])
    differ = int((got.float().numpy() != want).sum())
    assert differ <= 4, differ     # accumulation order: an element or two in float16


def _rounded_once(fn, *args, **kw):
    """`fn` in float32 on the half inputs, rounded to the half type once: what graphnet
    computes, and what PyTorch's CPU kernels give where they add the bias before rounding
    (AVX-512 machines; on others its bfloat16 transposed convolution rounds twice)."""
    return fn(*(a.float() for a in args), **kw).to(args[0].dtype).float().numpy()


def test_bfloat16_conv1d_and_conv_transpose_with_bias_equal_torch():
    cases = [(torch.nn.functional.conv1d, graphnet.nn.functional.conv1d,
              ((2, 4, 32), (6, 4, 3), 6), {}),
             (torch.nn.functional.conv_transpose2d, graphnet.nn.functional.conv_transpose2d,
              ((2, 4, 8, 8), (4, 3, 3, 3), 3), {"stride": 2})]
    for torch_fn, graphnet_fn, shapes, kw in cases:
        x, w, b = _inputs(torch.bfloat16, *shapes)
        once = _rounded_once(torch_fn, x, w, b, **kw)
        got = graphnet_fn(_g(x), _g(w), _g(b), **kw).float().numpy()
        np.testing.assert_array_equal(got, once)
        want = torch_fn(x, w, b, **kw).float().numpy()
        if np.array_equal(want, once):    # PyTorch's kernel on this CPU rounds once too
            np.testing.assert_array_equal(got, want)


def test_half_conv_gradients_keep_the_half_dtype_and_torch_values():
    x, w, b = _inputs(torch.bfloat16, (2, 3, 8, 8), (4, 3, 3, 3), 4)
    ts = [a.clone().requires_grad_() for a in (x, w, b)]
    torch.nn.functional.conv2d(*ts, padding=1).float().pow(2).sum().backward()
    # the float32 gradients of the output rounded once, each rounded to bfloat16 once
    fs = [a.float().clone().requires_grad_() for a in (x, w, b)]
    out = torch.nn.functional.conv2d(*fs, padding=1)
    (out + (out.to(torch.bfloat16).float() - out).detach()).pow(2).sum().backward()
    gs = [_g(a).requires_grad_() for a in (x, w, b)]
    graphnet.nn.functional.conv2d(*gs, padding=1).float().pow(2).sum().backward()
    for t, f, g in zip(ts, fs, gs):
        assert g.grad.dtype == graphnet.bfloat16
        got, once = g.grad.float().numpy(), f.grad.to(torch.bfloat16).float().numpy()
        np.testing.assert_allclose(got, once, rtol=1e-2, atol=1e-2)
        want = t.grad.float().numpy()
        # PyTorch's bfloat16 backward kernel accumulates in bfloat16 on CPUs without AVX-512
        # (up to 11% off the once-rounded gradient there): compared where it rounds once
        if np.allclose(want, once, rtol=1e-2, atol=1e-2):
            np.testing.assert_allclose(got, want, rtol=2e-2, atol=1e-2)
