"""The hooks PyTorch's conv layers offer subclasses: Conv1d/2d/3d's `_conv_forward(input,
weight, bias)` (convolve with this layer's settings and another weight: rotated group-conv
kernels, weight standardisation, low-rank updates) and ConvTranspose's
`_output_padding(input, output_size, stride, padding, kernel_size, num_spatial_dims,
dilation)` in PyTorch's signature. `_conv_forward` was missing and `_output_padding` took
only (input, output_size), so such subclasses stopped at AttributeError/TypeError."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _p4_conv(lib, conv, nd, mode):
    class P4Conv(conv):
        def forward(self, x):   # the group conv: every rotation of one filter bank
            w = lib.cat([lib.rot90(self.weight, k, [2, 3]) for k in range(4)], 0)
            return self._conv_forward(x, w, self.bias.repeat(4))

    return P4Conv(3, 2, 3, padding=1, padding_mode=mode)


def _standardised(lib, conv):
    class WSConv(conv):
        def _conv_forward(self, x, w, b):   # overriding the hook: forward still calls it
            w = (w - w.mean(dim=(1, 2, 3), keepdim=True)) / \
                (w.std(dim=(1, 2, 3), keepdim=True) + 1e-5)
            return super()._conv_forward(x, w, b)

    return WSConv(3, 4, 3, stride=2, padding=1)


def _copy_weights(src, dst):
    dst.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in src.state_dict().items()})


def _run(model, lib, x, static):
    fn = gn.compile(model) if static else model
    out = fn(lib.tensor(x, requires_grad=True))
    out.square().sum().backward()
    return out.detach().numpy(), {n: p.grad.numpy() for n, p in model.named_parameters()}


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("mode", ["zeros", "circular", "reflect"])
def test_subclass_convolves_a_built_weight_through_conv_forward(static, mode):
    torch.manual_seed(0)
    tm, gm = _p4_conv(torch, torch.nn.Conv2d, 2, mode), _p4_conv(gn, gn.nn.Conv2d, 2, mode)
    _copy_weights(tm, gm)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 5)).astype(np.float32)
    want_out, want_grads = _run(tm, torch, x, False)
    got_out, got_grads = _run(gm, gn, x, static)
    assert got_out.shape == (2, 8, 6, 5)
    np.testing.assert_allclose(got_out, want_out, rtol=1e-5, atol=1e-5)
    for name in want_grads:
        np.testing.assert_allclose(got_grads[name], want_grads[name], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
def test_overridden_conv_forward_is_what_forward_calls(static):
    torch.manual_seed(1)
    tm, gm = _standardised(torch, torch.nn.Conv2d), _standardised(gn, gn.nn.Conv2d)
    _copy_weights(tm, gm)
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)
    want_out, want_grads = _run(tm, torch, x, False)
    got_out, got_grads = _run(gm, gn, x, static)
    np.testing.assert_allclose(got_out, want_out, rtol=1e-4, atol=1e-4)
    for name in want_grads:
        np.testing.assert_allclose(got_grads[name], want_grads[name], rtol=1e-3, atol=1e-4)


def test_conv_forward_exists_where_pytorch_has_it_and_checks_the_weight_in_use():
    for name in ("Conv1d", "Conv2d", "Conv3d", "LazyConv2d"):
        assert hasattr(getattr(gn.nn, name), "_conv_forward"), name
    conv = gn.nn.Conv1d(4, 2, 3)
    with pytest.raises(RuntimeError, match="expected input"):
        conv._conv_forward(gn.randn(1, 3, 8), conv.weight, conv.bias)   # weight wants 4
    out = conv._conv_forward(gn.randn(1, 2, 8), conv.weight[:, :2], None)
    assert tuple(out.shape) == (1, 2, 6)


def _flipped_transpose(lib):
    class FlipConvT(lib.nn.ConvTranspose2d):
        def forward(self, x, output_size=None):
            pad = self._output_padding(x, output_size, self.stride, self.padding,
                                       self.kernel_size, 2, self.dilation)
            w = lib.flip(self.weight, [2, 3])
            return lib.nn.functional.conv_transpose2d(
                x, w, self.bias, self.stride, self.padding, pad, self.groups, self.dilation)

    return FlipConvT(3, 2, 3, stride=2, padding=1)


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("size", [None, [7, 7], [8, 7], [1, 2, 8, 8]])
def test_transposed_subclass_calls_output_padding_in_pytorchs_signature(static, size):
    torch.manual_seed(2)
    tm, gm = _flipped_transpose(torch), _flipped_transpose(gn)
    _copy_weights(tm, gm)
    x = np.random.default_rng(2).standard_normal((1, 3, 4, 4)).astype(np.float32)
    want = tm(torch.tensor(x), output_size=size).detach().numpy()
    fn = gn.compile(gm) if static else gm
    got = fn(gn.tensor(x), output_size=size).detach().numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_output_padding_returns_and_refuses_as_pytorch():
    for lib in (torch, gn):
        up = lib.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, dilation=2)
        x = lib.zeros(1, 3, 4, 4)
        args = (up.stride, up.padding, up.kernel_size, 2)
        assert list(up._output_padding(x, [9, 10], *args, up.dilation)) == [0, 1]
        assert list(up._output_padding(x, [7, 8], *args)) == [0, 1]   # dilation None: 1
        assert tuple(up._output_padding(x, None, *args)) == (0, 0)
        with pytest.raises(ValueError, match="valid sizes range from"):
            up._output_padding(x, [12, 12], *args, up.dilation)
        with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
            up._output_padding(x, [9], *args, up.dilation)
