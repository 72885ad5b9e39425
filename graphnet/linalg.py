"""`graphnet.linalg`: torch.linalg's functions, and the torch-level spellings (`det`,
`inverse`, `cholesky`, `svd`, `qr` ...) re-exported at the top level.

Kernels are the ops in graphnet/_ops/linalg.py; this file checks arguments as PyTorch does
(floating dtype, square matrices, compatible shapes) and names the results with PyTorch's
named tuples. A singular matrix given to `inv`/`solve`, or a matrix that is not
positive-definite given to `cholesky`, raises `LinAlgError` in both modes.

torch.linalg's eig and eigvals return complex tensors, which graphnet does not have: use
`eigh` for symmetric matrices.

>>> import graphnet as torch
>>> torch.linalg.solve(torch.eye(2) * 2, torch.ones(2))
tensor([0.5000, 0.5000])
"""

from __future__ import annotations

import math
import warnings

import jax

from . import _factories as fac
from . import _layout as L
from . import _math as M
from ._contractions import linalg_cross as cross
from ._contractions import matrix_power, multi_dot
from ._diagonals import linalg_diagonal as diagonal
from ._dispatch import dispatch
from ._errors import TraceError
from ._mode import tracing
from ._linalg_ex import cholesky_ex, eig, eigvals, householder_product
from ._linalg_lu import inv_ex, lu, lu_factor, lu_factor_ex, lu_solve, solve_ex
from ._linalg_norms import matrix_norm, matrix_rank, norm, vecdot, vector_norm
from ._ops.linalg import LinAlgError
from ._sums_of_products import linalg_vander as vander
from ._shape_more import type_name
from ._tensor import Tensor
from .return_types import return_type

matmul = M.matmul

_Slogdet = return_type("linalg_slogdet", ["sign", "logabsdet"])
_QR = return_type("linalg_qr", ["Q", "R"])
_SVD = return_type("linalg_svd", ["U", "S", "Vh"])
_Eigh = return_type("linalg_eigh", ["eigenvalues", "eigenvectors"])
_Lstsq = return_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


# PyTorch's CPU kernel behind each linalg function that refuses float16 and bfloat16 (None:
# the function itself refuses "low precision dtypes"); JAX's own refusal named no function
_LOW_PRECISION = {
    "linalg.inv": None, "linalg.inv_ex": None, "linalg.slogdet": None,
    "linalg.matrix_norm": None, "linalg.cholesky": "cholesky_cpu", "linalg.det": "lu_cpu",
    "linalg.solve": "lu_cpu", "linalg.solve_ex": "lu_cpu", "linalg.lu": "lu_cpu",
    "linalg.lu_factor": "lu_cpu", "linalg.lu_factor_ex": "lu_cpu",
    "linalg.lu_solve": "linalg.lu_solve_cpu", "linalg.svd": "linalg_svd_cpu",
    "linalg.svdvals": "linalg_svd_cpu", "linalg.eigh": "linalg_eigh_cpu",
    "linalg.eigvalsh": "linalg_eigh_cpu", "linalg.qr": "geqrf_cpu",
    "linalg.solve_triangular": "triangular_solve_cpu", "cholesky_solve": "cholesky_solve_cpu",
    "cholesky_inverse": "cholesky_inverse_out_cpu", "logdet": None,
    "linalg.householder_product": "orgqr_cpu",
}


def refuse_low_precision(name: str, A: Tensor) -> None:
    """PyTorch's error for a float16 or bfloat16 `A` given to linalg function `name`."""
    if A.dtype.name not in ("float16", "bfloat16"):
        return
    kind = type_name(A.dtype)
    if name == "linalg.pinv":
        raise RuntimeError(f"linalg.pinv({kind}{{{list(A.shape)}}}): expected a tensor with 2 or "
                           f"more dimensions of float, double, cfloat or cdouble types")
    if name in ("linalg.lstsq", "linalg.matrix_rank"):
        raise RuntimeError("This function doesn't handle types other than float and double")
    if name not in _LOW_PRECISION:
        return
    kernel = _LOW_PRECISION[name]
    if kernel is None:
        raise RuntimeError(f"{name.replace('_ex', '')}: Low precision dtypes not supported. "
                           f"Got {kind}")
    raise NotImplementedError(f'"{kernel}" not implemented for \'{kind}\'')


