"""Histograms as PyTorch spells them: `histc`, `histogram` (functions and Tensor methods)
and `histogramdd` (a function), with PyTorch's checks of their arguments.

Everything a call's numbers decide is checked here, where they are given; a range read from
the data is checked by the kernels' value checks (graphnet/_ops/histogram.py), so a NaN in
the data raises PyTorch's error eagerly and in a compiled call alike. The bin counts are
Python ints, so every result has a static shape and all three compile.

>>> import graphnet as torch
>>> torch.histogramdd(torch.tensor([[0.0, 1.0], [1.0, 0.0]]), bins=2).hist
tensor([[0., 1.],
        [1., 0.]])
"""

from __future__ import annotations

import math
import operator

from ._dispatch import dispatch
from ._errors import int_argument
from ._ops._promote import cpp_name, torch_name
from ._ops.histogram import cpp_double
from ._tensor import Tensor
from .return_types import return_type

__all__ = ["histc", "histogram", "histogramdd"]

_Histogram = return_type("histogram", ["hist", "bin_edges"])
_Histogramdd = return_type("histogramdd", ["hist", "bin_edges"])


def _shape(sizes) -> str:
    return "[" + ", ".join(str(int(s)) for s in sizes) + "]"


def histc(input: Tensor, bins: int = 100, min=0, max=0) -> Tensor:
    """Counts in `bins` equal-width bins over [min, max] (the data's range when min == max)."""
    if not input.dtype.is_floating_point:
        what = "linspace_cpu" if input.dtype.name == "bool" else "histogram_cpu"
        raise NotImplementedError(f'"{what}" not implemented for '
                                  f"'{torch_name(input.dtype)}'")
    bins = int_argument(bins, "histc", "bins", 2)
    if bins <= 0:
        raise RuntimeError("torch.histc: bins must be > 0, but got " + str(bins))
    low, high = float(min), float(max)
    if low != high or input.numel() == 0:   # else the data's range: the kernel checks it
        if low == high:
            low, high = low - 1, high + 1
        if not (math.isfinite(low) and math.isfinite(high)):
            raise RuntimeError(f"torch.histc: range of [{cpp_double(low)}, "
                               f"{cpp_double(high)}] is not finite")
        if not low < high:
            raise RuntimeError("torch.histc: max must be larger than min")
    return dispatch("histc", input, bins=int(bins), min=float(min), max=float(max))


def _int_bins(bins, name: str) -> int:
    if isinstance(bins, bool):
        raise TypeError(f"{name}(): argument 'bins' must be int or a Tensor of bin edges, "
                        f"not bool")
    try:
        return operator.index(bins)
    except TypeError:
        raise TypeError(f"{name}(): argument 'bins' must be int or a Tensor of bin edges, "
                        f"not {type(bins).__name__}") from None


def _check_bins(counts) -> None:
    for dim, n in enumerate(counts):
        if n <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {n} for "
                               f"dimension {dim}")


def _check_range(range, d: int) -> tuple | None:
    """`range` as d (min, max) pairs of floats, checked as PyTorch checks it."""
    if range is None:
        return None
    values = [float(v) for v in range]
    if len(values) != 2 * d:
        raise RuntimeError(f"torch.histogramdd: for a {d}-dimensional histogram range should "
                           f"have {2 * d} elements, but got {len(values)}")
    pairs = tuple(zip(values[0::2], values[1::2]))
    for dim, (low, high) in enumerate(pairs):
        if not (math.isfinite(low) and math.isfinite(high)):
            raise RuntimeError(f"torch.histogramdd: dimension {dim}'s range "
                               f"[{cpp_double(low)}, {cpp_double(high)}] is not finite")
        if low > high:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min "
                               f"{cpp_double(low)} max {cpp_double(high)} for dimension {dim}")
    return pairs


def _check_dtype(points: Tensor, from_data: bool) -> None:
    if points.dtype.name not in ("float32", "float64"):
        what = "histogramdd" if from_data and points.numel() else "histogram_cpu"
        raise NotImplementedError(f'"{what}" not implemented for '
                                  f"'{torch_name(points.dtype)}'")


