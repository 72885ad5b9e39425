"""Grad-mode switches, under torch.autograd.grad_mode's names. The flags themselves live in
graphnet/_autograd.py, next to the tape that reads them."""

from __future__ import annotations

from .._autograd import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)

__all__ = ["enable_grad", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled",
           "no_grad", "set_grad_enabled", "set_multithreading_enabled",
           "is_multithreading_enabled", "enforce_grad_layout_policy"]


class _Accepted:
    """A PyTorch switch with nothing to switch here; callable, a context manager and a
    decorator like PyTorch's, recording only its flag."""

    flag = True

    def __init__(self, mode: bool = True):
        self.prev = type(self).flag
        type(self).flag = bool(mode)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        type(self).flag = self.prev

    def __call__(self, fn):
        return fn


class set_multithreading_enabled(_Accepted):
    """Accepted: graphnet's backward always runs on the calling thread."""


class enforce_grad_layout_policy(_Accepted):
    """Accepted: JAX arrays have no strides, so every `.grad` has its parameter's layout."""


def is_multithreading_enabled() -> bool:
    return set_multithreading_enabled.flag
