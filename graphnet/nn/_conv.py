"""Convolution, pooling and channel-dropout modules with PyTorch's constructors, parameter
names, default init and reprs."""

from __future__ import annotations

from .._errors import shape_error
from . import functional_conv as F
from .functional_norm import pad
from . import init
from ._dtype_refusals import refuse
from ._activation import _DropoutNd
from ._module import Module

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


def _expect(channels, nd: int) -> str:
    """'[N, 3, H, W] or [3, H, W]': the input shapes a layer accepts."""
    return f"[N, {channels}, {_SPATIAL[nd]}] or [{channels}, {_SPATIAL[nd]}]"


def _check_input(module: Module, input, nd: int, channels=None) -> None:
    ok = input.dim() in (nd + 1, nd + 2)
    if ok and channels is not None:
        ok = input.shape[input.dim() - nd - 1] == channels
    if not ok:
        expected = _expect("C" if channels is None else channels, nd)
        raise shape_error(f"expected input {expected}, got {list(input.shape)}", module=module)


def _pads_for_mode(padding, kernel_size, dilation) -> list:
    """F.pad's list (last dim first) for a non-'zeros' padding_mode, as PyTorch builds it:
    'same' splits each axis' total d*(k-1) with the extra element after, 'valid' is none."""
    if padding == "valid":
        return [0, 0] * len(kernel_size)
    if padding == "same":
        pads = []
        for d, k in reversed(list(zip(dilation, kernel_size, strict=True))):
            total = d * (k - 1)
            pads += [total // 2, total - total // 2]
        return pads
    return [p for p in reversed(padding) for _ in range(2)]


class _ConvNd(Module):
    """Shared by Conv1d/2d/3d: weight [out, in/groups, *kernel_size], optional bias [out];
    nn/_conv_extra.py's transposed convs reuse it with weight [in, out/groups, *kernel_size]."""

    _nd = 0

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__()
        nd = self._nd
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"in_channels ({in_channels}) and out_channels ({out_channels}) "
                             f"must be divisible by groups ({groups})")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"padding_mode must be one of {{'zeros', 'reflect', 'replicate', "
                             f"'circular'}}, but got padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = F._tuple(kernel_size, nd, "kernel_size")
        self.stride = F._tuple(stride, nd, "stride")
        self.dilation = F._tuple(dilation, nd, "dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in self.stride):   # the module: ValueError
                raise ValueError("padding='same' is not supported for strided convolutions")
            F._conv_padding(padding, self.kernel_size, self.stride, self.dilation, nd)  # checks
            self.padding = padding
        else:
            self.padding = F._tuple(padding, nd, "padding")
        self.transposed, self.output_padding = False, (0,) * nd
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = _pads_for_mode(
            self.padding, self.kernel_size, self.dilation)
        init.register_weight_and_bias(
            self, self._weight_shape(in_channels, out_channels, groups), bias, dtype)

    def _weight_shape(self, in_channels: int, out_channels: int, groups: int) -> tuple:
        return (out_channels, in_channels // groups, *self.kernel_size)

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)

    def _convolve(self, input, weight, bias):
        """Convolve `input` with this layer's settings and the given weight and bias: PyTorch's
        `_conv_forward` on Conv1d/2d/3d, the hook subclasses call to convolve with a weight
        they build each forward (rotated, standardised, low-rank-updated)."""
        # NOTE: the channels of the weight in use (weight.shape[1] * groups, PyTorch's
        # check), not in_channels: a weight replaced by one with fewer input channels is
        # what the layer convolves with
        channels = weight.shape[1] * self.groups if weight.dim() > 1 else self.in_channels
        _check_input(self, input, self._nd, channels)
        padding = self.padding
        if self.padding_mode != "zeros":   # PyTorch's order: pad by the mode, then conv
            input = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            padding = 0
        return F._conv(f"conv{self._nd}d", self._nd, input, weight, bias,
                       self.stride, padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        nd = self._nd
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * len(self.padding):  # 'same'/'valid' always print
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over [N, C_in, L]."""

    _nd = 1
    _conv_forward = _ConvNd._convolve


class Conv2d(_ConvNd):
    """2-D convolution over [N, C_in, H, W].

    >>> conv = nn.Conv2d(1, 6, 5)      # Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))
    >>> conv(graphnet.randn(8, 1, 28, 28)).shape
    graphnet.Size([8, 6, 24, 24])
    """

    _nd = 2
    _conv_forward = _ConvNd._convolve


class _MaxPoolNd(Module):
    _nd = 0

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        _check_input(self, input, self._nd)
        input = refuse(f"max_pool{self._nd}d", input)
        return F._max_pool(f"max_pool{self._nd}d", self._nd, input, self.kernel_size,
                           self.stride, self.padding, self.dilation, self.ceil_mode,
                           self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    _nd = 1


class MaxPool2d(_MaxPoolNd):
    """Max over windows of [N, C, H, W]; `MaxPool2d(2)` halves H and W."""

    _nd = 2


class AvgPool1d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__()
        # PyTorch stores AvgPool1d's sizes as 1-tuples (and prints them that way).
        self.kernel_size = F._tuple(kernel_size, 1, "kernel_size")
        self.stride = F._tuple(stride if stride is not None else kernel_size, 1, "stride")
        self.padding = F._tuple(padding, 1, "padding")
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        _check_input(self, input, 1)
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        _check_input(self, input, 2)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePoolNd(Module):
    _nd = 0

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    _nd = 1

    def forward(self, input):
        _check_input(self, input, 1)
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """Average pool to a fixed output size; `AdaptiveAvgPool2d(1)` is global average pooling."""

    _nd = 2

    def forward(self, input):
        _check_input(self, input, 2)
        return F.adaptive_avg_pool2d(input, self.output_size)


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    def __init__(self, output_size, return_indices: bool = False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        _check_input(self, input, self._nd)
        return F._adaptive_max(f"adaptive_max_pool{self._nd}d", self._nd, input,
                               self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    _nd = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    _nd = 2


class Dropout1d(_DropoutNd):
    """Zeroes whole channels of [N, C, L] in training mode."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zeroes whole channels (feature maps) of [N, C, H, W] in training mode."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)
