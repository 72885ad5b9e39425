"""Convolution, pooling, resampling, padding and channel dropout against PyTorch 2.13:
values and gradients in dynamic and static mode, reprs, init, and error messages."""

import math
import warnings

import numpy as np
import pytest
from parity import assert_close, check_module, np_of, to_gn, to_torch, torch

import graphnet
from graphnet import nn
from graphnet._x64 import x64_scoped

TF = torch.nn.functional
F = nn.functional
rng = np.random.default_rng(0)


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def build(name, *args, **kwargs):
    """The same layer in both libraries: (graphnet layer, torch layer)."""
    return getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


class Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


class TorchFn(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


def check_function(name, inputs, **kwargs):
    """Parity of `F.<name>(*inputs, **kwargs)` (dynamic and static, values and grads)."""
    check_module(Fn(lambda *xs: getattr(F, name)(*xs, **kwargs)),
                 TorchFn(lambda *xs: getattr(TF, name)(*xs, **kwargs)), inputs)


X2, X1 = arr(2, 4, 6, 6), arr(2, 4, 7)  # shared shapes: fewer kernels to compile
ZEROS = np.zeros((2, 4, 6, 6), np.float32)  # every window ties, as after a ReLU

# NOTE: every case passes at atol=rtol=1e-5 in float32, convolutions included.
LAYERS = {
    "conv2d": (("Conv2d", 4, 6, 3), {}, X2),
    "conv2d_stride_padding_dilation": (("Conv2d", 4, 6, 3),
                                       dict(stride=2, padding=(1, 2), dilation=(2, 1)), X2),
    "conv2d_same_even_kernel_groups_nobias": (
        ("Conv2d", 4, 6, (4, 2)), dict(padding="same", dilation=2, groups=2, bias=False), X2),
    "conv1d_valid_stride_unbatched": (("Conv1d", 4, 6, 3), dict(stride=2, padding="valid"),
                                      X1[0]),
    "maxpool2d": (("MaxPool2d", 2), {}, X2),
    "maxpool2d_padding_dilation_ceil": (("MaxPool2d", 3, 2, 1), dict(dilation=2,
                                                                     ceil_mode=True), X2),
    "maxpool2d_ties": (("MaxPool2d", 3, 1), {}, ZEROS),
    "maxpool1d_ceil": (("MaxPool1d", 3, 2, 1), dict(ceil_mode=True), X1),
    "avgpool2d_ceil_exclude_pad": (("AvgPool2d", 3, 2, 1),
                                   dict(ceil_mode=True, count_include_pad=False), X2),
    "avgpool2d_divisor_override_unbatched": (("AvgPool2d", (2, 3), 2, (1, 1)),
                                             dict(divisor_override=5), X2[0]),
    "avgpool1d_ceil_include_pad": (("AvgPool1d", 3, 2, 1), dict(ceil_mode=True), X1),
    "adaptive_avgpool2d_overlapping_none": (("AdaptiveAvgPool2d", (4, None)), {}, X2),
    "adaptive_avgpool1d": (("AdaptiveAvgPool1d", 3), {}, X1),
    "adaptive_maxpool2d": (("AdaptiveMaxPool2d", (4, 5)), {}, X2),
    "adaptive_maxpool2d_ties": (("AdaptiveMaxPool2d", 4), {}, ZEROS),
    "adaptive_maxpool1d": (("AdaptiveMaxPool1d", 4), {}, X1),
}


@pytest.mark.parametrize("case", list(LAYERS))
def test_layer_parity(case):
    args, kwargs, x = LAYERS[case]
    with warnings.catch_warnings():  # torch warns about 'same' with even kernels
        warnings.simplefilter("ignore")
        check_module(*build(*args, **kwargs), [x])


def test_functional_forms():
    x, w, b = X2, arr(6, 2, 3, 3), arr(6)
    assert_close(F.conv2d(to_gn(x), to_gn(w), to_gn(b), (2, 1), 1, 1, 2),
                 TF.conv2d(to_torch(x), to_torch(w), to_torch(b), (2, 1), 1, 1, 2))
    for kwargs in (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                   dict(kernel_size=2, dilation=2)):
        t_values, t_indices = TF.max_pool2d(to_torch(x), return_indices=True, **kwargs)
        values, indices = F.max_pool2d(to_gn(x), return_indices=True, **kwargs)
        assert_close(values, t_values)
        assert indices.dtype == graphnet.int64
        np.testing.assert_array_equal(np_of(indices), t_indices.numpy())
    t_values, t_indices = TF.adaptive_max_pool2d(to_torch(x), (4, 5), return_indices=True)
    values, indices = F.adaptive_max_pool2d(to_gn(x), (4, 5), return_indices=True)
    assert_close(values, t_values)
    np.testing.assert_array_equal(np_of(indices), t_indices.numpy())


def _all_at_once(fn, x):
    """Compare every config of `fn(T, x) -> list` in one compiled (static) graphnet program."""
    ours = graphnet.compile(lambda t: fn(graphnet, t))(to_gn(x))
    theirs = fn(torch, to_torch(x))
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert_close(a, b, what=f"config {i}")


INTERPOLATE = [dict(size=(5, 7), mode=m, align_corners=a) for m, a in
               [("nearest", None), ("nearest-exact", None), ("bilinear", False),
                ("bilinear", True), ("area", None)]]
INTERPOLATE += [dict(scale_factor=s, mode=m, align_corners=a) for s in (1.5, 0.7, (2.3, 0.5))
                for m, a in [("nearest", None), ("bilinear", False), ("bilinear", True)]]


def test_interpolate_all_modes_static():
    _all_at_once(lambda T, x: [T.nn.functional.interpolate(x, **kw) for kw in INTERPOLATE]
                 + [T.nn.functional.interpolate(x[0], scale_factor=1.7, mode="linear")], X2)


@pytest.mark.parametrize("kwargs", [dict(size=(7, 4), mode="nearest"),
                                    dict(scale_factor=1.5, mode="bilinear", align_corners=True),
                                    dict(size=(3, 8), mode="bilinear")])
def test_interpolate_parity(kwargs):
    check_function("interpolate", [X2], **kwargs)


def test_pad_all_modes_static():
    def pads(T, x):
        out = [T.nn.functional.pad(x, (1, 2, 2, 1), mode=m)
               for m in ("constant", "reflect", "replicate", "circular")]
        out += [T.nn.functional.pad(x[0], (2, 3), mode=m)
                for m in ("reflect", "replicate", "circular")]
        return out + [T.nn.functional.pad(x, (1, -2, 2, 0, 1, 1), value=1.5)]

    _all_at_once(pads, X2)
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D"):
        F.pad(to_gn(X2), (6, 0), mode="reflect")


def test_pad_parity():
    check_function("pad", [X2], pad=(1, 2, 2, 1), mode="reflect")


def test_normalize_parity_including_zero_rows():
    x = X2.copy()
    x[0, :, 1] = 0.0  # PyTorch gives this all-zero slice a zero gradient, not NaN
    check_function("normalize", [x])
    for p, dim in ((1.0, -1), (3.0, 0)):
        assert_close(F.normalize(to_gn(x), p=p, dim=dim), TF.normalize(to_torch(x), p=p, dim=dim))


def test_one_hot():
    t = np.array([[0, 2], [1, 3]])
    out = F.one_hot(to_gn(t), 5)
    assert out.dtype == graphnet.int64
    np.testing.assert_array_equal(np_of(out), TF.one_hot(to_torch(t), 5).numpy())
    np.testing.assert_array_equal(np_of(F.one_hot(to_gn(t))), TF.one_hot(to_torch(t)).numpy())
    for bad, message in ((t, "smaller than num_classes"), (-t, "must be non-negative")):
        with pytest.raises(RuntimeError, match=message):       # PyTorch's error, both modes
            TF.one_hot(to_torch(bad), 3)
        with pytest.raises(RuntimeError, match=message):
            F.one_hot(to_gn(bad), 3)
        with pytest.raises(RuntimeError, match=message):
            graphnet.compile(lambda x: F.one_hot(x, 3))(to_gn(bad))


REPRS = [(args, kwargs) for args, kwargs, _ in LAYERS.values()] + [
    (("MaxPool1d", 3, 2, 1, 1, False, True), {}),
    (("AvgPool2d", 2), {}), (("AvgPool1d", 3), {}), (("AvgPool2d", 3, 2, 1, True, False, 2), {}),
    (("AdaptiveAvgPool2d", 1), {}), (("AdaptiveMaxPool2d", (2, None)), {}),
    (("Dropout2d",), {}), (("Dropout2d", 0.2, True), {}), (("Dropout1d", 0.3), {})]


def test_reprs_and_state_dict_keys_equal_torch():
    for args, kwargs in REPRS:
        ours, theirs = build(*args, **kwargs)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(nn.Conv2d(4, 6, 3)) == "Conv2d(4, 6, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.MaxPool2d(2)) == \
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"


def test_conv_default_init_bounds():
    graphnet.manual_seed(0)
    conv = nn.Conv2d(4, 6, 3)
    bound = 1 / math.sqrt(4 * 9)  # kaiming_uniform_(a=sqrt(5)) and the bias both give this
    w, b = np_of(conv.weight), np_of(conv.bias)
    assert w.shape == (6, 4, 3, 3) and b.shape == (6,)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.15 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0


def test_constructor_errors():
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(1, 2, 3, padding_mode="mirror")   # reflect etc.: tests/test_conv_extra_modules.py
    with pytest.raises(ValueError, match="not supported for strided"):
        nn.Conv2d(1, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(4, 6, 3), nn.ReLU(), nn.MaxPool2d(2))

    def forward(self, x):
        return self.features(x)


def test_shape_errors_name_module_path_and_shapes():
    net = Net()
    with pytest.raises(graphnet.ShapeError) as err:
        net(to_gn(arr(2, 3, 6, 6)))
    assert str(err.value) == ("features.0 (Conv2d): expected input [N, 4, H, W] or "
                              "[4, H, W], got [2, 3, 6, 6]")
    # a pre-hook swaps in a 2-D input, so the pool fails inside its parent and names its path
    net.features[2].register_forward_pre_hook(lambda module, args: (to_gn(arr(6, 4)),))
    with pytest.raises(graphnet.ShapeError) as err:
        net(to_gn(X2))
    assert str(err.value) == ("features.2 (MaxPool2d): expected input [N, C, H, W] or "
                              "[C, H, W], got [6, 4]")
    with pytest.raises(graphnet.ShapeError, match=r"input of shape \[1, 1, 1, 1\] is too small"):
        nn.MaxPool2d(2)(to_gn(arr(1, 1, 1, 1)))
    with pytest.raises(graphnet.ShapeError, match=r"^Conv1d: expected input \[N, 4, L\] or "
                                                  r"\[4, L\], got \[2, 4, 6, 6\]$"):
        nn.Conv1d(4, 6, 3)(to_gn(X2))


def test_dropout2d_zeroes_whole_channels_dynamic_and_static():
    x = graphnet.ones(8, 64, 2, 2)
    layer = nn.Dropout2d(0.5)
    compiled = graphnet.compile(lambda t: layer(t))
    for run in (layer, compiled):
        out = np_of(run(x)).reshape(8 * 64, 4)
        channel = out[:, 0]
        assert set(np.unique(out)) <= {0.0, 2.0}
        assert (out == channel[:, None]).all()  # a channel is dropped or kept as a whole
        assert 0.35 < (channel == 0).mean() < 0.65
    assert not np.array_equal(np_of(compiled(x)), np_of(compiled(x)))  # fresh masks per call
    graphnet.manual_seed(3)
    first = np_of(layer(x))
    graphnet.manual_seed(3)
    np.testing.assert_array_equal(np_of(layer(x)), first)
    layer.eval()
    assert layer(x) is x
    with pytest.warns(UserWarning, match="3D input"):
        F.dropout2d(graphnet.ones(2, 3, 4))
    assert np_of(F.dropout1d(graphnet.ones(4, 5), 0.5)).std(axis=1).max() == 0


@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, shape, dtype", [
    ((2, 2), (2, 2), (0, 0), False, (2, 3, 6, 6), np.float32),
    ((3, 3), (2, 2), (1, 1), True, (2, 3, 7, 6), np.float32),
    ((3,), (2,), (1,), True, (2, 3, 8), np.float32),
    ((2, 2, 2), (1, 2, 2), (0, 1, 0), False, (1, 2, 4, 5, 4), np.float32),
    ((3, 3), (2, 2), (1, 1), True, (1, 2, 5, 5), np.int32),
])
@x64_scoped   # the raw kernels, as graphnet runs them (graphnet/_x64.py)
def test_max_pool_reduce_window_form_equals_the_window_stack(kernel, stride, padding, ceil_mode,
                                                              shape, dtype):
    # The op evaluates with lax.reduce_window and differentiates through the window stack
    # (graphnet/_ops/conv.py); both must give the same values and PyTorch's gradient rule.
    import jax

    from graphnet._ops import conv as conv_ops

    x = (rng.standard_normal(shape) * 4).round().astype(dtype)   # many ties
    ones = (1,) * len(kernel)
    fast = conv_ops.max_pool(x, kernel_size=kernel, stride=stride, padding=padding,
                             dilation=ones, ceil_mode=ceil_mode)
    stacked = conv_ops.max_pool_window_stack(x, kernel, stride, padding, ones, ceil_mode)[0]
    np.testing.assert_array_equal(np.asarray(fast), np.asarray(stacked))
    if dtype == np.float32:
        def loss(form):
            return lambda v: (form(v) * np.arange(stacked.size).reshape(stacked.shape)).sum()

        grad_fast = jax.grad(loss(lambda v: conv_ops.max_pool(
            v, kernel_size=kernel, stride=stride, padding=padding, dilation=ones,
            ceil_mode=ceil_mode)))(x)
        grad_stacked = jax.grad(loss(lambda v: conv_ops.max_pool_window_stack(
            v, kernel, stride, padding, ones, ceil_mode)[0]))(x)
        np.testing.assert_array_equal(np.asarray(grad_fast), np.asarray(grad_stacked))
