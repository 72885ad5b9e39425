"""`F.interpolate(..., antialias=True)`: bilinear, bicubic and Lanczos-3 resizing against
PyTorch, values and gradients in both modes, uint8 images bit for bit, and PyTorch's errors
(nn/_antialias.py). It was refused before, though it is how a super-resolution model's
low-resolution inputs are usually made."""

import numpy as np
import pytest
import torch

import graphnet as gn

CASES = [  # (H, W, size, scale_factor, align_corners)
    (8, 8, (4, 4), None, False), (13, 9, (5, 4), None, False), (7, 9, (11, 5), None, False),
    (16, 12, None, 0.37, False), (8, 8, (3, 5), None, True), (9, 9, None, (0.5, 2.0), True),
    (6, 10, (1, 1), None, False), (6, 6, (6, 6), None, False),
]


def _kwargs(mode, size, scale, corners):
    return dict(size=size, scale_factor=scale, mode=mode, antialias=True,
                align_corners=None if mode == "lanczos" else corners)


# PyTorch's Lanczos has no align_corners
PAIRS = [(m, c) for m in ("bilinear", "bicubic", "lanczos") for c in CASES
         if not (m == "lanczos" and c[4])]


@pytest.mark.parametrize("mode, case", PAIRS)
def test_antialiased_resize_matches_torch_with_gradients(mode, case):
    h, w, size, scale, corners = case
    kw = _kwargs(mode, size, scale, corners)
    rng = np.random.default_rng(h * w)
    x = rng.standard_normal((2, 3, h, w)).astype(np.float32)
    t = torch.tensor(x, requires_grad=True)
    want = torch.nn.functional.interpolate(t, **kw)
    g = rng.standard_normal(want.shape).astype(np.float32)
    (want * torch.tensor(g)).sum().backward()

    def f(a, weights):
        a = a.clone().requires_grad_(True)
        out = gn.nn.functional.interpolate(a, **kw)
        return out, gn.autograd.grad((out * weights).sum(), a)[0]

    for fn in (f, gn.compile(f)):
        out, grad = fn(gn.tensor(x), gn.tensor(g))
        np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), atol=1e-5)
        np.testing.assert_allclose(grad.numpy(), t.grad.numpy(), atol=1e-5)


# (PyTorch's uint8 kernel fails an internal assert for a 1x1 output)
@pytest.mark.parametrize("mode, case", [(m, c) for m, c in PAIRS if c[2] != (1, 1)])
def test_antialiased_uint8_is_bit_for_bit(mode, case):
    h, w, size, scale, corners = case
    kw = _kwargs(mode, size, scale, corners)
    x = np.random.default_rng(7).integers(0, 256, (2, 3, h, w)).astype(np.uint8)
    want = torch.nn.functional.interpolate(torch.tensor(x), **kw).numpy()
    for fn in (lambda a: gn.nn.functional.interpolate(a, **kw),
               gn.compile(lambda a: gn.nn.functional.interpolate(a, **kw))):
        got = fn(gn.tensor(x))
        assert got.dtype == gn.uint8
        np.testing.assert_array_equal(got.numpy(), want)


def test_antialias_float64_and_grad_fn_name():
    x = np.random.default_rng(3).standard_normal((1, 2, 9, 7))
    want = torch.nn.functional.interpolate(torch.tensor(x), size=(4, 3), mode="bicubic",
                                           antialias=True)
    got = gn.nn.functional.interpolate(gn.tensor(x, requires_grad=True), size=(4, 3),
                                       mode="bicubic", antialias=True)
    assert got.dtype == gn.float64
    np.testing.assert_allclose(got.detach().numpy(), want.numpy(), rtol=1e-12, atol=1e-12)
    assert type(got.grad_fn).__name__ == "UpsampleBicubic2DAaBackward0"


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(mode="lanczos"), ValueError, "Lanczos mode requires antialias=True"),
    (dict(mode="lanczos", antialias=True, align_corners=True), ValueError,
     "Lanczos mode does not support align_corners=True"),
    (dict(mode="nearest", antialias=True), ValueError, "Anti-alias option is restricted"),
])
def test_antialias_errors_are_torchs(kwargs, error, words):
    for lib in (torch, gn):
        with pytest.raises(error, match=words):
            lib.nn.functional.interpolate(lib.ones(1, 1, 8, 8), size=(3, 3), **kwargs)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int64"])
def test_antialias_refuses_the_dtypes_torch_refuses(dtype):
    for lib in (torch, gn):
        with pytest.raises(NotImplementedError, match="compute_index_ranges_weights"):
            lib.nn.functional.interpolate(lib.ones(1, 1, 8, 8, dtype=getattr(lib, dtype)),
                                          size=(3, 3), mode="bilinear", antialias=True)
