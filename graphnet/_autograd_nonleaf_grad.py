"""PyTorch's warning when `.grad` of a non-leaf tensor is read (Tensor.grad's getter)."""

from __future__ import annotations

import warnings

# PyTorch's words (the leading sentence is what code and tests match on)
MESSAGE = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information.")


def warn_nonleaf_grad(t) -> None:
    """Warn, as PyTorch does, that the non-leaf `t`'s `.grad` (None) is never filled, unless
    `t.retain_grad()` was called. Asked only when `.grad` is None and `t` is a non-leaf."""
    node = t.grad_fn
    hooks = node.hooks
    if hooks and t._oi in hooks:     # retain_grad() (graphnet/autograd/_hooks.py)
        ref = hooks[t._oi][1]
        if ref is not None and ref() is t:
            return
    warnings.warn(MESSAGE, UserWarning, stacklevel=3)
