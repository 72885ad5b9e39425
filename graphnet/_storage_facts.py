"""What a PyTorch tensor says about its memory, for code that asks: `layout` (always
`graphnet.strided`), `itemsize`, `nbytes`, `data_ptr()` (equal for tensors that start at the
same place of one storage, as views, `.data` and `detach()` do), `is_sparse` and the other
kinds graphnet never makes (False), `is_pinned()`, `share_memory_()` / `is_shared()`,
the conjugate transposes `H` / `mH` (a transpose: graphnet has no complex dtypes), with
`mT`'s PyTorch rules for 0-D and 1-D tensors, and a view's `_base` / `_is_view()`.

`data_ptr()` is a made-up address: each storage gets its own range when first asked,
wide enough for its bytes, so pointers of different storages never meet."""

from __future__ import annotations

import math
import threading
import warnings

import jax

from . import _overlap
from ._tensor import Tensor


class layout:
    """A tensor memory layout; graphnet has one, `graphnet.strided`."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"graphnet.{self.name}"

    def __reduce__(self):
        return self.name


strided = layout("strided")
# PyTorch's sparse layouts, for code that compares a tensor's layout with them (`adj.layout
# in (torch.sparse_coo, torch.sparse_csr)`): no graphnet tensor has one
sparse_coo, sparse_csr, sparse_csc, sparse_bsr, sparse_bsc = (
    layout(name) for name in ("sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr",
                              "sparse_bsc"))

_ALIGN = 64
_next_address = [0x100000]
_lock = threading.Lock()


def _storage_address(owner: Tensor) -> int:
    found = owner.__dict__.get("_address")
    if found is None:
        size = math.prod(owner.shape) * owner.dtype.itemsize
        with _lock:    # the storage's whole range, rounded up to _ALIGN, plus one unit
            found = _next_address[0]
            _next_address[0] += (-(-size // _ALIGN) + 1) * _ALIGN
        owner.__dict__["_address"] = found
    return found


def data_ptr(self: Tensor) -> int:
    """The address of this tensor's first element (see the module docstring)."""
    owner = _overlap.owner(self)
    offset = 0 if owner is self else _overlap._layout(self)[1]
    return _storage_address(owner) + offset * self.dtype.itemsize


def _matrix_transposer(name: str):
    def transposed(self: Tensor) -> Tensor:
        if self.dim() == 0:
            warnings.warn(f"Tensor.{name} is deprecated on 0-D tensors. This function is the "
                          f"identity in these cases.", UserWarning, stacklevel=2)
            return self
        if self.dim() == 1:
            raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of "
                               f"matrices. Got 1-D tensor.")
        return self.transpose(-2, -1)
    return property(transposed)


def _conjugate_transpose(self: Tensor) -> Tensor:
    if self.dim() == 0:
        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return self
    if self.dim() != 2:
        hint = " For batches of matrices, consider using tensor.mH" if self.dim() > 2 else ""
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.dim()}-D tensor.{hint}")
    return self.t()


def share_memory_(self: Tensor) -> Tensor:
    """Marks the storage shared (graphnet's arrays are not process-local pages to move)."""
    _overlap.owner(self).__dict__["_shared"] = True
    return self


def pin_memory(self: Tensor, device=None) -> Tensor:
    """A copy, as PyTorch's page-locked one; PyTorch's error where there is no accelerator."""
    if jax.default_backend() == "cpu":
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return self.clone()


def _view_base(self: Tensor):
    """PyTorch's `_base`: the tensor a view shows (for a view of a view, the first one's);
    None for a tensor that is no view, `.data` and `detach()` included."""
    return self.__dict__.get("_view_base")


Tensor._base = property(_view_base)
Tensor._is_view = lambda self: "_view_base" in self.__dict__
Tensor.layout = property(lambda self: strided)
Tensor.itemsize = property(lambda self: self.dtype.itemsize)
Tensor.nbytes = property(lambda self: math.prod(self.shape) * self.dtype.itemsize)
Tensor.data_ptr = data_ptr
Tensor.H = property(_conjugate_transpose)
Tensor.mH = _matrix_transposer("mH")
Tensor.mT = _matrix_transposer("mT")
for _kind in ("is_sparse", "is_sparse_csr", "is_quantized", "is_nested", "is_mkldnn"):
    setattr(Tensor, _kind, property(lambda self: False))
Tensor.sparse_dim = lambda self: 0             # a dense tensor's, as in PyTorch
Tensor.dense_dim = lambda self: self.dim()
Tensor.is_pinned = lambda self, device=None: False
Tensor.share_memory_ = share_memory_
Tensor.is_shared = lambda self: bool(_overlap.owner(self).__dict__.get("_shared", False))
Tensor.pin_memory = pin_memory
