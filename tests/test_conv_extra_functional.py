"""The convolution family's functional extras against torch, eagerly and compiled, values and
gradients: transposed and 3-d convs, 3-d / LP pools and unpooling, fold/unfold, pixel and
channel shuffles, padding modes, the upsample spellings, affine_grid and grid_sample."""

from __future__ import annotations

import numpy as np
import pytest
from conv_extra_check import check_both_modes
from parity import np_of, to_gn, to_torch, torch

import graphnet

RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def F(T):
    return T.nn.functional


TRANSPOSED = [   # (nd, input, weight, kwargs)
    (1, (2, 4, 5), (4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    (1, (4, 7), (4, 2, 2), dict(stride=3, dilation=2, groups=2)),           # unbatched
    (2, (2, 4, 3, 5), (4, 3, 3, 2), dict(stride=(2, 1), padding=(0, 1))),
    (2, (1, 6, 4, 4), (6, 2, 3, 3), dict(stride=2, padding=3, groups=3)),   # crops: p > k-1
    (2, (2, 2, 3, 3), (2, 5, 2, 3), dict(dilation=(2, 1), output_padding=(1, 0), stride=2)),
    (3, (1, 2, 3, 4, 3), (2, 3, 2, 3, 2), dict(stride=(1, 2, 2), padding=(0, 1, 0))),
]


@pytest.mark.parametrize("nd,x,w,kwargs", TRANSPOSED)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose(nd, x, w, kwargs, bias):
    out_channels = w[1] * kwargs.get("groups", 1)
    arrays = [randn(*x), randn(*w)] + ([randn(out_channels)] if bias else [])

    def call(T, *ts):
        return getattr(F(T), f"conv_transpose{nd}d")(*ts, **kwargs)
    check_both_modes(call, arrays, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("kwargs", [dict(stride=2, padding=1), dict(padding="same", dilation=2),
                                    dict(groups=2, padding=(1, 0, 1))])
def test_conv3d(kwargs):
    check_both_modes(lambda T, x, w, b: F(T).conv3d(x, w, b, **kwargs),
                     [randn(2, 4, 5, 6, 5), randn(6, 4 // kwargs.get("groups", 1), 3, 2, 3),
                      randn(6)], atol=1e-4, rtol=1e-4)


POOLS_3D = [
    lambda T, x: F(T).max_pool3d(x, 2),
    lambda T, x: F(T).max_pool3d(x, (3, 2, 2), stride=2, padding=1, ceil_mode=True),
    lambda T, x: F(T).max_pool3d(x, 2, stride=1, dilation=2, return_indices=True),
    lambda T, x: F(T).max_pool3d_with_indices(x, 3, 2, 1),
    lambda T, x: F(T).avg_pool3d(x, 2),
    lambda T, x: F(T).avg_pool3d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda T, x: F(T).avg_pool3d(x, (2, 3, 2), 1, divisor_override=5),
    lambda T, x: F(T).adaptive_avg_pool3d(x, (2, None, 3)),
    lambda T, x: F(T).adaptive_max_pool3d(x, 3, return_indices=True),
    lambda T, x: F(T).adaptive_max_pool3d_with_indices(x, (1, 2, 4)),
    lambda T, x: F(T).max_pool3d(x[0], 2),                                  # unbatched
]


@pytest.mark.parametrize("k", range(len(POOLS_3D)))
def test_pools_3d(k):
    check_both_modes(POOLS_3D[k], [randn(2, 3, 5, 6, 7)])


WITH_INDICES = [
    lambda T, x: F(T).max_pool1d_with_indices(x.flatten(2), 3, 2, 1),
    lambda T, x: F(T).max_pool2d_with_indices(x, 2, ceil_mode=True),
    lambda T, x: F(T).adaptive_max_pool1d_with_indices(x.flatten(2), 5),
    lambda T, x: F(T).adaptive_max_pool2d_with_indices(x, (3, 2)),
]


@pytest.mark.parametrize("k", range(len(WITH_INDICES)))
def test_with_indices_spellings(k):
    check_both_modes(WITH_INDICES[k], [randn(2, 3, 5, 7)])


LP = [
    lambda T, x: F(T).lp_pool1d(x.flatten(2), 2, 3),
    lambda T, x: F(T).lp_pool1d(x.flatten(2), 3, 4, stride=2, ceil_mode=True),
    lambda T, x: F(T).lp_pool2d(x, 2, 2),
    lambda T, x: F(T).lp_pool2d(x, 1.5, (2, 3), stride=1),
    lambda T, x: F(T).lp_pool2d(x, float("inf"), 2),
    lambda T, x: F(T).lp_pool3d(x.unsqueeze(2).expand(-1, -1, 3, -1, -1) * 1.0, 2, 2),
]


@pytest.mark.parametrize("k", range(len(LP)))
def test_lp_pools(k):
    x = np.abs(randn(2, 3, 6, 7)) + 0.1   # 1.5-th powers of negatives are NaN in both
    check_both_modes(LP[k], [x], atol=1e-4, rtol=1e-4)


def _unpool(nd, output_size=None):
    def call(T, x):
        pool = getattr(F(T), f"max_pool{nd}d")
        y, i = pool(x, 2, stride=2, return_indices=True)
        return getattr(F(T), f"max_unpool{nd}d")(y * 3, i, 2, output_size=output_size)
    return call


@pytest.mark.parametrize("nd,shape,output_size", [
    (1, (2, 3, 7), None), (1, (2, 3, 7), [7]), (2, (2, 3, 5, 4), None),
    (2, (3, 5, 5), (5, 5)), (3, (1, 2, 4, 5, 4), (1, 2, 5, 5, 4))])
def test_max_unpool(nd, shape, output_size):
    check_both_modes(_unpool(nd, output_size), [randn(*shape)])


@pytest.mark.parametrize("kwargs,shape", [
    (dict(kernel_size=2), (2, 3, 4, 5)), (dict(kernel_size=(2, 3), stride=2, padding=1),
                                          (2, 2, 5, 6)),
    (dict(kernel_size=3, dilation=2, padding=2), (3, 6, 6))])
def test_unfold_and_fold(kwargs, shape):
    def call(T, x):
        cols = F(T).unfold(x, **kwargs)
        return cols, F(T).fold(cols * 2, shape[-2:], **kwargs)
    check_both_modes(call, [randn(*shape)])


@pytest.mark.parametrize("shape,r", [((2, 8, 3, 3), 2), ((2, 1, 9, 2, 4), 1), ((2, 3, 18, 2, 3), 3)])
def test_pixel_shuffle_roundtrip(shape, r):
    def call(T, x):
        y = F(T).pixel_shuffle(x, r)
        return y, F(T).pixel_unshuffle(y * 2, r), F(T).pixel_unshuffle(x.transpose(-1, -2), 1)
    check_both_modes(call, [randn(*shape)])


def test_channel_shuffle():
    check_both_modes(lambda T, x: (F(T).channel_shuffle(x, 3), T.nn.ChannelShuffle(2)(x)),
                     [randn(2, 6, 3, 2)])


PADS = [((1, 2), "reflect", (2, 3, 5)), ((1, 0, 2, 3), "replicate", (2, 3, 4, 5)),
        ((1, 2, 0, 1, 2, 1), "circular", (1, 2, 3, 4, 5)), ((-1, 2), "reflect", (3, 5)),
        ((2, -3), "circular", (1, 2, 5)), ((1, 1, -1, 2), "replicate", (2, 4, 5)),
        ((4, 4), "circular", (2, 2, 4))]


@pytest.mark.parametrize("pad,mode,shape", PADS)
def test_pad_modes(pad, mode, shape):
    check_both_modes(lambda T, x: F(T).pad(x, pad, mode=mode), [randn(*shape)])


@pytest.mark.parametrize("pad,mode,shape,error", [
    ((1, 1), "reflect", (5,), NotImplementedError), ((1, 1), "reflect", (1, 2, 3, 5),
                                                     NotImplementedError),
    ((5, 0), "reflect", (2, 3, 5), RuntimeError), ((6, 0), "circular", (2, 3, 5), RuntimeError),
    ((1, 1), "edge", (2, 3, 5), NotImplementedError), ((1, 1), "replicate", (1, 0, 3),
                                                       RuntimeError)])
def test_pad_errors_are_pytorchs(pad, mode, shape, error):
    x = randn(*shape)
    with pytest.raises(error):
        torch.nn.functional.pad(to_torch(x), pad, mode=mode)
    with pytest.raises(error):
        graphnet.nn.functional.pad(to_gn(x), pad, mode=mode)
    with pytest.raises(RuntimeError, match="doesn't take in value"):
        graphnet.nn.functional.pad(to_gn(randn(2, 3, 5)), (1, 1), mode="reflect", value=2.0)


def test_upsample_spellings_warn_and_resize():
    with pytest.warns(UserWarning, match="upsample_bilinear` is deprecated"):
        check_both_modes(lambda T, x: (F(T).upsample_bilinear(x, scale_factor=2),
                                       F(T).upsample_nearest(x, size=(3, 7)),
                                       F(T).upsample(x, scale_factor=(1.5, 2), mode="bilinear",
                                                     align_corners=False)),
                         [randn(2, 3, 4, 5)])


THETA_2D = np.array([[[0.9, -0.2, 0.1], [0.3, 1.1, -0.05]], [[1.3, 0.4, 0.2], [-0.3, 0.8, 0.6]]],
                    np.float32)
THETA_3D = np.array([[[0.9, -0.2, 0.1, 0.2], [0.3, 1.1, -0.05, 0.0], [0.1, 0.0, 1.2, -0.3]]],
                    np.float32)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("theta,size", [(THETA_2D, [2, 3, 5, 4]), (THETA_2D, [2, 1, 1, 3]),
                                        (THETA_3D, [1, 2, 3, 4, 2])])
def test_affine_grid(theta, size, align_corners):
    check_both_modes(lambda T, t: F(T).affine_grid(t, size, align_corners=align_corners),
                     [theta])


# NOTE: bicubic reads 16 taps, each gathered and differentiated: its padding modes beyond
# one are slow to compile eagerly, so they run with -m slow.
_SLOW = pytest.mark.slow
GRID_2D = [(mode, padding, align) for mode in ("bilinear", "nearest")
           for padding in ("zeros", "border", "reflection") for align in (False, True)] + [
    ("bicubic", "zeros", True), pytest.param("bicubic", "border", False, marks=_SLOW),
    pytest.param("bicubic", "reflection", False, marks=_SLOW),
    pytest.param("bicubic", "reflection", True, marks=_SLOW)]


@pytest.mark.parametrize("mode,padding_mode,align_corners", GRID_2D)
def test_grid_sample_2d(mode, padding_mode, align_corners):
    grid = RNG.uniform(-1.6, 1.6, (2, 4, 5, 2)).astype(np.float32)   # some points outside
    check_both_modes(lambda T, x, g: F(T).grid_sample(x, g, mode, padding_mode, align_corners),
                     [randn(2, 3, 6, 7), grid], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_3d(mode, padding_mode):
    grid = RNG.uniform(-1.4, 1.4, (1, 2, 3, 4, 3)).astype(np.float32)
    check_both_modes(lambda T, x, g: F(T).grid_sample(x, g, mode, padding_mode, False),
                     [randn(1, 2, 4, 5, 3), grid], atol=1e-4, rtol=1e-4)


def test_spatial_transformer_warp_of_an_affine_grid():
    def call(T, x, theta):
        grid = F(T).affine_grid(theta, [2, 3, 6, 5], align_corners=False)
        return F(T).grid_sample(x, grid, padding_mode="border", align_corners=False)
    check_both_modes(call, [randn(2, 3, 8, 7), THETA_2D], atol=1e-4, rtol=1e-4)


ERRORS = [   # (call, PyTorch's exception type)
    (lambda T: F(T).conv_transpose2d(T.ones(1, 2, 3, 3), T.ones(2, 2, 3, 3), stride=2,
                                     output_padding=2), RuntimeError),
    (lambda T: F(T).unfold(T.ones(2, 3, 4, 5, 6), 2), RuntimeError),
    (lambda T: F(T).unfold(T.ones(2, 3, 4, 4), 5), RuntimeError),
    (lambda T: F(T).fold(T.ones(2, 12, 8), (4, 4), 2), RuntimeError),
    (lambda T: F(T).fold(T.ones(2, 13, 9), (4, 4), 2), RuntimeError),
    (lambda T: F(T).pixel_shuffle(T.ones(5, 3, 3), 2), RuntimeError),
    (lambda T: F(T).pixel_shuffle(T.ones(3, 3), 2), RuntimeError),
    (lambda T: F(T).pixel_unshuffle(T.ones(2, 3, 3), 2), RuntimeError),
    (lambda T: F(T).channel_shuffle(T.ones(2, 3, 3), 2), RuntimeError),
    (lambda T: F(T).grid_sample(T.ones(1, 1, 3, 3), T.zeros(1, 2, 2, 2), mode="area"),
     ValueError),
    (lambda T: F(T).grid_sample(T.ones(1, 1, 3, 3, 3), T.zeros(1, 2, 2, 2, 3), mode="bicubic"),
     RuntimeError),
    (lambda T: F(T).affine_grid(T.ones(1, 2, 3), [1, 1, 3, 3, 3]), ValueError),
    (lambda T: F(T).affine_grid(T.ones(1, 2, 3), [1, 3, 3]), NotImplementedError),
    (lambda T: F(T).max_unpool2d(T.ones(1, 1, 2, 2), T.full((1, 1, 2, 2), 16).long(), 2),
     RuntimeError),
    (lambda T: F(T).max_unpool2d(T.ones(1, 1, 2, 2), T.zeros(1, 1, 2, 2).long(), 2,
                                 output_size=(7, 7)), ValueError),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_bad_arguments_raise_pytorchs_exception(k):
    call, error = ERRORS[k]
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error):
        call(graphnet)


def test_a_bad_unpool_index_computed_inside_a_compiled_function_raises():
    def f(x, i):
        return graphnet.nn.functional.max_unpool2d(x, i + 10, 2)
    x, i = to_gn(randn(1, 1, 2, 2)), to_gn(np.array([[[[0, 3], [8, 11]]]], np.int64))
    with pytest.raises(RuntimeError, match="Found an invalid max index: 18"):
        graphnet.compile(f)(x, i)


@pytest.mark.parametrize("kwargs", [dict(scale_factor=2), dict(size=(3, 11), align_corners=True),
                                    dict(size=(7, 4)), dict(scale_factor=(1.7, 0.6))])
def test_interpolate_bicubic(kwargs):
    check_both_modes(lambda T, x: F(T).interpolate(x, mode="bicubic", **kwargs),
                     [randn(2, 3, 5, 6)], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("nd,shape,kwargs", [
    (2, (2, 3, 9, 11), dict(kernel_size=(2, 3), output_size=(5, 4))),
    (2, (3, 8, 8), dict(kernel_size=2, output_ratio=(0.5, 0.7))),
    (3, (1, 2, 7, 9, 8), dict(kernel_size=(2, 3, 2), output_size=(4, 5, 3)))])
def test_fractional_max_pool_with_pytorchs_samples(nd, shape, kwargs):
    batch = shape[0] if len(shape) == nd + 2 else 1
    samples = RNG.random((batch, shape[-nd - 1], nd)).astype(np.float32)
    fn = f"fractional_max_pool{nd}d"
    check_both_modes(lambda T, x, u: getattr(F(T), fn)(x, return_indices=True,
                                                       _random_samples=u, **kwargs),
                     [randn(*shape), samples], no_grad=(1,))


def test_fractional_max_pool_draws_its_own_windows_in_both_modes():
    x = to_gn(randn(4, 3, 10, 10))

    def pool(v):
        return graphnet.nn.functional.fractional_max_pool2d(v, 3, output_ratio=(0.5, 0.5),
                                                            return_indices=True)
    for fn in (pool, graphnet.compile(pool)):
        values, indices = fn(x)
        assert tuple(values.shape) == (4, 3, 5, 5) and indices.dtype == graphnet.int64
        picked = np.take_along_axis(np_of(x).reshape(4, 3, -1), np_of(indices).reshape(4, 3, -1),
                                    axis=2)
        np.testing.assert_array_equal(picked.reshape(4, 3, 5, 5), np_of(values))
    with pytest.raises(ValueError, match="output_size or an output_ratio"):
        graphnet.nn.functional.fractional_max_pool2d(x, 3)
    with pytest.raises(RuntimeError, match="pool height 3 too large relative to input height"):
        graphnet.nn.functional.fractional_max_pool2d(x, 3, output_size=9)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_unpool_gradient_reaches_every_input_sharing_an_index(dims, compiled):
    # overlapping windows (stride < kernel) pick the same maximum twice: torch gives each of
    # them the output gradient at that place
    shape = (1, 2) + (6,) * dims
    data = np.random.RandomState(dims).randn(*shape).astype(np.float32)
    weights = np.arange(float(np.prod(shape)), dtype=np.float32).reshape(shape)

    def run(L, x, w):
        F = L.nn.functional
        pool, unpool = getattr(F, f"max_pool{dims}d"), getattr(F, f"max_unpool{dims}d")
        p, i = pool(x, 3, stride=2, padding=1, return_indices=True)
        (unpool(p, i, 3, stride=2, padding=1, output_size=x.shape[2:]) * w).sum().backward()

    tx = torch.tensor(data, requires_grad=True)
    run(torch, tx, torch.tensor(weights))
    gx = graphnet.tensor(data, requires_grad=True)
    fn = (lambda x, w: run(graphnet, x, w))
    (graphnet.compile(fn) if compiled else fn)(gx, graphnet.tensor(weights))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