def matrices(name: str, A: Tensor, square: bool = True) -> Tensor:
    """`A` checked as PyTorch's linalg functions check it: a floating (batch of) matrices,
    square unless `square=False`, of a precision its CPU kernel takes."""
    if A.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{type_name(A.dtype)}")
    refuse_low_precision(name, A)
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    return A


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix in the last two dims."""
    return dispatch("linalg_det", matrices("linalg.det", A))


def slogdet(A: Tensor):
    """(sign, log |det|) of each square matrix: stable where det under- or overflows."""
    return _Slogdet(*dispatch("linalg_slogdet", matrices("linalg.slogdet", A)))


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix; a singular one raises LinAlgError."""
    return dispatch("linalg_inv", matrices("linalg.inv", A))


def _is_vector(A: Tensor, B: Tensor) -> bool:
    """PyTorch's rule: B is a (batch of) vector(s) when 1-D, or when its shape is A's
    without the last dim."""
    return B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (X A = B with `left=False`) for square A; B may be a vector."""
    matrices("linalg.solve", A)
    vector = _is_vector(A, B)
    rows = B.shape[-1] if vector else B.shape[-2 if left else -1]
    # NOTE: PyTorch has no right-hand vector case: X A = b with a vector b is refused
    if rows != A.shape[-1] or B.dtype != A.dtype or (vector and not left):
        if B.dtype != A.dtype:
            raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but "
                               f"found A of type {type_name(A.dtype)} and B of type "
                               f"{type_name(B.dtype)} instead")
        shape_b = f"{B.shape[-1]}x1" if vector else f"{B.shape[-2]}x{B.shape[-1]}"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{shape_b})")
    return dispatch("linalg_solve", A, B, left=bool(left), vector=vector and left)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """L (lower triangular) with A = L L^T for symmetric positive-definite A, or U = L^T
    with `upper=True`; only that triangle of A is read."""
    return dispatch("linalg_cholesky", matrices("linalg.cholesky", A), upper=bool(upper))


def qr(A: Tensor, mode: str = "reduced"):
    """(Q, R) with A = Q R: mode "reduced" (k = min(m, n) columns), "complete" or "r"
    (R only, Q empty)."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    return _QR(*dispatch("linalg_qr", matrices("linalg.qr", A, square=False), mode=mode))


