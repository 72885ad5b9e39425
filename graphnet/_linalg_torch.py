"""Linear algebra under its torch-level names (`torch.det`, `torch.inverse`, `torch.svd`,
`torch.qr`, `torch.cholesky_solve`, `torch.triangular_solve` ...), which are also Tensor
methods. Most call graphnet.linalg; `svd`, `qr` and `cholesky` keep their older signatures
(`some`, `compute_uv`, V instead of Vh).

The functions PyTorch removed in 1.9 (`torch.solve`, `torch.lstsq`, `torch.symeig`,
`torch.eig`, `torch.matrix_rank`) raise PyTorch's RuntimeError naming their replacement."""

from __future__ import annotations

import math

from . import _factories as fac
from . import _layout as L
from . import _math as M
from . import linalg
from ._dispatch import dispatch
from ._shape_more import type_name
from ._tensor import Tensor
from .return_types import return_type
from ._autocast import autocast_as

_Slogdet = return_type("slogdet", ["sign", "logabsdet"])
_QR = return_type("qr", ["Q", "R"])
_SVD = return_type("svd", ["U", "S", "V"])
_TriangularSolve = return_type("triangular_solve", ["solution", "cloned_coefficient"])

det = linalg.det
inverse = linalg.inv
matrix_exp = linalg.matrix_exp


def slogdet(input: Tensor):
    """(sign, log |det|) of each square matrix."""
    return _Slogdet(*linalg.slogdet(input))


def logdet(input: Tensor) -> Tensor:
    """log det of each square matrix: NaN where det < 0, -inf where it is 0."""
    linalg.refuse_low_precision("logdet", input)
    sign, logabs = linalg.slogdet(input)
    return M.where(sign < 0, math.nan, logabs)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """The pseudo-inverse, singular values below rcond * largest dropped."""
    return linalg.pinv(input, rtol=rcond)


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """`linalg.cholesky` with `upper` as a positional argument (torch.cholesky)."""
    return linalg.cholesky(input, upper=upper)


def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False) -> Tensor:
    """X with A X = input, where `input2` is A's Cholesky factor (lower, or upper)."""
    linalg.matrices("cholesky_solve", input2)
    if input.dim() < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {input.dim()} "
                           f"dimensions instead")
    if input.shape[-2] != input2.shape[-1]:   # PyTorch's words (JAX's named its signature)
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is "
                           f"{input2.shape[-1]} by {input2.shape[-1]} but each b matrix is "
                           f"{input.shape[-2]} by {input.shape[-1]}")
    return dispatch("cholesky_solve", input, input2, upper=bool(upper))


def cholesky_inverse(input: Tensor, upper: bool = False) -> Tensor:
    """The inverse of A from its Cholesky factor `input` (lower, or upper)."""
    linalg.matrices("cholesky_inverse", input)
    return dispatch("cholesky_inverse", input, upper=bool(upper))


def qr(input: Tensor, some: bool = True):
    """(Q, R): reduced when `some`, else complete (torch.qr)."""
    return _QR(*linalg.qr(input, "reduced" if some else "complete"))


def svd(input: Tensor, some: bool = True, compute_uv: bool = True):
    """(U, S, V) with input = U diag(S) V^T (V, not Vh: torch.svd); with
    `compute_uv=False` U and V are zero matrices of shape (m, m) and (n, n)."""
    if not compute_uv:
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        return _SVD(fac.zeros(*batch, m, m, dtype=input.dtype), linalg.svdvals(input),
                    fac.zeros(*batch, n, n, dtype=input.dtype))
    u, s, vh = linalg.svd(input, full_matrices=not some)
    return _SVD(u, s, L.transpose(vh, -2, -1))


@autocast_as("float32")   # PyTorch's CPU autocast list
def triangular_solve(input: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False):
    """(X, A's copy) with A X = input (A^T X = input with `transpose`), A triangular."""
    if input.dtype != A.dtype:   # unlike linalg.solve_triangular, which promotes
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{type_name(input.dtype)} and A of type {type_name(A.dtype)} "
                           f"instead.")
    coefficient = L.transpose(A, -2, -1) if transpose else A
    solution = linalg.solve_triangular(coefficient, input, upper=upper != transpose,
                                       unitriangular=unitriangular)
    return _TriangularSolve(solution, A.clone())


def frobenius_norm(input: Tensor, dim=(-2, -1), keepdim: bool = False) -> Tensor:
    """sqrt of the sum of squares over `dim` (`linalg.vector_norm(input, 2, dim)`)."""
    return linalg.vector_norm(input, 2, dim, keepdim)


def nuclear_norm(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The sum of singular values of the matrices in `dim` (the last two by default)."""
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    if dim is None and input.dim() != 2:
        raise RuntimeError(f"Expected a tensor with 2 dimensions, but got a tensor with "
                           f"{input.dim()} dimension{'s' if input.dim() != 1 else ''} instead.")
    return linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


def _removed(name: str, instead: str):
    def fn(*args, **kwargs):
        raise RuntimeError(f"This function was deprecated since version 1.9 and is now "
                           f"removed. `torch.{name}` is deprecated in favor of "
                           f"`torch.{instead}`.")
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Removed from PyTorch in 1.9: use `{instead}`."
    return fn


def orgqr(input: Tensor, tau: Tensor) -> Tensor:
    """`linalg.householder_product` under LAPACK's name: Q from geqrf's reflectors."""
    return linalg.householder_product(input, tau)


solve = _removed("solve", "linalg.solve")
lstsq = _removed("lstsq", "linalg.lstsq")
symeig = _removed("symeig", "linalg.eigh")
eig = _removed("eig", "linalg.eig")
matrix_rank = _removed("matrix_rank", "linalg.matrix_rank")

METHODS = {"det": det, "logdet": logdet, "slogdet": slogdet, "inverse": inverse,
           "pinverse": pinverse, "cholesky": cholesky, "cholesky_solve": cholesky_solve,
           "cholesky_inverse": cholesky_inverse, "qr": qr, "svd": svd,
           "matrix_exp": matrix_exp, "triangular_solve": triangular_solve, "lstsq": lstsq,
           "orgqr": orgqr, "solve": solve, "symeig": symeig, "eig": eig}

__all__ = ["det", "logdet", "slogdet", "inverse", "pinverse", "cholesky", "cholesky_solve",
           "cholesky_inverse", "qr", "svd", "matrix_exp", "triangular_solve", "solve", "orgqr",
           "lstsq", "symeig", "eig", "matrix_rank", "frobenius_norm", "nuclear_norm"]
