"""The convolution family's extra modules against torch: forward and gradients (inputs and
parameters) eagerly and compiled, reprs, state_dict keys and shapes, default init, and a
spatial transformer that trains like PyTorch's."""

from __future__ import annotations

import math

import numpy as np
import pytest
from parity import assert_close, check_module, copy_torch_params, np_of, to_gn, to_torch, torch

import graphnet
from graphnet import nn

RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# (constructor call written for both libraries, input shape)
MODULES = [
    (lambda m: m.Conv3d(3, 4, 3, stride=2, padding=1), (2, 3, 5, 6, 5)),
    (lambda m: m.Conv3d(4, 4, (1, 3, 3), padding="same", groups=2, bias=False), (4, 3, 5, 4)),
    (lambda m: m.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), (2, 3, 5, 6)),
    (lambda m: m.Conv2d(3, 4, (3, 4), padding="same", padding_mode="circular", dilation=(1, 2)),
     (2, 3, 6, 9)),
    (lambda m: m.Conv1d(3, 2, 3, stride=2, padding=2, padding_mode="replicate"), (2, 3, 7)),
    (lambda m: m.Conv3d(2, 2, 3, padding=(0, 1, 2), padding_mode="circular"), (1, 2, 4, 4, 4)),
    (lambda m: m.ConvTranspose1d(4, 6, 3, stride=2, groups=2, dilation=2), (2, 4, 5)),
    (lambda m: m.ConvTranspose2d(3, 4, 4, stride=2, padding=1), (2, 3, 4, 5)),
    (lambda m: m.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1, bias=False),
     (3, 4, 4)),
    (lambda m: m.ConvTranspose3d(2, 3, (2, 3, 2), stride=(1, 2, 2)), (1, 2, 3, 4, 3)),
    (lambda m: m.MaxPool3d(2, stride=1, padding=1, ceil_mode=True), (2, 3, 4, 5, 4)),
    (lambda m: m.AvgPool3d(3, 2, 1, count_include_pad=False), (2, 3, 5, 5, 6)),
    (lambda m: m.AdaptiveAvgPool3d((2, 1, None)), (2, 3, 5, 4, 3)),
    (lambda m: m.AdaptiveMaxPool3d(2), (2, 3, 5, 4, 3)),
    (lambda m: m.LPPool1d(2, 3, stride=2), (2, 3, 9)),
    (lambda m: m.LPPool2d(3, 2), (2, 3, 6, 5)),
    (lambda m: m.LPPool3d(1, (2, 2, 1)), (1, 2, 4, 4, 3)),
    (lambda m: m.ZeroPad1d((1, 2)), (2, 3, 4)),
    (lambda m: m.ZeroPad2d(2), (2, 3, 4, 5)),
    (lambda m: m.ZeroPad3d((1, 0, 2, 1, 0, 1)), (1, 2, 3, 4, 5)),
    (lambda m: m.ConstantPad1d(2, 3.5), (3, 4)),
    (lambda m: m.ConstantPad2d((1, -1, 2, 0), -1.0), (2, 3, 4, 5)),
    (lambda m: m.ConstantPad3d(1, 0.25), (2, 3, 4, 5)),
    (lambda m: m.ReflectionPad1d(3), (2, 3, 5)),
    (lambda m: m.ReflectionPad2d((1, 2, 3, 0)), (2, 3, 4, 5)),
    (lambda m: m.ReflectionPad3d(1), (1, 2, 3, 4, 5)),
    (lambda m: m.ReplicationPad1d((2, 4)), (3, 5)),
    (lambda m: m.ReplicationPad2d(2), (2, 3, 4, 5)),
    (lambda m: m.ReplicationPad3d((1, 2, 0, 1, 2, 0)), (1, 2, 3, 4, 5)),
    (lambda m: m.CircularPad1d(2), (2, 3, 5)),
    (lambda m: m.CircularPad2d((1, 2, 2, 1)), (2, 3, 4, 5)),
    (lambda m: m.CircularPad3d(1), (2, 3, 4, 5)),
    (lambda m: m.Upsample(scale_factor=2), (2, 3, 4, 5)),
    (lambda m: m.Upsample(size=(5, 7), mode="bilinear", align_corners=True), (2, 3, 4, 5)),
    (lambda m: m.Upsample(scale_factor=(1.5, 2.0), mode="bilinear"), (2, 3, 4, 5)),
    (lambda m: m.Upsample(scale_factor=2, mode="trilinear"), (1, 2, 3, 4, 3)),
    (lambda m: m.Upsample(scale_factor=3, mode="linear", align_corners=False), (2, 3, 4)),
    (lambda m: m.UpsamplingNearest2d(scale_factor=2), (2, 3, 4, 5)),
    (lambda m: m.UpsamplingBilinear2d(size=(6, 9)), (2, 3, 4, 5)),
    (lambda m: m.PixelShuffle(2), (2, 8, 3, 4)),
    (lambda m: m.PixelUnshuffle(2), (2, 2, 4, 6)),
    (lambda m: m.ChannelShuffle(2), (2, 4, 3, 3)),
    (lambda m: m.Unfold((2, 3), padding=1, stride=2), (2, 3, 5, 6)),
    (lambda m: m.Fold((4, 5), 2), (2, 8, 12)),
]


