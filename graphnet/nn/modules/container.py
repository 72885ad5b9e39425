"""`torch.nn.modules.container`'s names, for code that imports them from there."""

from __future__ import annotations

from .._module import _addindent  # noqa: F401
from .. import (  # noqa: F401
    Container, ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
)
