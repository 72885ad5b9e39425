"""`cat`, with PyTorch's rules for a legacy empty tensor (shape [0]) among the inputs: it
is skipped when the shapes are matched, yet its dtype counts and it gets its (empty)
gradient."""

from __future__ import annotations

from typing import Sequence

from ._dispatch import dispatch
from ._errors import type_name, wrap_dim
from ._tensor import Tensor


def _legacy_empty(x: Tensor) -> bool:
    return x.dim() == 1 and x.shape[0] == 0


def cat(tensors: Sequence[Tensor], dim: int = 0):
    tensors = list(tensors)
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):   # (a NumPy array met `x.dim()`: an AttributeError)
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type_name(x)}")
    ref = next((x for x in tensors if not _legacy_empty(x)), None)
    if ref is None or len(tensors) == 1:
        return dispatch("cat", *tensors, dim=dim)
    # NOTE: an empty piece shaped to fit (no elements either way) joins the op, so it gets
    # its gradient (dropped from the op before, its .grad stayed None)
    shape = list(ref.shape)
    shape[wrap_dim(dim, ref.dim())] = 0
    return dispatch("cat", *[x.reshape(shape) if _legacy_empty(x) else x for x in tensors],
                    dim=dim)
