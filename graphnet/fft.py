"""`torch.fft`: the helpers that are real-valued, and a clear refusal of the transforms.

The transforms (`fft`, `rfft2`, `irfftn`, ...) take or give complex tensors, and graphnet has
no complex dtypes (graphnet/_dtype_methods.py says why), so each raises a TypeError that says
how to write the same model with real tensors: the DFT as matmuls by cos and -sin matrices,
real and imaginary parts as two tensors or a trailing dim of size 2. The frequency grids
(`fftfreq`, `rfftfreq`) and the shifts (`fftshift`, `ifftshift`) are real, so they are here,
with PyTorch's values and gradients (a shift is a `roll`).
"""

from __future__ import annotations

import numpy as np

from . import _dtype as dt
from ._default_dtype import default_float
from ._dtype_methods import _no_complex
from ._errors import wrap_dim
from ._factories import _finish, tensor
from ._layout import roll
from ._tensor import Tensor

__all__ = ["fftfreq", "rfftfreq", "fftshift", "ifftshift"]


def _frequencies(name: str, steps: np.ndarray, n: int, d, dtype) -> np.ndarray:
    dtype = default_float() if dtype is None else dtype
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name} requires a floating point or complex dtype")
    kind = dt.to_np(dtype)
    # PyTorch fills an arange of `dtype` and multiplies it in place by the double 1/(n*d),
    # which its CPU kernel rounds to `dtype` first; n = 0 or d = 0 divide as IEEE floats do
    # (`rfftfreq(4, d=0.0)` is [nan, inf, inf]; Python's division raised ZeroDivisionError)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scale = np.float64(1.0) / np.float64(n * d)
        return steps.astype(kind) * kind.type(scale)


def fftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an FFT of length `n` with spacing `d`:
    [0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d * n), of the default float dtype."""
    del layout
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    steps = np.concatenate([np.arange((n + 1) // 2), np.arange(-(n // 2), 0)])
    return _finish(tensor(_frequencies("fftfreq", steps, n, d, dtype)), requires_grad, device)


def rfftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an `rfft` of length `n` with spacing `d`:
    [0, 1, ..., n // 2] / (d * n), of the default float dtype."""
    del layout
    steps = np.arange(n // 2 + 1)
    return _finish(tensor(_frequencies("rfftfreq", steps, n, d, dtype)), requires_grad, device)


def _dims(input: Tensor, dim) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(input.dim()))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(wrap_dim(d, input.dim()) for d in dims)


def _rolled(input: Tensor, dim, shift) -> Tensor:
    dims = _dims(input, dim)
    if not dims:   # `dim=()`, or a 0-d tensor: PyTorch's roll gets no shifts and says so
        raise RuntimeError("`shifts` required")
    return roll(input, [shift(input.shape[d]) for d in dims], list(dims))


def fftshift(input: Tensor, dim=None) -> Tensor:
    """The zero frequency moved to the centre: a roll by size // 2 along `dim` (every dim
    when None)."""
    return _rolled(input, dim, lambda n: n // 2)


def ifftshift(input: Tensor, dim=None) -> Tensor:
    """`fftshift` undone: a roll by (size + 1) // 2 along `dim` (every dim when None)."""
    return _rolled(input, dim, lambda n: (n + 1) // 2)


_AS_MATMULS = ("write the transform as matmuls by cos and -sin DFT matrices "
               "(`graphnet.cos(2 * pi * outer(k, n) / N)`), keeping the real and imaginary "
               "parts as two real tensors or a trailing dim of size 2")
_TRANSFORMS = ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
               "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn",
               "ihfftn")
for _name in _TRANSFORMS:
    globals()[_name] = _no_complex(f"graphnet.fft.{_name}(input)", _AS_MATMULS)
del _name
