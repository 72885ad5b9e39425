"""`skip_init`: build a module without spending time on its parameter init."""

from __future__ import annotations

import inspect

from .._module import Module

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """Instantiate `module_cls(*args, **kwargs)` with parameters the caller initializes.

    PyTorch builds the module on the meta device and allocates uninitialized memory, so the
    values are unspecified. graphnet has no meta device: it runs the module's usual init,
    which is one valid choice of unspecified values. The checks are PyTorch's.

    >>> layer = skip_init(nn.Linear, 4, 3); nn.init.orthogonal_(layer.weight)
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs.pop("device", None)
    return module_cls(*args, **kwargs)