def svd(A: Tensor, full_matrices: bool = True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh, singular values in descending order."""
    matrices("linalg.svd", A, square=False)
    return _SVD(*dispatch("linalg_svd", A, full_matrices=bool(full_matrices)))


def svdvals(A: Tensor, *, driver=None) -> Tensor:
    """The singular values of each matrix, in descending order."""
    return dispatch("linalg_svdvals", matrices("linalg.svdvals", A, square=False))


def _uplo(UPLO: str) -> bool:
    if UPLO not in ("L", "U", "l", "u"):   # PyTorch takes either case
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO in ("U", "u")


def eigh(A: Tensor, UPLO: str = "L"):
    """(eigenvalues ascending, eigenvectors as columns) of symmetric A; only the `UPLO`
    triangle is read."""
    matrices("linalg.eigh", A)
    return _Eigh(*dispatch("linalg_eigh", A, upper=_uplo(UPLO)))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues of symmetric A, ascending."""
    matrices("linalg.eigvalsh", A)
    return dispatch("linalg_eigh", A, upper=_uplo(UPLO))[0]


def check_right_side(name: str, A: Tensor, B: Tensor, left: bool) -> None:
    """PyTorch's errors for the right-hand side B of A X = B (X A = B with `left=False`):
    a matrix (or batch) whose rows (columns) match A's size."""
    if B.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    if (B.shape[-2] if left else B.shape[-1]) != A.shape[-1]:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} "
                           f"and {B.shape[-2]}x{B.shape[-1]})")


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """X with A X = B (X A = B with `left=False`) for triangular A (only the `upper` or
    lower triangle is read; `unitriangular` takes its diagonal as ones)."""
    matrices("linalg.solve_triangular", A)
    check_right_side("linalg.solve_triangular", A, B, left)
    return dispatch("linalg_solve_triangular", A, B, upper=bool(upper), left=bool(left),
                    unitriangular=bool(unitriangular))


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None):
    """The least-squares solution of A X = B: (solution, residuals, rank, singular_values)
    as PyTorch's CPU drivers return them. "gelsy" (the default), "gelsd" and "gelss" take
    singular values at or below rcond * largest as zero (rcond defaults to
    eps * max(m, n)) and report that rank; "gelsd"/"gelss" also return the singular values
    and, for full-rank tall A, the residuals; "gels" assumes full rank and returns the
    residuals only.

    NOTE: graphnet's "gelsy" takes the rank from the singular values, as "gelsd" does.
    PyTorch's gelsy takes it from a pivoted QR's R and solves that rank's problem, so with a
    user `rcond` and an A of lower rank by that cutoff the two can keep different ranks and
    return different solutions (a high-degree polynomial fit: rank 8 where PyTorch keeps 6).
    An eager call then warns; pass driver="gelsd" for the same answer in both. "gels" on a
    rank-deficient A returns the minimum-norm solution where PyTorch raises LinAlgError."""
    matrices("linalg.lstsq", A, square=False)
    if driver not in (None, "gelsy", "gelsd", "gelss", "gels"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of "
                           "(gels, gelsy, gelsd, gelss)")
    # a batch of vectors only when B is A's shape without its last dim, as in PyTorch (a
    # [1, 5] B for a [2, 5, 3] A is a matrix, which it refuses; it was read as vectors)
    vector = B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1])
    if not (0 <= A.dim() - B.dim() <= 1):
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to "
                           "other.dim() and (input.dim() - other.dim()) <= 1")
    rhs = L.unsqueeze(B, -1) if vector else B
    if rhs.shape[-2] != A.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-1)"
                           if vector else "torch.linalg.lstsq: input.size(-2) should match "
                           "other.size(-2)")
    rcond = None if rcond is None else float(rcond)
    solution = dispatch("linalg_lstsq", A, rhs, rcond=0.0 if driver == "gels" else rcond)
    m, n = A.shape[-2:]
    empty = fac.zeros(0, dtype=A.dtype)
    rank = empty.to(fac.tensor(0).dtype)
    values = empty
    if driver != "gels":
        rank = matrix_rank(A, rtol=rcond)
    if driver in (None, "gelsy") and rcond is not None and not tracing() and \
            bool(M.any(rank < min(m, n))):
        warnings.warn(f"linalg.lstsq: with rcond={rcond} A's rank by that cutoff is below "
                      f"min(m, n); graphnet's gelsy keeps the rank the singular values give "
                      f"(gelsd's rule), where PyTorch's gelsy takes it from a pivoted QR, so "
                      f"the solution may differ from PyTorch's. driver='gelsd' gives the same "
                      f"answer in both.", stacklevel=2)
    if driver in ("gelsd", "gelss"):
        values = svdvals(A).detach()
    residuals = empty
    if m > n and driver in ("gelsd", "gelss") and not isinstance(rank._value, jax.Array):
        raise TraceError(f"linalg.lstsq(driver={driver!r}) returns residuals only when every "
                         f"matrix has full rank, a shape that depends on the values; inside "
                         f"graphnet.compile use driver='gels' (residuals always) or the "
                         f"default 'gelsy' and compute (A @ X - B).pow(2).sum(-2) yourself")
    # NOTE: the rank is read only where residuals may be returned (a tall A): a square or
    # wide A's solution runs under graphnet.compile, whose rank has no value yet
    full_rank = m > n and (driver == "gels" or (driver in ("gelsd", "gelss") and
                                                bool(M.all(rank == min(m, n)))))
    if m > n and driver not in (None, "gelsy") and full_rank:
        residuals = M.sum((M.matmul(A, solution) - rhs) ** 2, -2)
    if vector:
        solution = L.squeeze(solution, -1)
    return _Lstsq(solution, residuals, rank, values)


def pinv(A: Tensor, rcond=None, hermitian: bool = False, *, atol=None, rtol=None) -> Tensor:
    """The Moore-Penrose pseudo-inverse, singular values at or below
    max(atol, rtol * largest) treated as zero (rtol defaults to eps * max(m, n)). `rcond`,
    PyTorch's older spelling, is rtol with atol 0 and cannot be combined with them."""
    matrices("linalg.pinv", A, square=False)
    if rcond is not None:
        if atol is not None or rtol is not None:
            raise TypeError("linalg_pinv() received an invalid combination of arguments: "
                            "rcond (the relative cutoff) cannot be given with atol or rtol; "
                            "pass rtol=rcond instead")
        atol, rtol = 0.0, rcond
    # NOTE: a tolerance may be a tensor (one per matrix): it goes to the op as an input
    return dispatch("linalg_pinv", A, 0.0 if atol is None else atol, rtol,
                    hermitian=bool(hermitian))


