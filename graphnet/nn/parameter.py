"""`torch.nn.parameter`: Parameter, Buffer and the lazy modules' uninitialized forms, for
code that imports them from there."""

from __future__ import annotations

from .._tensor import Parameter  # noqa: F401
from ._buffer import Buffer  # noqa: F401
from ._lazy import UninitializedBuffer, UninitializedParameter  # noqa: F401


def is_lazy(param) -> bool:
    """Whether `param` is a lazy module's parameter or buffer not yet given a shape."""
    return isinstance(param, (UninitializedParameter, UninitializedBuffer))
