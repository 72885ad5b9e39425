"""Numerical integration and moment matrices: trapezoid/trapz, cumulative_trapezoid, vander,
cov and corrcoef, as compositions of existing ops (so both modes run them).

The formulas follow PyTorch's own (ATen's trapezoid, cov), so float32 results round alike.

>>> import graphnet as torch
>>> torch.trapezoid(torch.tensor([1.0, 2.0, 3.0]))
tensor(4.)
"""

from __future__ import annotations

from . import _dtype as dt
from . import _factories as fac
from . import _layout as L
from . import _math as M
from ._errors import dimension_error
from ._shape_more import wrap_dim
from ._tensor import Tensor


def _pieces(y: Tensor, dim: int):
    n = y.shape[dim]
    lead = (slice(None),) * dim
    return y[lead + (slice(1, n),)], y[lead + (slice(0, n - 1),)]


def _spacing(y: Tensor, x: Tensor, dim: int) -> Tensor:
    """diff(x) shaped to broadcast against y's pieces along `dim` (1-D x lies along dim)."""
    if x.dim() == 1:
        if x.shape[0] != y.shape[dim]:
            raise RuntimeError(f"trapezoid: There must be one `x` value for each sample point, "
                               f"but got x of size {x.shape[0]} and y of size {y.shape[dim]}")
        x = L.reshape(x, (-1,) + (1,) * (y.dim() - 1 - dim))
        d = 0
    else:
        # PyTorch's: `dim` (y's) taken on x as it is, x given leading ones when it has fewer
        # dims (x lined up from the right here made a (4, 1) x of a (4,) y a shape error)
        if x.dim() < y.dim():
            x = L.reshape(x, (1,) * (y.dim() - x.dim()) + tuple(x.shape))
        d = dim
    right, left = _pieces(x, d)
    return right - left


def _checked_x(name: str, x) -> None:
    """PyTorch's forms: `x` is a tensor of sample points; a number goes in `dx=`."""
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"(Tensor, {type(x).__name__}), but expected one of: (Tensor y, "
                        f"Tensor x, *, int dim = -1), (Tensor y, *, Number dx = 1, int dim = -1)")