def cond(A: Tensor, p=None) -> Tensor:
    """The condition number of each matrix in the `p` norm: largest / smallest singular
    value for p None or 2 (smallest / largest for -2), else norm(A) * norm(inv(A)), inf for a
    singular matrix (its inverse taken as all inf, and 0 * inf read as inf), as PyTorch."""
    if A.dim() < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if not isinstance(p, str) and p is not None and float(p) not in (2, -2, 1, -1, math.inf,
                                                                     -math.inf):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    refuse_low_precision("linalg.svd" if p is None or p in (2, -2) else "linalg.inv", A)
    # PyTorch's order: a named norm ("fro", "nuc") wants square matrices, even empty ones
    matrices(f"linalg.cond(ord={p})" if isinstance(p, str) else "linalg.cond", A,
             square=isinstance(p, str))
    if A.shape[-1] == 0 or A.shape[-2] == 0:   # PyTorch's: 0 for each empty matrix, square
        return M.sum(M.abs(A), (-2, -1))       # or not
    if p is None or p in (2, -2):
        values = svdvals(A)
        big, small = values[..., 0], values[..., -1]
        return big / small if p != -2 else small / big
    matrices(f"linalg.cond(ord={p})", A)
    if p == "nuc":   # PyTorch's: from the singular values, no inverse
        values = svdvals(A)
        return M.sum(values, -1) * M.sum(M.reciprocal(values), -1)
    inverse, info = inv_ex(A)
    inverse = M.masked_fill(inverse, (info > 0)[..., None, None], math.inf)
    from ._math_pointwise import nan_to_num

    return nan_to_num(matrix_norm(A, p) * matrix_norm(inverse, p), math.inf, math.inf,
                      -math.inf)


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of `A` seen as a linear map from its last dims to its first `ind` dims:
    `tensordot(tensorinv(A, ind), A, ind)` is the identity."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    out_shape, in_shape = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    rows, cols = math.prod(out_shape), math.prod(in_shape)
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) "
                           f"== prod(self.shape[:ind]), but got {cols} != {rows}")
    return L.reshape(inv(L.reshape(A, rows, cols)), in_shape + out_shape)


def tensorsolve(A: Tensor, B: Tensor, dims=None) -> Tensor:
    """X with `tensordot(A, X, X.dim()) == B`; `dims` of A are moved to the end first."""
    if dims is not None:
        from ._shape_more import movedim
        dims = list(dims)
        A = movedim(A, dims, list(range(A.dim() - len(dims), A.dim())))
    result_shape = tuple(A.shape[B.dim():])
    rows, cols = B.numel(), math.prod(result_shape)
    if rows != cols or tuple(A.shape[:B.dim()]) != tuple(B.shape):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:"
                           f"]) == prod(self.shape[:other.ndim]), but got {cols} != {rows}")
    x = solve(L.reshape(A, rows, cols), L.reshape(B, rows))
    return L.reshape(x, result_shape)


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential e^A of each square matrix."""
    return dispatch("linalg_matrix_exp", matrices("linalg.matrix_exp", A))


__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "eig", "eigvals", "householder_product",
           "inv_ex", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "solve_ex", "cond", "cross",
           "det", "diagonal", "eigh", "eigvalsh", "inv", "lstsq", "matmul", "matrix_exp",
           "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr",
           "slogdet", "solve", "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve",
           "vander", "vecdot", "vector_norm"]


def _named_matrix_norm(input, ord: str, dim, keepdim: bool):
    """`torch.norm(x, p='nuc')` (or another name than 'fro'): `matrix_norm` over `dim`, all
    of a 2-D input's dims by default, with PyTorch's error for any other count."""
    dims = tuple(range(input.dim())) if dim is None else \
        (tuple(dim) if isinstance(dim, (list, tuple)) else (dim,))
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{' '.join(str(d) for d in dims)}")
    return matrix_norm(input, ord, dims, keepdim)


def __getattr__(name: str):
    """A missing name, with the reason and the alternative when it is refused on purpose
    (runtime/coverage_refused.py), e.g. `linalg.ldl_factor`."""
    from ._errors import missing_attribute

    raise missing_attribute("graphnet.linalg", "torch.linalg", name)
