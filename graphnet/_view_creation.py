"""How a view was made, where PyTorch forbids writing to it in place under autograd: a view
made under no_grad (its in-place write would be recorded against a history the view never
had), and one of the several views a split, chunk or unbind returns (one backward node serves
them all, so it cannot be rebased for one). A view of such a view inherits the rule.

Before, graphnet went on: a no_grad view written with grad on gave its elements a zero
gradient, neither of the two readings PyTorch refuses to choose between."""

from __future__ import annotations

import weakref

from . import _autograd

_NO_GRAD_WHY = (
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
    "your code by moving both the view and the inplace either both inside the no_grad block "
    "(if you don't want the inplace to be tracked) or both outside (if you want the inplace "
    "to be tracked).")
NO_GRAD_MESSAGE = ("A view was created in no_grad mode and is being modified inplace with grad "
                   "mode enabled. " + _NO_GRAD_WHY)
# PyTorch's words when the base (or another view of it) was written instead of the view: the
# same for both kinds of view, then the kind's reason
BASE_WRITTEN = ("A view was created in no_grad mode and its base or another view of its base "
                "has been modified inplace with grad mode enabled. ")


def note_creation(view, source) -> None:
    """Called for each new view of `source`: record the rule it falls under, if any."""
    inherited = source.__dict__.get("_creation")
    if inherited is not None:
        view.__dict__["_creation"] = inherited
    elif not _autograd.grad_mode.enabled:
        view.__dict__["_creation"] = (NO_GRAD_MESSAGE, weakref.ref(source),
                                      BASE_WRITTEN + _NO_GRAD_WHY)


def mark_multi_output(source, pieces, op: str) -> None:
    """`pieces`, the views `op` (Split, Unbind ...) made of `source` with grad mode on. As in
    PyTorch they are marked whether or not `source` needs grad: `R.unbind(0)[0].copy_(x)`
    with `x` needing grad is refused too."""
    if not _autograd.grad_mode.enabled:
        return
    why = ("This view is the output of a function that returns multiple views. Such functions "
           "do not allow the output views to be modified inplace. You should replace the "
           "inplace operation by an out-of-place one.")
    for i, piece in enumerate(pieces):
        if "_creation" not in piece.__dict__:
            piece.__dict__["_creation"] = (
                f"Output {i} of {op} is a view and is being modified inplace. {why}",
                weakref.ref(source), BASE_WRITTEN + why)


def check_write(view, result) -> None:
    """Before an in-place write of `result` into `view` with grad mode on: PyTorch's error
    when the write would be recorded (the view, its base or the new values need grad)."""
    message, source, _ = view.__dict__["_creation"]
    base = source()
    if view.requires_grad or result.requires_grad or (base is not None and base.requires_grad):
        raise RuntimeError(message)


def refused_after_base_write(view) -> bool:
    """`view`'s base (or another view of it) was just written in place under autograd. A view
    under one of the rules above cannot be rebased on that history: PyTorch refuses to use it
    from then on. graphnet gives it a grad_fn that raises PyTorch's error on backward, so a
    loss that reads it fails instead of getting a zero gradient. True when it did so."""
    creation = view.__dict__.get("_creation")
    if creation is None:
        return False
    view.grad_fn, view._oi = _autograd.refused_node(creation[2], view), 0
    view.requires_grad = True
    return True