def _refuse_bool(name: str, y: Tensor, x) -> None:
    """PyTorch's refusal of bool samples (they integrated as 0 and 1 here, silently)."""
    if isinstance(x, Tensor) and x.dtype is dt.bool_:
        raise RuntimeError(f"{name}: received a bool input for `x` or `y`, but bool is not "
                           f"supported")
    if y.dtype is dt.bool_:
        raise RuntimeError(f"{name}: received a bool input for `y`, but bool is not supported")


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoidal-rule integral of `y` along `dim`, at sample points `x` (a tensor) or
    with constant spacing `dx` (default 1)."""
    if y.dim() == 0:
        raise dimension_error(dim, 0)
    dim = wrap_dim(dim, y.dim())
    if x is not None and dx is not None:
        raise RuntimeError("trapezoid: cannot pass both x and dx")
    _checked_x("trapezoid", x)
    _refuse_bool("trapezoid", y, x)
    # NOTE: integer samples stay integers until the halving promotes them to the default
    # float dtype, as PyTorch's (a float32 cast lost float64's digits of large integers)
    if y.shape[dim] == 0:
        return M.sum(y, dim)
    if isinstance(x, Tensor):
        right, left = _pieces(y, dim)
        return M.sum(_spacing(y, x, dim) * (right + left), dim) / 2.0
    spacing = 1.0 if dx is None else float(dx)
    ends = y.select(dim, 0) + y.select(dim, -1)
    return (M.sum(y, dim) - ends * 0.5) * spacing


def trapz(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """`trapezoid` under its older name."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral along `dim` (one element shorter than `y`)."""
    dim = wrap_dim(dim, y.dim())
    _checked_x("cumulative_trapezoid", x)
    _refuse_bool("cumulative_trapezoid", y, x)
    right, left = _pieces(y, dim)
    if isinstance(x, Tensor):
        areas = _spacing(y, x, dim) * (right + left) / 2.0
    else:
        spacing = 1.0 if dx is None else float(dx)
        areas = (right + left) * (spacing / 2.0)
    return M.cumsum(areas, dim)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of 1-D `x`: columns x**(N-1) ... x**0 (or increasing powers);
    integer input gives int64."""
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if not x.dtype.is_floating_point:
        x = x.to(dt.int64)
    if n == 0:
        return fac.zeros(x.shape[0], 0, dtype=x.dtype)
    columns = [fac.ones(x.shape[0], dtype=x.dtype)]
    for _ in range(n - 1):   # each power from the last, as PyTorch's cumprod does
        columns.append(columns[-1] * x)
    result = L.stack(columns, 1)
    return result if increasing else L.flip(result, (1,))


def linalg_vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """`torch.linalg.vander`: increasing powers x**0 ... x**(N-1) along a new last dim."""
    if x.dim() == 0:
        raise RuntimeError("linalg.vander: Expected a tensor with at least 1 dimension")
    n = x.shape[-1] if N is None else int(N)
    if n <= 1:
        raise RuntimeError("linalg.vander: N must be greater than 1.")
    columns = [fac.ones_like(x)]
    for _ in range(n - 1):
        columns.append(columns[-1] * x)
    return L.stack(columns, -1)


def cov(input: Tensor, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """The covariance matrix of the variables in `input`'s rows (observations in columns;
    a 1-D tensor is one variable), with optional integer frequency and float observation
    weights. `correction=1` is the unbiased estimate."""
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                         f"input with {input.dim()} dimensions")
    if isinstance(correction, float):
        raise TypeError("cov(): argument 'correction' must be int, not float")
    x = L.reshape(input, 1, -1) if input.dim() < 2 else input
    if not x.dtype.is_floating_point:
        x = x.to(dt.float32)
    observations = x.shape[1]
    weights = None
    if fweights is not None:
        if fweights.dtype.is_floating_point:
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got "
                               f"fweights with {fweights.dtype.name} dtype")
        weights = fweights
    if aweights is not None:
        if not aweights.dtype.is_floating_point:
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got "
                               f"aweights with {aweights.dtype.name} dtype")
        weights = aweights if weights is None else weights * aweights
        from ._dtype_methods import promote_types   # float64 weights: a float64 result

        x = x.to(promote_types(x.dtype, aweights.dtype))
    for w, name in ((fweights, "fweights"), (aweights, "aweights")):
        if w is not None and (w.dim() > 1 or w.numel() != observations):
            raise RuntimeError(f"cov(): expected {name} to have one dimension and the same "
                               f"number of elements as the input's columns, but got {name} "
                               f"of shape {list(w.shape)} for {observations} observations")
    # PyTorch's check of the weights' values (a negative one gave a negative variance)
    # (on detached values: the check has no gradient, and aweights' own reaches them; a
    # compiled program keeps the unused check, see the dead-code pass)
    for w, name in ((fweights, "fweights"), (aweights, "aweights")):
        if w is not None:
            fac.checked_values(w.detach(), name)
    if weights is None:
        mean = M.mean(x, 1, keepdim=True)
        total = float(observations)
        norm = total - correction
    else:
        weights = weights.to(x.dtype)
        total = M.sum(weights)
        mean = M.sum(x * weights, 1, keepdim=True) / total
        if correction == 0:
            norm = total
        elif aweights is None:
            norm = total - correction
        else:
            norm = total - correction * M.sum(weights * aweights) / total
    centred = x - mean
    weighted = centred if weights is None else centred * weights
    if isinstance(norm, float):
        norm = max(norm, 0.0)
    else:
        norm = M.clamp(norm, min=0.0)
    c = M.matmul(weighted, L.transpose(centred, 0, 1)) / norm
    # one variable (a 1-d input, or a single row) gives a 0-d tensor, as in PyTorch
    return L.reshape(c, ()) if input.dim() < 2 or input.shape[0] == 1 else c


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of `input`'s rows (`cov` normalised by the
    standard deviations), clipped to [-1, 1]."""
    c = cov(input)
    if c.dim() == 0:
        return c / c
    std = M.sqrt(L.reshape(c.diagonal(), -1))
    c = c / L.reshape(std, -1, 1)
    c = c / L.reshape(std, 1, -1)
    return M.clamp(c, -1, 1)


__all__ = ["trapezoid", "trapz", "cumulative_trapezoid", "vander", "cov", "corrcoef"]
