"""Norms and ranks: `linalg.vector_norm`, `linalg.matrix_norm`, `linalg.norm`,
`linalg.matrix_rank` and `linalg.vecdot`.

vector_norm is an op (graphnet/_ops/linalg.py: its gradient at a zero vector is 0, as in
PyTorch); the matrix norms reduce it, `abs().sum()` or the singular values (op
`linalg_svdvals`), along two dims, as PyTorch defines each `ord`.

>>> import graphnet as torch
>>> torch.linalg.matrix_norm(torch.eye(3), ord="nuc")
tensor(3.)
"""

from __future__ import annotations

import math

import numpy as np

from . import _dtype as dt
from . import _layout as L
from ._autocast import autocast_as
from . import _math as M
from ._dispatch import dispatch
from ._shape_more import type_name, movedim, wrap_dim
from ._tensor import Tensor


def _floating(name: str, x: Tensor, dtype=None) -> Tensor:
    """`x` in `dtype`, with PyTorch's checks: a floating input, and a `dtype` it widens to."""
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {type_name(x.dtype)}")
    if dtype is not None and dtype != x.dtype:
        from ._dtype_methods import promote_types

        if not dtype.is_floating_point:
            raise RuntimeError(f"{name}: dtype should be floating point or complex, but got "
                               f"{type_name(dtype)}")
        if promote_types(x.dtype, dtype) != dtype:
            raise RuntimeError(f"{name}: the dtype of the input ({type_name(x.dtype)}) should "
                               f"be convertible without narrowing to the specified dtype "
                               f"({type_name(dtype)})")
        x = x.to(dtype)
    return x


def _dims(dim, rank: int):
    """`dim` as a tuple of dims in range; None for all of them, which `()` and `[]` also
    mean, as in PyTorch (they reduced nothing: vector_norm(x, dim=()) was |x|)."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(int(d) for d in dim)
    if not dims:
        return None
    return tuple(wrap_dim(d, rank) for d in dims)


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The `ord`-norm of `x` as a vector over `dim` (all dims by default): 2, 1, inf, -inf,
    0 (the count of non-zeros) or any other real `ord`."""
    x = _floating("linalg.vector_norm", x, dtype)
    if isinstance(ord, str):
        raise TypeError("linalg_vector_norm(): argument 'ord' (position 2) must be Number, "
                        "not str")
    ord = float(ord)
    dims = _dims(dim, x.dim())
    if ord < 0 and x.numel() == 0:
        raise RuntimeError("linalg.vector_norm of negative order cannot be performed on an "
                           "empty tensor")
    return dispatch("linalg_vector_norm", x, ord=ord, dim=dims, keepdim=bool(keepdim))


def _square_dims(name: str, A: Tensor, dim) -> tuple[int, int]:
    if A.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    d0, d1 = (wrap_dim(d, A.dim()) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{name}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def _singular_values(A: Tensor, d0: int, d1: int) -> Tensor:
    from .linalg import refuse_low_precision   # NOTE: graphnet.linalg imports this module
    refuse_low_precision("linalg.matrix_norm", A)
    return dispatch("linalg_svdvals", movedim(A, (d0, d1), (-2, -1)))


def _restore(result: Tensor, d0: int, d1: int, keepdim: bool) -> Tensor:
    if not keepdim:
        return result
    for d in sorted((d0, d1)):
        result = L.unsqueeze(result, d)
    return result


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """The matrix norm of the matrices in dims `dim`: "fro", "nuc", 2/-2 (largest/smallest
    singular value), 1/-1 (max/min column sum), inf/-inf (max/min row sum of |A|)."""
    A = _floating("linalg.matrix_norm", A, dtype)
    d0, d1 = _square_dims("linalg.matrix_norm", A, dim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord == "nuc":
        return _restore(M.sum(_singular_values(A, d0, d1), -1), d0, d1, keepdim)
    if isinstance(ord, str) or float(ord) not in (2, -2, 1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    ord = float(ord)
    if abs(ord) == 2:
        values = _singular_values(A, d0, d1)
        return _restore(_pick(values, -1, ord), d0, d1, keepdim)
    summed, across = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = M.sum(M.abs(A), summed, keepdim=True)
    result = _pick(sums, across, ord, keepdim=True)
    return result if keepdim else L.squeeze(result, (d0, d1))


def _pick(values: Tensor, dim: int, ord: float, keepdim: bool = False) -> Tensor:
    """The largest of `values` along `dim` for a positive `ord`, else the smallest; PyTorch's
    largest of none is 0 (the norm of an empty matrix), its smallest of none an error."""
    if ord > 0 and values.shape[dim] == 0:
        return M.sum(values, dim, keepdim=keepdim)
    return (M.amax if ord > 0 else M.amin)(values, dim, keepdim=keepdim)


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """`torch.linalg.norm`: a vector norm over one dim (or all, flattened, when `ord` and
    `dim` are both None), a matrix norm over two; with `ord` and no `dim` the input must
    be 1-D or 2-D."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) not in (1, 2):    # PyTorch refuses () too: no all-dims meaning here
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or "
                               f"2. Got {list(dims)}")
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        if isinstance(ord, str):           # a matrix norm's name with one dim
            if ord not in ("fro", "nuc"):
                raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dims[0]}")
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if isinstance(ord, str) and A.dim() < 2:   # "fro" and "nuc" are matrix norms
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.dim() == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.dim() == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D "
                       f"or 2D. Got {A.dim()}D.")


def matrix_rank(A: Tensor, tol=None, hermitian: bool = False, *, atol=None,
                rtol=None) -> Tensor:
    """The number of singular values above max(atol, rtol * largest) (int64, per matrix);
    rtol defaults to eps * max(m, n) when neither tolerance is given."""
    A = _floating("linalg.matrix_rank", A)
    from .linalg import refuse_low_precision
    refuse_low_precision("linalg.matrix_rank", A)
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_rank: The input tensor A must have at least 2 "
                           "dimensions.")
    if tol is not None:
        atol, rtol = tol, 0.0
    m, n = A.shape[-2:]
    if rtol is None:    # PyTorch's default: 0 where atol is positive (per matrix), else eps-based
        default = float(np.finfo(A.dtype.np).eps) * max(m, n)
        rtol = default if atol is None else M.where(atol > 0, 0.0, default) \
            if isinstance(atol, Tensor) else (0.0 if atol > 0 else default)
    atol = 0.0 if atol is None else atol
    with_grad = M.abs(dispatch("linalg_eigh", A, upper=False)[0]) if hermitian else \
        dispatch("linalg_svdvals", A)
    values = with_grad.detach()
    if values.shape[-1] == 0:
        return M.sum(values, -1).to(dt.int64)

    def per_matrix(tol):
        """A tolerance tensor holds one value per matrix: a trailing dim meets its values."""
        return L.unsqueeze(tol, -1) if isinstance(tol, Tensor) else tol

    cutoff = M.maximum(M.amax(values, -1, keepdim=True) * per_matrix(rtol), per_matrix(atol))
    return M.sum(values > cutoff, -1)


@autocast_as("lower")
def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Sum of x * y over `dim`, with broadcasting (the dot product of each pair of vectors)."""
    for t in (x, y):
        _floating("linalg.vecdot", t)
    if x.dtype != y.dtype:   # graphnet promoted (float32 with float64 gave float64)
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found "
                           f"x of type {type_name(x.dtype)} and y of type {type_name(y.dtype)} "
                           f"instead")
    product = x * y
    return M.sum(product, wrap_dim(dim, product.dim()))


__all__ = ["vector_norm", "matrix_norm", "norm", "matrix_rank", "vecdot"]
