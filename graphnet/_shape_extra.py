"""More shape, contraction and linear-algebra functions as PyTorch spells them, gathered
into graphnet's namespace (its `__all__` is star-imported by graphnet/__init__.py) and
attached as Tensor methods.

Where each family lives:
  _shape_more.py        movedim, swapaxes, atleast_*d, h/v/dstack, tensor_split, unflatten,
                        select, broadcast_*, flips, rot90, tile, meshgrid
  _diagonals.py         diag, diagonal, diag_embed, diagflat, *_scatter, fill_diagonal_,
                        tril/triu_indices, block_diag
  _index_extra.py       take, put, index_put, repeat_interleave, unfold, unravel_index,
                        combinations, cartesian_prod
  _contractions.py      addmm, baddbmm, addmv, addr, outer, dot, inner, kron, cross,
                        tensordot, chain_matmul, matrix_power
  _sums_of_products.py  trapezoid, cumulative_trapezoid, vander, cov, corrcoef
  _linalg_torch.py      det, logdet, inverse, svd, qr, cholesky_solve, triangular_solve ...
  _tensor_layout.py     stride, is_contiguous, sum_to_size, resize_, new_* methods
  linalg.py             the graphnet.linalg namespace

>>> import graphnet as torch
>>> torch.arange(6).reshape(2, 3).movedim(0, 1).shape
graphnet.Size([3, 2])
"""

from __future__ import annotations

from ._overlap import inplace as _inplace
from . import _contractions as C
from . import _diagonals as D
from . import _index_extra as X
from . import _layout as L
from . import _linalg_torch as T
from . import _shape_more as S
from . import _strided as ST
from . import _sums_of_products as P
from . import _tensor_layout as TL
from ._contractions import *  # noqa: F401,F403
from ._diagonals import *  # noqa: F401,F403
from ._index_extra import *  # noqa: F401,F403
from ._linalg_torch import *  # noqa: F401,F403
from ._shape_more import *  # noqa: F401,F403
from ._strided import *  # noqa: F401,F403
from ._sums_of_products import *  # noqa: F401,F403
from ._tensor_layout import adjoint, resize_as_  # noqa: F401
from ._tensor import Tensor


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """`narrow` (graphnet's results never share storage, so it is a copy already)."""
    return L.narrow(input, dim, start, length)


def _slice_copy(input: Tensor, dim: int = 0, start=None, end=None, step: int = 1) -> Tensor:
    dim = S.wrap_dim(dim, input.dim())
    return input[(slice(None),) * dim + (slice(start, end, step),)]


def _view_copy(input: Tensor, *size) -> Tensor:
    return L.reshape(input, *size)


# torch.X_copy: the out-of-place twin of a view function. graphnet has no views, so each
# is the function itself (alias_copy and detach_copy copy).
_COPIES = {
    "alias_copy": lambda input: input.clone(), "detach_copy": lambda input: input.detach(),
    "expand_copy": lambda input, size, *, implicit=False: S.broadcast_to(input, size),
    "permute_copy": L.permute, "select_copy": S.select, "slice_copy": _slice_copy,
    "split_copy": L.split, "split_with_sizes_copy": S.split_with_sizes,
    "squeeze_copy": L.squeeze, "t_copy": L.t, "transpose_copy": L.transpose,
    "unbind_copy": L.unbind, "unfold_copy": X.unfold, "unsqueeze_copy": L.unsqueeze,
    "view_copy": _view_copy,
}
globals().update(_COPIES)


def addmv_(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """`addmv` written into `input`."""
    return input._assign(C.addmv(input, mat, vec, beta=beta, alpha=alpha))


# PyTorch's unsafe_* skip its view-aliasing bookkeeping; graphnet has none to skip.
unsafe_chunk, unsafe_split, unsafe_split_with_sizes = L.chunk, L.split, S.split_with_sizes


_METHODS = {
    "movedim": S.movedim, "moveaxis": S.moveaxis, "swapaxes": S.swapaxes,
    # NOTE: transpose_ itself, which keeps the tensor's view ties and strides (a rebinding
    # dropped them: `y = x.view(-1); x.swapdims_(0, 1); x[0].fill_(1)` left y unchanged)
    "swapdims": S.swapdims, "swapaxes_": lambda self, axis0, axis1: self.transpose_(axis0, axis1),
    "swapdims_": lambda self, dim0, dim1: self.transpose_(dim0, dim1),
    "tensor_split": S.tensor_split, "hsplit": S.hsplit,
    "vsplit": S.vsplit, "dsplit": S.dsplit, "split_with_sizes": S.split_with_sizes,
    "unflatten": S.unflatten, "select": S.select, "ravel": S.ravel,
    "fliplr": S.fliplr, "flipud": S.flipud, "rot90": S.rot90, "narrow_copy": narrow_copy,
    "diag": D.diag, "diagonal": D.diagonal, "diag_embed": D.diag_embed,
    "diagflat": D.diagflat, "diagonal_scatter": D.diagonal_scatter,
    "select_scatter": D.select_scatter, "slice_scatter": D.slice_scatter,
    "fill_diagonal_": D.fill_diagonal_,
    "take": X.take, "put": X.put, "put_": X.put_, "index_put": X.index_put,
    "index_put_": X.index_put_, "repeat_interleave": X.repeat_interleave, "unfold": X.unfold,
    "mm": C.mm, "bmm": C.bmm, "mv": C.mv,
    "addmm": C.addmm, "addbmm": C.addbmm, "baddbmm": C.baddbmm, "addmv": C.addmv,
    "addr": C.addr, "outer": C.outer, "ger": C.ger, "dot": C.dot, "vdot": C.vdot,
    "inner": C.inner, "kron": C.kron, "cross": C.cross, "matrix_power": C.matrix_power,
    "cov": P.cov, "corrcoef": P.corrcoef,
    "tril_": _inplace(L.tril), "triu_": _inplace(L.triu), "unsafe_chunk": L.chunk,
    "unsafe_split": L.split, "unsafe_split_with_sizes": S.split_with_sizes,
    **T.METHODS, **TL.METHODS, **ST.METHODS,
}
for _name in ("addmm", "addbmm", "baddbmm", "addmv", "addr"):
    _METHODS[_name + "_"] = _inplace(_METHODS[_name])

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

__all__ = (C.__all__ + D.__all__ + X.__all__ + T.__all__ + S.__all__ + P.__all__ +
           ST.__all__ + ["narrow_copy", "addmv_", "adjoint", "resize_as_", "unsafe_chunk",
                         "unsafe_split", "unsafe_split_with_sizes"] + list(_COPIES))
