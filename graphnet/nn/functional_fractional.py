"""F.fractional_max_pool2d/3d (and their *_with_indices spellings), PyTorch's signatures:
the windows' placement is drawn with graphnet's RNG unless `_random_samples` is given, so
PyTorch's numbers are matched exactly by passing the same samples."""

from __future__ import annotations

from .. import _factories as fac
from .._dispatch import dispatch
from .functional_conv import _tuple

__all__ = [
    "fractional_max_pool2d", "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d_with_indices",
]

_AXES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _fractional(nd, input, kernel_size, output_size, output_ratio, return_indices,
                _random_samples):
    fn = f"fractional_max_pool{nd}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{fn} requires specifying either an output_size or an output_ratio")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    kernel = _tuple(kernel_size, nd, "kernel_size")
    spatial = tuple(input.shape[input.dim() - nd:])
    if output_size is None:
        if len(output_ratio) == 1:   # a sequence is required, as in PyTorch
            output_ratio = tuple(output_ratio) * nd
        sizes = tuple(int(n * r) for n, r in zip(spatial, output_ratio, strict=True))
    else:
        sizes = _tuple(output_size, nd, "output_size")
    for name, n, k, o in zip(_AXES[nd], spatial, kernel, sizes, strict=True):
        if o + k - 1 > n:
            raise RuntimeError(f"{fn}{'_out' if nd == 3 else ''}(): pool {name} {k} too large "
                               f"relative to input {name} {n}")
    unbatched = input.dim() == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    samples = _random_samples
    if samples is None:
        samples = fac.rand(x.shape[0], x.shape[1], nd, dtype=input.dtype)
    elif samples.dim() != 3 or samples.shape[2] != nd or \
            tuple(samples.shape[:2]) != tuple(x.shape[:2]):
        raise RuntimeError(f"Expect _random_samples of shape [{x.shape[0]}, {x.shape[1]}, "
                           f"{nd}]; got {list(samples.shape)}.")
    values, indices = dispatch("fractional_max_pool", x, samples, kernel_size=kernel,
                               output_size=sizes)
    if unbatched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Max over kernel_size windows placed at pseudo-random fractional strides so that the
    output is `output_size` (or `output_ratio` of the input).

    >>> F.fractional_max_pool2d(graphnet.randn(1, 3, 10, 10), 3, output_ratio=(0.5, 0.5)).shape
    graphnet.Size([1, 3, 5, 5])
    """
    return _fractional(2, input, kernel_size, output_size, output_ratio, return_indices,
                       _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    return _fractional(3, input, kernel_size, output_size, output_ratio, return_indices,
                       _random_samples)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None) -> tuple:
    return _fractional(2, input, kernel_size, output_size, output_ratio, True,
                       _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None) -> tuple:
    return _fractional(3, input, kernel_size, output_size, output_ratio, True,
                       _random_samples)

