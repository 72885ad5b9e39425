"""Writes through views whose elements share places: `expand`, `unfold` with `step < size`,
`as_strided` with repeated positions.

In PyTorch such a view shares its source's storage, so a write to part of it that has no
repeated place (`x.unfold(0, 2, 1)[0].fill_(-1)`, `x.expand(3, 4)[0].zero_()`) changes those
source elements and nothing else, and a write whose elements share a place (`w.add_(1)` on the
whole overlapping view) is refused for `expand` and undefined for the others (PyTorch's
documentation of `as_strided`). graphnet's views are copies that write back: writing the
whole overlapping view back let one window's old values overwrite another window's new ones
(`a.unfold(0, 2, 1)[0].fill_(-1)` set `a[0]` but left `a[1]`), in both modes.

So such a view writes back only the elements the write reached: `check_write` (called by
`Tensor._assign` before anything changes) follows the written tensor up to each overlapping
view through the views' own `forward` functions, on element numbers, and refuses the write,
with PyTorch's error for `expand`, when two written elements share a place; `_write_back`
then puts just those elements into the source. Element numbers come from the view chain's
shapes, never from values, so a compiled call does the same as eager."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    from ._tensor import Tensor

MESSAGE = ("unsupported operation: more than one element of the written-to tensor refers to a "
           "single memory location. Please clone() the tensor before performing the operation.")

# id of an overlapping view -> the numbers of its elements the write on its way reaches
_REACHED: dict = {}
# depth of `uniform_write()` blocks: a write of one value everywhere (`fill_`, `zero_`) may
# reach a place twice, as PyTorch allows (`x[:, :1].expand(3, 4).fill_(7)`)
_UNIFORM: list = []


@contextlib.contextmanager
def uniform_write():
    """Inside, a write to an overlapping view puts one value in every place it reaches, so
    two elements sharing a place are no conflict."""
    _UNIFORM.append(True)
    try:
        yield
    finally:
        _UNIFORM.pop()


def overlap_view(out: Tensor, source: Tensor, positions: Callable[[], np.ndarray],
                 forward: Callable) -> Tensor:
    """Make `out` a view of `source` whose elements share places: element `i` shows
    `source`'s flat element `positions().flat[i]` (computed when a write needs it)."""
    from . import _layout as L

    out.__dict__["_overlap_index"] = positions
    return L._view_of(out, source, lambda new: _write_back(out, source, new), forward)


def under_overlap(view: Tensor, source: Tensor, forward: Callable) -> None:
    """`_view_of`: `view` of `source` lives in an overlapping view's elements (or is one); keep
    the way back up so that `check_write` can follow a write to it."""
    if "_overlap_index" in source.__dict__ or "_over" in source.__dict__ \
            or "_overlap_index" in view.__dict__:
        view.__dict__.update(_over=True, _view_source=source, _view_forward=forward)


def check_write(t: Tensor) -> None:
    """Before an in-place write to `t` (Tensor._assign): find, for each overlapping view above
    `t`, which of its elements the write reaches, and refuse the write when two of them share
    a place in that view's source."""
    from . import _autograd, _mode
    from ._factories import tensor

    _REACHED.clear()
    saved, _mode._stack.modes = _mode._stack.modes, []   # element numbers: eager, untraced
    try:
        with _autograd.no_grad():
            numbers = np.arange(t.numel())   # t's elements, as numbers of `node`'s elements
            node = t
            while "_view_source" in node.__dict__:
                parent = node.__dict__["_view_source"]
                positions = node.__dict__.get("_overlap_index")
                if positions is not None:
                    _REACHED[id(node)] = numbers
                    numbers = _flat(positions)[numbers]
                    if not _UNIFORM and np.unique(numbers).size < numbers.size:
                        raise RuntimeError(MESSAGE)
                else:
                    whole = tensor(np.arange(parent.numel()).reshape(tuple(parent.shape)))
                    seen = node.__dict__["_view_forward"](whole)
                    numbers = np.asarray(seen._value).reshape(-1)[numbers]
                node = parent
    finally:
        _mode._stack.modes = saved


def _flat(positions: Callable[[], np.ndarray]) -> np.ndarray:
    return np.asarray(positions(), np.int64).reshape(-1)


def _write_back(view: Tensor, source: Tensor, new: Tensor) -> Tensor:
    """`source` with the elements of `view` the write reached (check_write) set to their new
    values; the view's other elements, which may hold old values of shared places, are left."""
    from ._dispatch import dispatch
    from ._factories import tensor

    index = _flat(view.__dict__["_overlap_index"])
    reached = _REACHED.pop(id(view), None)
    if reached is None:   # not announced by check_write: the whole view was written
        reached = np.arange(index.size)
        if not _UNIFORM and np.unique(index).size < index.size:
            raise RuntimeError(MESSAGE)
    values = dispatch("take", new.to(source.dtype), tensor(reached))
    return dispatch("put", source, tensor(index[reached]), values)
