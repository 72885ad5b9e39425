"""torch.linalg's LU family: `lu_factor`, `lu_factor_ex`, `lu`, `lu_solve`, `solve_ex`,
`inv_ex`, and the top-level `torch.lu`, `torch.lu_unpack`, `torch.lu_solve`.

One op factors (`linalg_lu_factor_ex`: LAPACK's getrf with partial pivoting, in both
libraries, so the pivots agree), one turns pivots into a permutation; everything else is
written with graphnet's own ops (triangles, triangular solves, a row gather), so gradients
are autodiff's and agree with PyTorch's. `solve_ex` and `inv_ex` never raise for a singular
matrix unless `check_errors=True`: like PyTorch they return `info` (the 1-based position of
the first zero pivot) and the solution the triangular solves give (infinities where a pivot
is zero, as LAPACK's getrs gives).

>>> import graphnet as torch
>>> LU, pivots = torch.linalg.lu_factor(torch.tensor([[1., 2.], [3., 4.]]))
>>> torch.linalg.lu_solve(LU, pivots, torch.tensor([[1.], [1.]]))
tensor([[-1.0000],
        [ 1.0000]])
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from . import _factories as fac
from . import _layout as L
from . import _math as M
from ._dispatch import dispatch
from ._ops._table import MATRIX_VALUES, ValueCheck, defop
from ._ops.linalg import LinAlgError
from ._tensor import Tensor
from .return_types import return_type
from ._autocast import autocast_as

_LUFactor = return_type("linalg_lu_factor", ["LU", "pivots"])
_LUFactorEx = return_type("linalg_lu_factor_ex", ["LU", "pivots", "info"])
_LU = return_type("linalg_lu", ["P", "L", "U"])
_LUUnpack = return_type("lu_unpack", ["P", "L", "U"])
_SolveEx = return_type("linalg_solve_ex", ["result", "info"])
_InvEx = return_type("linalg_inv_ex", ["inverse", "info"])
_LUWithInfo = return_type("_lu_with_info", ["LU", "pivots", "info"])


def _info(lu):
    """Per matrix: the 1-based position of the first zero on U's diagonal, else 0 (getrf's
    info)."""
    zero = jnp.diagonal(lu, axis1=-2, axis2=-1) == 0
    if zero.shape[-1] == 0:
        return jnp.zeros(zero.shape[:-1], jnp.int32)
    return jnp.where(zero.any(-1), jnp.argmax(zero, -1) + 1, 0).astype(jnp.int32)


def _first_singular(a, *, check, **_):
    """(bad, (batch element, position)): a zero pivot, looked for only when `check` names the
    function that must raise."""
    if not check or a.size == 0:
        return False, (0, 0)
    info = _info(jax.lax.linalg.lu(a)[0]).reshape(-1)
    batch = jnp.argmax(info > 0)
    return (info > 0).any(), (batch, info[batch])


def _singular_error(facts, *, check, **_):
    position = int(facts[1])
    if check in ("torch.linalg.lu_factor", "torch.linalg.lu_factor_ex"):
        return RuntimeError(f"{check}: U[{position},{position}] is zero and using it on "
                            f"lu_solve would result in a division by zero. If you still want "
                            f"to perform the factorization, consider calling "
                            f"linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    if check == "linalg.inv_ex":
        return LinAlgError(f"linalg.inv_ex: The diagonal element {position} is zero, the "
                           f"inversion could not be completed because the input matrix is "
                           f"singular.")
    return LinAlgError(f"{check}: The solver failed because the input matrix is singular.")


@defop("linalg_lu_factor_ex", "opaque", n_outputs=3, function=None, method=None,
       backward="LinalgLuFactorExBackward0",
       check=ValueCheck(_first_singular, _singular_error, values_from=0,
                        when=lambda check, **_: check is not None, reads=MATRIX_VALUES))
def linalg_lu_factor_ex(a, *, check=None):
    """(LU packed, 1-based int32 pivots, int32 info), as LAPACK's getrf returns them."""
    lu, pivots, _ = jax.lax.linalg.lu(a)
    return lu, (pivots + 1).astype(jnp.int32), _info(lu)


@defop("lu_pivots_to_permutation", "opaque", n_outputs=2, differentiable=False,
       function=None, method=None)
def lu_pivots_to_permutation(pivots, *, rows):
    """(perm, inverse): A[perm] = L U, so P = I[perm].T and P^T B = B[perm]."""
    perm = jax.lax.linalg.lu_pivots_to_permutation(pivots.astype(jnp.int32) - 1, rows)
    return perm.astype(jnp.int64), jnp.argsort(perm).astype(jnp.int64)


def _square_floats(name: str, A: Tensor, square: bool = True) -> Tensor:
    from .linalg import matrices
    return matrices(name, A, square)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False):
    """(LU, pivots, info): A = P L U packed in one matrix (L's unit diagonal left out),
    getrf's 1-based pivots and info (0, or the position of the first zero pivot)."""
    return _LUFactorEx(*_factor("torch.linalg.lu_factor_ex", A, pivot,
                                "torch.linalg.lu_factor_ex" if check_errors else None))


def _factor(name: str, A: Tensor, pivot: bool, check):
    _square_floats(name.replace("torch.", ""), A, square=False)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the "
                           "CPU")
    return dispatch("linalg_lu_factor_ex", A, check=check)


def lu_factor(A: Tensor, *, pivot: bool = True):
    """(LU, pivots) of `lu_factor_ex`; a singular matrix raises, as in PyTorch."""
    LU, pivots, _ = _factor("torch.linalg.lu_factor", A, pivot, "torch.linalg.lu_factor")
    return _LUFactor(LU, pivots)


