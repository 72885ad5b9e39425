"""`Variable`: PyTorch's deprecated wrapper, which now just returns a Tensor."""

from __future__ import annotations

from .._tensor import Tensor

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, other) -> bool:
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """`Variable(t, requires_grad=False)` returns a Tensor with `t`'s data (PyTorch 0.4+)."""

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        if data is None:
            from .._factories import tensor

            return tensor([], requires_grad=requires_grad)
        t = data.detach() if isinstance(data, Tensor) else Tensor(data)
        return t.requires_grad_(requires_grad) if requires_grad else t