@pytest.mark.parametrize("k", range(len(MODULES)))
def test_module_matches_torch_both_modes(k):
    make, shape = MODULES[k]
    t_module, g_module = make(torch.nn), make(nn)
    assert repr(g_module) == repr(t_module)
    assert {n: tuple(v.shape) for n, v in g_module.state_dict().items()} == \
        {n: tuple(v.shape) for n, v in t_module.state_dict().items()}
    check_module(g_module, t_module, [randn(*shape)], atol=1e-4, rtol=1e-4)


def test_conv_transpose_output_size_picks_output_padding():
    t_up, g_up = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), \
        nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    copy_torch_params(t_up, g_up)
    x = randn(1, 3, 4, 4)
    for size in ([7, 7], [8, 8], [1, 2, 8, 7]):
        assert_close(g_up(to_gn(x), output_size=size), t_up(to_torch(x), output_size=size),
                     1e-5, 1e-5, what=str(size))
    for size in ([9, 9], [6, 8], [7]):
        with pytest.raises(ValueError):
            t_up(to_torch(x), output_size=size)
        with pytest.raises(ValueError):
            g_up(to_gn(x), output_size=size)
    compiled = graphnet.compile(lambda v: g_up(v, output_size=[8, 7]))
    assert_close(compiled(to_gn(x)), t_up(to_torch(x), output_size=[8, 7]), 1e-5, 1e-5)


def test_unet_style_encoder_decoder_with_output_size():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.down = nn.Conv2d(2, 4, 3, stride=2, padding=1)
            self.up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)

        def forward(self, x):
            return self.up(self.down(x).relu(), output_size=x.shape) + x

    class TBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.down = torch.nn.Conv2d(2, 4, 3, stride=2, padding=1)
            self.up = torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)

        def forward(self, x):
            return self.up(self.down(x).relu(), output_size=x.shape) + x

    check_module(Block(), TBlock(), [randn(2, 2, 7, 6)], atol=1e-4, rtol=1e-4)


def test_conv_transpose_init_and_parameter_layout_match_pytorch():
    graphnet.manual_seed(0)
    up = nn.ConvTranspose2d(4, 64, 3, groups=2)
    assert tuple(up.weight.shape) == (4, 32, 3, 3) and tuple(up.bias.shape) == (64,)
    bound = 1 / math.sqrt(32 * 9)   # fan_in = weight.shape[1] * kernel, as PyTorch computes it
    w, b = np_of(up.weight), np_of(up.bias)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.8 * bound
    assert up.transposed and up.output_padding == (0, 0)


def test_max_unpool_modules_invert_the_pool():
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    t_pool, t_unpool = torch.nn.MaxPool2d(2, return_indices=True), torch.nn.MaxUnpool2d(2)
    x = randn(2, 3, 5, 5)
    y, i = pool(to_gn(x))
    ty, ti = t_pool(to_torch(x))
    assert repr(unpool) == repr(t_unpool)
    assert_close(unpool(y, i, output_size=[5, 5]), t_unpool(ty, ti, output_size=[5, 5]))
    y, i = pool(to_gn(x[..., :4, :4]))
    ty, ti = t_pool(to_torch(x[..., :4, :4]))
    assert_close(unpool(y, i), t_unpool(ty, ti))