def _permutation(pivots: Tensor, rows: int):
    return dispatch("lu_pivots_to_permutation", pivots, rows=int(rows))


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True):
    """(P, L, U) from `lu_factor`'s packed result: A = P @ L @ U, L unit lower triangular
    (m x k), U upper triangular (k x n), k = min(m, n); a part not unpacked is empty."""
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    empty = fac.zeros(0, dtype=LU_data.dtype)
    P = lower = upper = empty
    if unpack_data:
        lower = M.tril(LU_data[..., :, :k], -1) + fac.eye(m, k, dtype=LU_data.dtype)
        upper = M.triu(LU_data[..., :k, :])
    if unpack_pivots:
        perm, _ = _permutation(LU_pivots, m)
        P = L.transpose(_rows(fac.eye(m, dtype=LU_data.dtype), perm), -2, -1)
    return _LUUnpack(P, lower, upper)


def lu(A: Tensor, *, pivot: bool = True):
    """(P, L, U) with A = P @ L @ U (P a permutation, L unit lower, U upper triangular);
    never raises for a singular matrix."""
    LU, pivots, _ = _factor("torch.linalg.lu", A, pivot, None)
    return _LU(*lu_unpack(LU, pivots))


def _rows(B: Tensor, order: Tensor) -> Tensor:
    """B's rows taken in `order` (a batch of orders broadcasts against B's batch)."""
    batch = np.broadcast_shapes(tuple(B.shape[:-2]), tuple(order.shape[:-1]))
    B = B.expand(*batch, *B.shape[-2:])
    order = order.expand(*batch, order.shape[-1])
    # a permutation lu_pivots_to_permutation made: in range, so no check (_ops/scatter.py)
    return dispatch("take_along_dim", B, L.unsqueeze(order, -1), dim=B.dim() - 2,
                    permutation=True)


def _lu_solved(LU: Tensor, pivots: Tensor, B: Tensor, left: bool, adjoint: bool) -> Tensor:
    perm, inverse = _permutation(pivots, LU.shape[-1])
    from .linalg import solve_triangular as tri
    if left and not adjoint:        # P L U X = B
        y = tri(LU, _rows(B, perm), upper=False, unitriangular=True)
        return tri(LU, y, upper=True)
    if left:                        # U^T L^T P^T X = B
        y = tri(L.transpose(LU, -2, -1), B, upper=False)
        y = tri(L.transpose(LU, -2, -1), y, upper=True, unitriangular=True)
        return _rows(y, inverse)
    flip = lambda t: L.transpose(t, -2, -1)   # noqa: E731  (X A = B is A^T X^T = B^T)
    return flip(_lu_solved(LU, pivots, flip(B), True, not adjoint))


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
             adjoint: bool = False) -> Tensor:
    """X with A X = B (X A = B with `left=False`; A^T in place of A with `adjoint=True`),
    A given by `lu_factor`'s (LU, pivots)."""
    _square_floats("linalg.lu_solve", LU)
    from .linalg import check_right_side     # NOTE: graphnet.linalg imports this module

    check_right_side("linalg.lu_solve", LU, B, left)
    if B.dtype != LU.dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but "
                           f"found LU of type {LU.dtype} and B of type {B.dtype} instead")
    return _lu_solved(LU, pivots, B, bool(left), bool(adjoint))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False):
    """(result, info): `linalg.solve` that reports a singular matrix in `info` (the position
    of its first zero pivot) instead of raising, unless `check_errors=True`."""
    from .linalg import _is_vector
    _square_floats("linalg.solve_ex", A)
    vector = _is_vector(A, B)       # PyTorch's rule; B is then a column, even for X A = B
    rhs = L.unsqueeze(B, -1) if vector else B
    if B.dtype != A.dtype or rhs.dim() < 2:
        from .linalg import solve
        solve(A, B, left=left)      # raises PyTorch's error for these arguments
    if (rhs.shape[-2] if left else rhs.shape[-1]) != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{rhs.shape[-2]}x{rhs.shape[-1]})")
    LU, pivots, info = dispatch("linalg_lu_factor_ex", A,
                                check="torch.linalg.solve_ex" if check_errors else None)
    X = _lu_solved(LU, pivots, rhs, bool(left), False)
    return _SolveEx(L.squeeze(X, -1) if vector else X, info)


@autocast_as("float32")   # PyTorch's CPU autocast list
def inv_ex(A: Tensor, *, check_errors: bool = False):
    """(inverse, info): `linalg.inv` that reports a singular matrix in `info` instead of
    raising, unless `check_errors=True`."""
    _square_floats("linalg.inv_ex", A)
    LU, pivots, info = dispatch("linalg_lu_factor_ex", A,
                                check="linalg.inv_ex" if check_errors else None)
    eye = fac.eye(A.shape[-1], dtype=A.dtype)
    return _InvEx(_lu_solved(LU, pivots, eye, True, False), info)


def torch_lu(A: Tensor, pivot: bool = True, get_infos: bool = False):
    """The deprecated `torch.lu`: (LU, pivots), and info with `get_infos=True` (without it
    a singular matrix raises)."""
    LU, pivots, info = _factor("torch.linalg.lu_factor_ex", A, pivot,
                               None if get_infos else "torch.linalg.lu_factor_ex")
    return _LUWithInfo(LU, pivots, info) if get_infos else (LU, pivots)


def torch_lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """The deprecated `torch.lu_solve(b, LU, pivots)`: `linalg.lu_solve(LU, pivots, b)`."""
    return lu_solve(LU_data, LU_pivots, b)


Tensor.lu = torch_lu
Tensor.lu_solve = torch_lu_solve
