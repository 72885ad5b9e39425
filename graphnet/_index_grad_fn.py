"""PyTorch's grad_fn name for `x[index]`: graphnet records one `getitem` op, PyTorch one node
per step of the index (a select per integer, a slice per slice that does something, an
unsqueeze per None, then one IndexBackward0 for tensor indices), and `y.grad_fn` is the last.
`index_backward_name` names that last step, so `x[0].grad_fn.name()` is "SelectBackward0"."""

from __future__ import annotations

import numpy as np

from . import _autograd
from ._tensor import Tensor


def _is_integer(item) -> bool:
    """An index PyTorch reads as one integer (a select): a Python or NumPy integer, or a 0-d
    integer tensor or array; bool is not one (it adds a dimension and is a mask)."""
    if isinstance(item, (bool, np.bool_)):
        return False
    if isinstance(item, (int, np.integer)):
        return True
    if isinstance(item, np.ndarray):
        return item.ndim == 0 and item.dtype.kind in "iu"
    if isinstance(item, Tensor):
        return item.dim() == 0 and item.dtype.name != "bool" and \
            not (item.dtype.is_floating_point or item.dtype.is_complex)
    return False


def _full(item: slice, size) -> bool:
    """A slice inside a tuple index that PyTorch skips (no node): it takes the whole dim."""
    start, stop, step = item.start, item.stop, item.step
    return (start is None or int(start) == 0) and (step is None or int(step) == 1) and \
        (stop is None or (size is not None and int(stop) >= size))


def index_backward_name(index, shape: tuple) -> str:
    """The name of PyTorch's grad_fn of `x[index]` for `x` of shape `shape`."""
    if not isinstance(index, tuple):
        if isinstance(index, slice):   # a lone slice is always a node, even `x[:]`
            return "SliceBackward0"
        index = (index,)
    if not all(item is None or item is Ellipsis or isinstance(item, slice) or _is_integer(item)
               for item in index):
        return "IndexBackward0"   # tensor, list or bool indices: applied last, one node
    consumed = sum(1 for item in index if item is not None and item is not Ellipsis)
    dim, last = 0, "AliasBackward0"
    for item in index:
        if item is Ellipsis:
            dim += max(len(shape) - consumed, 0)
        elif item is None:
            last = "UnsqueezeBackward0"
        elif isinstance(item, slice):
            if not _full(item, shape[dim] if dim < len(shape) else None):
                last = "SliceBackward0"
            dim += 1
        else:
            last = "SelectBackward0"
            dim += 1
    return last


def name_index_node(out: Tensor, source: Tensor, index) -> None:
    """Give the `getitem` node that made `out = source[index]` PyTorch's name for it."""
    if out.grad_fn is not None and out is not source:
        _autograd.rename_node(out, index_backward_name(index, tuple(source.shape)), "getitem")
