"""`graphnet.optim.optimizer`, as `torch.optim.optimizer`: the Optimizer base class, the
`required` marker, the global step hooks, and the helpers and type names hand-written
optimizers import from there (`ParamsT`, `_use_grad_for_differentiable`, `_get_value` ...)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, TypeAlias

from .._tensor import Tensor
from ._hooks import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from ._optimizer import Optimizer, required

__all__ = ["Optimizer", "register_optimizer_step_post_hook",
           "register_optimizer_step_pre_hook", "required"]

ParamsT: TypeAlias = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]
StateDict: TypeAlias = dict[str, Any]

_params_doc = "params (iterable): iterable of parameters or named_parameters to optimize " \
              "or iterable of dicts defining parameter groups."
_foreach_doc = "foreach (bool, optional): accepted; graphnet runs each group as one op."
_fused_doc = "fused (bool, optional): accepted; graphnet runs each group as one op."
_capturable_doc = "capturable (bool, optional): accepted (no CUDA graphs in graphnet)."
_differentiable_doc = "differentiable (bool, optional): whether autograd records the step."
_maximize_doc = "maximize (bool, optional): maximize the objective with respect to the " \
                "params, instead of minimizing (default: False)"


def _compiling() -> bool:
    from .._mode import tracing

    return tracing()


def _use_grad_for_differentiable(func):
    """A `step` decorator: the step runs with grad mode set to the optimizer's
    `differentiable` default (off unless asked), then restores it, as PyTorch's does."""
    from .._grad_mode import is_grad_enabled, set_grad_enabled

    @functools.wraps(func)
    def _use_grad(self, *args, **kwargs):
        previous = is_grad_enabled()
        try:
            set_grad_enabled(bool(self.defaults.get("differentiable", False)))
            return func(self, *args, **kwargs)
        finally:
            set_grad_enabled(previous)

    return _use_grad


def _get_value(x):
    """A step count as a Python number (`.item()`), except inside a compiled function, where
    the tensor itself stays (reading it would tie the program to its value)."""
    if isinstance(x, Tensor) and not _compiling():
        return x.item()
    return x


def _get_scalar_dtype(is_fused=None):
    """The dtype of an optimizer's 0-d state (a step count): float64 under a float64
    default dtype, else float32 (always float32 for a fused step)."""
    from .. import _dtype as dt
    from .._default_dtype import default_float

    if is_fused:
        return dt.float32
    return dt.float64 if default_float() == dt.float64 else dt.float32


def _default_to_fused_or_foreach(params, differentiable: bool, use_fused: bool = False):
    """(fused, foreach) as PyTorch picks them for CPU tensors: fused only when asked (and
    every parameter floating), no foreach kernels; nothing for a differentiable step."""
    if differentiable:
        return False, False
    fused = bool(use_fused) and all(p is None or p.is_floating_point() for p in params)
    return fused, False


def _to_scalar(x):
    """A hyperparameter given as a one-element tensor of any rank, as a 0-d tensor."""
    if isinstance(x, Tensor) and x.dim() != 0:
        return x.squeeze()
    return x


def _stack_if_compiling(x):
    """`stack(x)` inside a compiled function, the list itself otherwise."""
    if _compiling():
        from .._layout import stack

        return stack(x)
    return x