@pytest.mark.parametrize("make,error", [
    (lambda m: m.ConvTranspose2d(2, 2, 3, padding_mode="reflect"), ValueError),
    (lambda m: m.Conv2d(2, 2, 3, stride=2, padding="same", padding_mode="reflect"), ValueError),
])
def test_constructor_errors_match_pytorch(make, error):
    with pytest.raises(error):
        make(torch.nn)
    with pytest.raises(error):
        make(nn)


def test_circular_pad_module_checks_rank():
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        torch.nn.CircularPad2d(1)(to_torch(randn(5, 5)))
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        nn.CircularPad2d(1)(to_gn(randn(5, 5)))


def _stn(m, F):
    """A tiny spatial transformer: a localisation net predicts theta, then warp and classify."""
    class STN(m.Module):
        def __init__(self):
            super().__init__()
            self.loc = m.Sequential(m.Conv2d(1, 4, 3), m.ReLU(), m.AdaptiveAvgPool2d(2),
                                    m.Flatten(), m.Linear(16, 6))
            self.head = m.Sequential(m.Conv2d(1, 3, 3, padding=1), m.ReLU(), m.Flatten(),
                                     m.Linear(3 * 8 * 8, 3))

        def forward(self, x):
            theta = self.loc(x).view(-1, 2, 3)
            grid = F.affine_grid(theta, list(x.shape), align_corners=False)
            return self.head(F.grid_sample(x, grid, align_corners=False))
    return STN()


@pytest.mark.parametrize("compiled", [pytest.param(False, marks=pytest.mark.slow), True])
def test_a_spatial_transformer_trains_like_pytorch(compiled):
    t_net = _stn(torch.nn, torch.nn.functional)
    g_net = _stn(nn, graphnet.nn.functional)
    copy_torch_params(t_net, g_net)
    x, y = randn(6, 1, 8, 8), RNG.integers(0, 3, 6)
    t_opt = torch.optim.SGD(t_net.parameters(), lr=0.1)
    g_opt = graphnet.optim.SGD(g_net.parameters(), lr=0.1)

    def g_step(xb, yb):
        g_opt.zero_grad()
        loss = graphnet.nn.functional.cross_entropy(g_net(xb), yb)
        loss.backward()
        g_opt.step()
        return loss

    step = graphnet.compile(g_step) if compiled else g_step
    for _ in range(4):
        t_opt.zero_grad()
        t_loss = torch.nn.functional.cross_entropy(t_net(to_torch(x)), to_torch(y))
        t_loss.backward()
        t_opt.step()
        g_loss = step(to_gn(x), to_gn(y))
        assert_close(g_loss, t_loss, 1e-4, 1e-4)
    for name, p in g_net.named_parameters():
        assert_close(p, dict(t_net.named_parameters())[name], 1e-4, 1e-4, what=name)


@pytest.mark.parametrize("nd,shape", [(2, (2, 3, 9, 8)), (3, (1, 2, 6, 7, 8))])
def test_fractional_max_pool_module_with_fixed_samples(nd, shape):
    samples = RNG.random((shape[0], shape[1], nd)).astype(np.float32)
    cls = f"FractionalMaxPool{nd}d"
    t_pool = getattr(torch.nn, cls)(2, output_ratio=0.6, _random_samples=to_torch(samples))
    g_pool = getattr(nn, cls)(2, output_ratio=0.6, _random_samples=to_gn(samples))
    assert repr(g_pool) == repr(t_pool)
    assert g_pool.output_ratio == t_pool.output_ratio and g_pool.kernel_size == t_pool.kernel_size
    check_module(g_pool, t_pool, [randn(*shape)], copy=False)
    with pytest.raises(ValueError):
        getattr(torch.nn, cls)(2, output_ratio=1.5)
    with pytest.raises(ValueError):
        getattr(nn, cls)(2, output_ratio=1.5)
