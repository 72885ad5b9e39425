"""How a view was made, where PyTorch forbids writing to it in place under autograd: a view
made under no_grad (its in-place write would be recorded against a history the view never
had), and one of the several views a split, chunk or unbind returns (one backward node serves
them all, so it cannot be rebased for one). A view of such a view inherits the rule.

Before, graphnet went on: a no_grad view written with grad on gave its elements a zero
gradient, neither of the two readings PyTorch refuses to choose between."""

from __future__ import annotations

import weakref

from . import _autograd

NO_GRAD_MESSAGE = (
    "A view was created in no_grad mode and is being modified inplace with grad mode "
    "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can "
    "clarify your code by moving both the view and the inplace either both inside the "
    "no_grad block (if you don't want the inplace to be tracked) or both outside (if you "
    "want the inplace to be tracked).")


def note_creation(view, source) -> None:
    """Called for each new view of `source`: record the rule it falls under, if any."""
    inherited = source.__dict__.get("_creation")
    if inherited is not None:
        view.__dict__["_creation"] = inherited
    elif not _autograd.grad_mode.enabled:
        view.__dict__["_creation"] = (NO_GRAD_MESSAGE, weakref.ref(source))


def mark_multi_output(source, pieces, op: str) -> None:
    """`pieces`, the views `op` (Split, Unbind ...) made of `source` under autograd."""
    if not (_autograd.grad_mode.enabled and source.requires_grad):
        return
    for i, piece in enumerate(pieces):
        if "_creation" not in piece.__dict__:
            piece.__dict__["_creation"] = (
                f"Output {i} of {op} is a view and is being modified inplace. This view is the "
                f"output of a function that returns multiple views. Such functions do not "
                f"allow the output views to be modified inplace. You should replace the "
                f"inplace operation by an out-of-place one.", weakref.ref(source))


def check_write(view, result) -> None:
    """Before an in-place write of `result` into `view` with grad mode on: PyTorch's error
    when the write would be recorded (the view, its base or the new values need grad)."""
    message, source = view.__dict__["_creation"]
    base = source()
    if view.requires_grad or result.requires_grad or (base is not None and base.requires_grad):
        raise RuntimeError(message)