def _check_edges(points: Tensor, edges: list) -> None:
    d = points.shape[-1]
    if len(edges) != d:
        raise RuntimeError(f"torch.histogramdd: expected {d} sequences of bin edges for a "
                           f"{d}-dimensional histogram but got {len(edges)}")
    for dim, e in enumerate(edges):
        if e.dtype != points.dtype:
            raise RuntimeError(
                f"torch.histogramdd: input tensor and bins tensors should have the same dtype, "
                f"but got input with dtype {cpp_name(points.dtype)} and bins for dimension "
                f"{dim} with dtype {cpp_name(e.dtype)}")
        if e.dim() != 1:
            raise RuntimeError(f"torch.histogramdd: bins tensor should have one dimension, but "
                               f"got {e.dim()} dimensions in the bins tensor for dimension {dim}")
        if e.numel() == 0:
            raise RuntimeError(f"torch.histogramdd: bins tensor should have at least 1 "
                               f"element, but got 0 elements in the bins tensor for "
                               f"dimension {dim}")


def _check_weight(points: Tensor, weight: Tensor | None) -> None:
    if weight is None:
        return
    if weight.dtype != points.dtype:
        raise RuntimeError(
            f"torch.histogramdd: if weight tensor is provided, input tensor and weight tensor "
            f"should have the same dtype, but got input({cpp_name(points.dtype)}), and "
            f"weight({cpp_name(weight.dtype)})")
    if tuple(weight.shape or (1,)) != tuple(points.shape[:-1]):
        raise RuntimeError(
            f"torch.histogramdd: if weight tensor is provided it should have the same shape as "
            f"the input tensor excluding its innermost dimension, but got input with shape "
            f"{_shape(points.shape)} and weight with shape {_shape(weight.shape)}")


def _binned(points: Tensor, counts, edges: list, range, weight, density: bool):
    """(hist, [edges per dimension]) of the rows of `points` (..., D), checked."""
    d = points.shape[-1]
    if counts is not None:
        _check_bins(counts)
    pairs = _check_range(range, d) if counts is not None else None
    _check_dtype(points, counts is not None and pairs is None)
    if counts is not None and len(counts) != d:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost "
                           "dimension of the input.")
    if edges:
        _check_edges(points, edges)
        _check_bins([e.numel() - 1 for e in edges])
    _check_weight(points, weight)
    rows = points.reshape(-1, d)
    inputs = (rows, None if weight is None else weight.reshape(-1), *edges)
    hist, padded = dispatch("histogram", *inputs, bins=None if edges else tuple(counts),
                            ranges=pairs, density=bool(density))
    sizes = [e.numel() for e in edges] if edges else [n + 1 for n in counts]
    return hist, [padded[i, :n] for i, n in enumerate(sizes)]


def histogram(input: Tensor, bins=100, *, range=None, weight: Tensor | None = None,
              density: bool = False):
    """(hist, bin_edges): `bins` equal bins over `range` (default: the data's), or the given
    1-D tensor of bin edges; the last bin holds its right edge."""
    if isinstance(bins, Tensor):
        if range is not None:
            raise TypeError("histogram(): `range` goes with an int number of bins, not with "
                            "a Tensor of bin edges")
        counts, edges = None, [bins]
    else:
        counts, edges = [_int_bins(bins, "histogram")], []
    if weight is not None:
        weight = weight.reshape(-1)   # PyTorch flattens both
    hist, (bin_edges,) = _binned(input.reshape(-1, 1), counts, edges, range, weight, density)
    return _Histogram(hist, bin_edges)


def histogramdd(input: Tensor, bins, *, range=None, weight: Tensor | None = None,
                density: bool = False):
    """(hist, bin_edges): the D-dimensional histogram of the points in the rows of `input`
    (..., D). `bins`: an int (each dimension), D ints, or D 1-D tensors of bin edges;
    `range`: [min_0, max_0, min_1, max_1, ...] (default: each column's min and max)."""
    if input.dim() < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    if isinstance(bins, Tensor):
        raise TypeError("histogramdd(): argument 'bins' must be an int, a sequence of ints "
                        "or a sequence of Tensors, not Tensor")
    if isinstance(bins, (list, tuple)) and bins and all(isinstance(b, Tensor) for b in bins):
        counts, edges = None, list(bins)
    elif isinstance(bins, (list, tuple)):
        counts, edges = [_int_bins(b, "histogramdd") for b in bins], []
    else:
        counts, edges = [_int_bins(bins, "histogramdd")] * input.shape[-1], []
    if input.shape[-1] == 0:   # points in no dimensions: PyTorch's 0-d hist, no edges
        from ._factories import zeros

        return _Histogramdd(zeros((), dtype=input.dtype), ())
    hist, bin_edges = _binned(input, counts, edges, range, weight, density)
    return _Histogramdd(hist, tuple(bin_edges))


Tensor.histc = histc
Tensor.histogram = histogram
