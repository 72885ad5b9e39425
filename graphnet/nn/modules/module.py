"""`torch.nn.modules.module`'s names, for code that imports them from there: `Module` and
the hooks common to every module (`register_module_forward_hook` ...,
graphnet/nn/_global_hooks.py)."""

from __future__ import annotations

from .._global_hooks import (  # noqa: F401
    register_module_backward_hook, register_module_buffer_registration_hook,
    register_module_forward_hook, register_module_forward_pre_hook,
    register_module_full_backward_hook, register_module_full_backward_pre_hook,
    register_module_module_registration_hook, register_module_parameter_registration_hook,
)
from .._module import _IncompatibleKeys, _addindent  # noqa: F401
from ...autograd._hooks import RemovableHandle  # noqa: F401
from .. import (  # noqa: F401
    Module
)
