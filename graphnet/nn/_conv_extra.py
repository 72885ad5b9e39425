"""Conv3d, the transposed convolutions and the pools beyond nn/_conv.py (3-d, power-average,
unpooling), with PyTorch's constructors, parameter names, default init and reprs. Padding,
upsampling and rearranging layers are in nn/_resample.py, re-exported here."""

from __future__ import annotations

from .. import _factories as fac
from .._tensor import Parameter
from . import functional_conv as F
from . import functional_conv_extra as FX
from . import functional_fractional as FF
from . import init
from ._conv import _AdaptiveMaxPoolNd, _AdaptivePoolNd, _check_input, _ConvNd, _MaxPoolNd
from ._module import Module
from ._resample import *  # noqa: F401,F403
from ._resample import __all__ as _resample_names

__all__ = [
    "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d",
    "AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "LPPool1d", "LPPool2d", "LPPool3d",
    "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "FractionalMaxPool2d", "FractionalMaxPool3d",
    *_resample_names,
]


class Conv3d(_ConvNd):
    """3-d convolution over [N, C_in, D, H, W] (video, volumes)."""

    _nd = 3
    _conv_forward = _ConvNd._convolve


class _ConvTransposeNd(_ConvNd):
    """weight [in, out/groups, *kernel_size] and bias [out], as PyTorch lays them out."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f'{type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding={padding!r} is not supported; "
                             f"give the padding as ints")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        self.transposed = True
        self.output_padding = F._tuple(output_padding, self._nd, "output_padding")
        if bias:   # _ConvNd sized the bias by the weight's first dim, here in_channels
            self.bias = Parameter(fac.empty(out_channels, dtype=dtype))
            init.default_layer_init_(self.weight, self.bias)

    def _weight_shape(self, in_channels: int, out_channels: int, groups: int) -> tuple:
        return (in_channels, out_channels // groups, *self.kernel_size)

    def _output_padding(self, input, output_size, stride, padding, kernel_size,
                        num_spatial_dims: int, dilation=None):
        """The output_padding that makes the output `output_size` (PyTorch's rule and
        signature: it must lie within one stride above the smallest output), or the module's
        own when `output_size` is None."""
        nd = num_spatial_dims
        if output_size is None:
            return self.output_padding
        output_size = list(output_size)
        lead = 2 if input.dim() == nd + 2 else 1
        if len(output_size) == lead + nd:
            output_size = output_size[lead:]
        if len(output_size) != nd:
            raise ValueError(f"ConvTranspose{nd}D: for {input.dim()}D input, output_size must "
                             f"have {nd} or {lead + nd} elements (got {len(output_size)})")
        spatial = input.shape[lead:lead + nd]
        dilation = (1,) * nd if dilation is None else dilation
        low = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
               zip(spatial, stride, padding, dilation, kernel_size, strict=True)]
        high = [m + s - 1 for m, s in zip(low, stride, strict=True)]
        for size, lo, hi in zip(output_size, low, high, strict=True):
            if not lo <= size <= hi:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {low} to {high} (for an input of "
                                 f"{tuple(spatial)})")
        return [size - lo for size, lo in zip(output_size, low, strict=True)]

    def forward(self, input, output_size=None):
        nd = self._nd
        weight = self.weight   # its first dim, as _ConvNd reads the weight in use
        _check_input(self, input, nd, weight.shape[0] if weight.dim() else self.in_channels)
        output_padding = self._output_padding(input, output_size, self.stride, self.padding,
                                              self.kernel_size, nd, self.dilation)
        return FX._conv_transpose(f"conv_transpose{nd}d", nd, input, weight, self.bias,
                                  self.stride, self.padding, output_padding, self.groups,
                                  self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    _nd = 1


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed ("fractionally strided") 2-d convolution, the usual learned upsampler.

    >>> up = nn.ConvTranspose2d(16, 8, kernel_size=2, stride=2)
    >>> up(graphnet.randn(1, 16, 7, 7)).shape
    graphnet.Size([1, 8, 14, 14])
    """

    _nd = 2


class ConvTranspose3d(_ConvTransposeNd):
    _nd = 3


# ---- pools -------------------------------------------------------------------------------
class MaxPool3d(_MaxPoolNd):
    _nd = 3


class AvgPool3d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        _check_input(self, input, 3)
        return FX.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool3d(_AdaptivePoolNd):
    _nd = 3

    def forward(self, input):
        _check_input(self, input, 3)
        return FX.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    _nd = 3


class _LPPoolNd(Module):
    _nd = 0

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input):
        _check_input(self, input, self._nd)
        if not (input.dtype.is_floating_point or input.dtype.is_complex):
            input = input.float()   # torch's module passes float(norm_type): x ** 2.0
        return FX._lp_pool(self._nd, input, self.norm_type, self.kernel_size, self.stride,
                           self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    _nd = 1


class LPPool2d(_LPPoolNd):
    """Power-average pooling: (sum of x^p over each window)^(1/p)."""

    _nd = 2


class LPPool3d(_LPPoolNd):
    _nd = 3


class _MaxUnpoolNd(Module):
    _nd = 0

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        nd = self._nd
        self.kernel_size = F._tuple(kernel_size, nd, "kernel_size")
        self.stride = F._tuple(stride if stride is not None else kernel_size, nd, "stride")
        self.padding = F._tuple(padding, nd, "padding")

    def forward(self, input, indices, output_size=None):
        nd = self._nd
        return FX._max_unpool(f"max_unpool{nd}d", nd, input, indices, self.kernel_size,
                              self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    _nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Puts each max-pooled value back at the position `indices` records; zeros elsewhere."""

    _nd = 2


class MaxUnpool3d(_MaxUnpoolNd):
    _nd = 3


class _FractionalMaxPoolNd(Module):
    """Max pooling with pseudo-random fractional strides; `_random_samples` ([N, C, nd] in
    [0, 1)), when given, fixes the windows (a buffer, as in PyTorch)."""

    _nd = 0

    def __init__(self, kernel_size, output_size=None, output_ratio=None,
                 return_indices: bool = False, _random_samples=None):
        super().__init__()
        nd = self._nd
        self.kernel_size = F._tuple(kernel_size, nd, "kernel_size")
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = F._tuple(output_size, nd, "output_size") \
            if output_size is not None else None
        self.output_ratio = (output_ratio,) * nd if isinstance(output_ratio, (int, float)) \
            else (tuple(output_ratio) if output_ratio is not None else None)
        name = type(self).__name__
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling "
                             f"ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        return FF._fractional(self._nd, input, self.kernel_size, self.output_size,
                              self.output_ratio, self.return_indices, self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """`FractionalMaxPool2d(3, output_ratio=0.5)` halves H and W with overlapping 3x3 windows."""

    _nd = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    _nd = 3
