"""`graphnet.gradient`, PyTorch's `torch.gradient`: the derivative of sampled values along
each dim by central differences inside and one-sided ones (first or second order) at the
edges, with unit spacing, one spacing per dim, or the sample coordinates per dim.

Written with graphnet's own slicing and arithmetic in the order PyTorch's kernel uses, so the
values agree to the bit where the operations do, and gradients come from autodiff.

>>> import graphnet as torch
>>> torch.gradient(torch.tensor([1., 4., 9., 16.]))
(tensor([3., 4., 6., 7.]),)
"""

from __future__ import annotations

import numbers

from . import _layout as L
from ._errors import wrap_dim
from ._tensor import Tensor

__all__ = ["gradient"]


def _part(t: Tensor, dim: int, start: int, stop: int | None = None) -> Tensor:
    """t[..., start:stop, ...] along `dim`, with negative ends counted from the end."""
    size = t.shape[dim]
    start = start + size if start < 0 else start
    stop = size if stop is None else (stop + size if stop < 0 else stop)
    return t.narrow(dim, start, max(stop - start, 0))


def _with_unit_spacing(f: Tensor, dim: int, h, edge_order: int) -> Tensor:
    center = (_part(f, dim, 2) - _part(f, dim, 0, -2)) / h
    if edge_order == 1:
        first = (_part(f, dim, 1, 2) - _part(f, dim, 0, 1)) / h
        last = (_part(f, dim, -1) - _part(f, dim, -2, -1)) / h
    else:
        first = (_part(f, dim, 0, 1) * -1.5 + _part(f, dim, 1, 2) * 2.0 +
                 _part(f, dim, 2, 3) * -0.5) / h
        last = (_part(f, dim, -3, -2) * 0.5 + _part(f, dim, -2, -1) * -2.0 +
                _part(f, dim, -1) * 1.5) / h
    return L.cat([first, center / 2, last], dim)


def _with_coordinates(f: Tensor, dim: int, x: Tensor, edge_order: int) -> Tensor:
    shape = [1] * f.dim()
    shape[dim] = -1
    dx = x[1:] - x[:-1]
    dx1, dx2 = dx[:-1], dx[1:]
    a = (-dx2 / (dx1 * (dx1 + dx2))).reshape(shape)
    b = ((dx2 - dx1) / (dx1 * dx2)).reshape(shape)
    c = (dx1 / (dx2 * (dx1 + dx2))).reshape(shape)
    center = a * _part(f, dim, 0, -2) + b * _part(f, dim, 1, -1) + c * _part(f, dim, 2)
    if edge_order == 1:
        first = (_part(f, dim, 1, 2) - _part(f, dim, 0, 1)) / dx[0]
        last = (_part(f, dim, -1) - _part(f, dim, -2, -1)) / dx[-1]
    else:
        d0, d1 = dx[0], dx[1]
        first = (-(2.0 * d0 + d1) / (d0 * (d0 + d1)) * _part(f, dim, 0, 1) +
                 (d0 + d1) / (d0 * d1) * _part(f, dim, 1, 2) +
                 (-d0) / (d1 * (d0 + d1)) * _part(f, dim, 2, 3))
        e1, e2 = dx[-1], dx[-2]
        last = (e1 / (e2 * (e1 + e2)) * _part(f, dim, -3, -2) +
                -(e1 + e2) / (e1 * e2) * _part(f, dim, -2, -1) +
                (2 * e1 + e2) / (e1 * (e1 + e2)) * _part(f, dim, -1))
    return L.cat([first, center, last], dim)


def _dims(input: Tensor, dim) -> list:
    if dim is None:
        return list(range(input.dim()))
    dims = [dim] if isinstance(dim, numbers.Integral) else list(dim)
    wrapped = [wrap_dim(d, input.dim()) for d in dims]
    for k, d in enumerate(wrapped):     # PyTorch's check (two gradients of one dim ran)
        if d in wrapped[:k]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return wrapped


def _spacings(input: Tensor, spacing, dims: list, dim_given: bool) -> list:
    """One spacing (a number) or coordinates (a 1-D tensor) per dim, checked as PyTorch
    checks them."""
    if isinstance(spacing, numbers.Number) or isinstance(spacing, Tensor) and spacing.dim() == 0:
        return [spacing] * len(dims)
    if isinstance(spacing, Tensor):
        raise TypeError("gradient() received an invalid combination of arguments - got "
                        "(Tensor, spacing=Tensor): spacing must be a number, a tuple of "
                        "numbers or a tuple of 1-D tensors")
    spacing = list(spacing)
    if len(spacing) != len(dims):
        if dim_given:
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                               f"it's spacing and dim arguments to have the same length, but "
                               f"got a spacing argument of length {len(spacing)} and a dim "
                               f"argument of length {len(dims)}.")
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, or a "
                           f"list of length equal to 'self.dim() = {input.dim()}', since dim "
                           f"argument was not given, but got a list of length {len(spacing)}")
    if any(isinstance(h, Tensor) for h in spacing):
        if any(not isinstance(h, Tensor) or h.dim() != 1 for h in spacing):
            raise RuntimeError("torch.gradient expected each element of spacing to have one "
                               "dimension, but got an element with 0 dimensions!")
    return spacing


def gradient(input: Tensor, *, spacing=1, dim=None, edge_order: int = 1) -> tuple:
    """One tensor per dim in `dim` (default: every dim): the estimated derivative of `input`
    along it. `spacing` is the distance between samples (a number, one number per dim) or
    the samples' coordinates (one 1-D tensor per dim); `edge_order` 1 or 2 sets the edges'
    one-sided differences."""
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = _dims(input, dim)
    spacings = _spacings(input, spacing, dims, dim is not None)
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    out = []
    for d, h in zip(dims, spacings):
        if isinstance(h, Tensor) and h.dim() == 1:
            if h.shape[0] != input.shape[d]:
                # NOTE: PyTorch returns numbers of no meaning here; graphnet refuses
                raise RuntimeError(f"torch.gradient: the coordinates for dim {d} have "
                                   f"{h.shape[0]} entries but the input has {input.shape[d]} "
                                   f"samples along it; give one coordinate per sample")
            out.append(_with_coordinates(input, d, h, edge_order))
        else:
            h = h.item() if isinstance(h, Tensor) else h
            out.append(_with_unit_spacing(input, d, h, edge_order))
    return tuple(out)
