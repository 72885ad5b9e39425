"""`nn.Buffer`: PyTorch's marker for a tensor that a module attribute assignment registers as a
buffer (`self.mean = nn.Buffer(torch.zeros(3), persistent=False)`), as `register_buffer`
would. As in PyTorch the object is a plain Tensor carrying the marker, so it prints and
computes as one; `isinstance(t, nn.Buffer)` reads the marker."""

from __future__ import annotations

from .. import _factories
from .._tensor import Tensor


class _BufferMeta(type):
    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and instance.__dict__.get("_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """A tensor to be registered as a buffer when assigned to a Module attribute."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = _factories.empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer data must be a Tensor, got {type(data).__name__}")
        t = data.detach().requires_grad_(data.requires_grad)
        t.__dict__["persistent"] = persistent
        t.__dict__["_is_buffer"] = True
        return t
