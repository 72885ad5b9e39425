"""`reversed(t)`: the tensor flipped along dimension 0, as PyTorch's `Tensor.__reversed__`
gives it (a tensor, not an iterator); a 0-d tensor is returned itself."""

from __future__ import annotations

from ._tensor import Tensor


def __reversed__(self: Tensor) -> Tensor:  # noqa: N807  (the protocol's name)
    """>>> reversed(graphnet.tensor([1, 2, 3]))
    tensor([3, 2, 1])"""
    if self.dim() == 0:
        return self
    return self.flip(0)


Tensor.__reversed__ = __reversed__
