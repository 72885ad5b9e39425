"""What eager `Function.apply` hands back: the forward's outputs, given the call's node.

As in PyTorch, an output is a new tensor whose grad_fn is the Function's node, except an
input the forward wrote in place and marked dirty (`ctx.mark_dirty`): that tensor itself is
returned, re-based onto the node (`z is h`, and `h`'s gradient now flows through the user's
backward). A tensor the forward both saved and returned is, when the backward reads it, that
output with its grad_fn (`SavedOutput`), so a double backward differentiates through the
Function again, as PyTorch's docs' `Exp` example needs."""

from __future__ import annotations

import weakref

from .. import _autograd
from .. import _autograd_versions as _versions
from .._autograd import TapeNode
from .._mode import tracing
from .._tensor import Tensor

LEAF_DIRTY = "a leaf Variable that requires grad has been used in an in-place operation."
DIRTY_NOT_RETURNED = ("Some elements marked as dirty during the forward method were not "
                      "returned as output. The inputs that are modified inplace must all be "
                      "outputs of the Function.")


class SavedOutput:
    """An output the forward saved with `ctx.save_for_backward`. NOTE: held weakly: the
    output holds the node, which holds the ctx, and a strong reference back would make a
    cycle that keeps device arrays alive until the garbage collector runs. When the output
    tensor is gone, unpacking makes it again from its value and the node, as PyTorch's
    SavedVariable does."""

    __slots__ = ("tensor", "value", "node", "index", "version")

    def __init__(self, output: Tensor, node):
        self.tensor = weakref.ref(output)
        self.value = output._value
        self.node = weakref.ref(node)
        self.index = output._oi
        self.version = _versions.version(output)

    def unpack(self) -> Tensor:
        t = self.tensor()
        if t is None:
            return Tensor._wrap(self.value, self.node(), self.index)
        if _versions.version(t) != self.version:   # `y.mul_(2)` before backward()
            raise _versions._modified_error_at(t, self.version, "this custom Function")
        return t


def unpack(saved: tuple) -> tuple:
    return tuple(t.unpack() if isinstance(t, SavedOutput) else t for t in saved)


def refuse_bad_dirty(ctx, args, outs, record: bool) -> None:
    """PyTorch's errors for `ctx.mark_dirty`: a dirty tensor must be returned, and a leaf
    that requires grad cannot be written in place while the call is recorded."""
    returned = {id(o) for o in outs}
    if any(id(t) not in returned for t in ctx.dirty):
        raise RuntimeError(DIRTY_NOT_RETURNED)
    if record:
        for t in ctx.dirty:
            if isinstance(t, Tensor) and t.requires_grad and t.grad_fn is None:
                raise RuntimeError(LEAF_DIRTY)


def wrap_outputs(cls, ctx, args, output, record: bool):
    single = not isinstance(output, tuple)
    outs = (output,) if single else output
    refuse_bad_dirty(ctx, args, outs, record)
    input_ids = {id(a) for a in args if isinstance(a, Tensor)}
    dirty = {id(t) for t in ctx.dirty}
    if not record:
        results = [tie_view(cls, Tensor._wrap(o._value), o, i) if isinstance(o, Tensor)
                   and id(o) in input_ids and id(o) not in dirty else o
                   for i, o in enumerate(outs)]
        return results[0] if single else tuple(results)
    nondiff = {id(t) for t in ctx.non_differentiable}
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    # NOTE: taken before a dirty input is re-based: its edge is the history it had
    edges = [(a.grad_fn, a._oi) if a.grad_fn is not None else (a, None)
             for a in (args[i] for i in positions)]
    avals = [(o._value.shape, o._value.dtype) if isinstance(o, Tensor) else (None, None)
             for o in outs]
    in_avals = [(args[i]._value.shape, args[i]._value.dtype) for i in positions]
    node = cls._backward_cls(cls, ctx, edges, positions, len(args), avals, in_avals)
    results, made = [], {}     # made: id(forward's output) -> the tensor handed back
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            results.append(o)
            continue
        differentiable = id(o) not in nondiff and o._value.dtype in _autograd.GRAD_DTYPES
        if id(o) in dirty:
            result = _rebase(o, node if differentiable else None, i)
        else:
            result = Tensor._wrap(o._value, node if differentiable else None, i)
            if id(o) in input_ids or "_view" in o.__dict__:
                tie_view(cls, result, o, i)
        if differentiable and (id(o) not in input_ids or id(o) in dirty):
            made[id(o)] = result
        results.append(result)
    if made:
        ctx.to_save = tuple(SavedOutput(made[id(t)], node) if id(t) in made else t
                            for t in ctx.to_save)
        ctx._saved_at = tuple((t, v) for t, v in ctx._saved_at if id(t) not in made)
    return results[0] if single else tuple(results)


def _rebase(t: Tensor, node, index: int) -> Tensor:
    """An input the forward wrote in place and marked dirty: the same tensor, whose history
    is now the Function's node (its values already are the forward's)."""
    if "_storage" in t.__dict__ and node is not None:
        raise dirty_view_error()
    if node is not None:
        t.grad_fn, t._oi, t.requires_grad = node, index, True
    return t


def dirty_view_error() -> RuntimeError:
    # NOTE: PyTorch re-bases the view's base too (CopySlices); graphnet's in-place machinery
    # cannot be driven from here, and leaving the base's history as it was would give it a
    # wrong gradient without a word
    return RuntimeError(
        "ctx.mark_dirty on a view (a tensor made by slicing, view() or similar) is not "
        "supported by graphnet.autograd.Function: its base's gradient history cannot be "
        "re-based. Pass the base tensor itself, or a clone of the view (`v.clone()`), to "
        "the Function.")


def tie_view(cls, result: Tensor, output: Tensor, index: int) -> Tensor:
    """`result`, handed back for a forward's `output` that is an input returned as-is or a
    view the forward made (`x.view_as(x)`), is a view of it, as in PyTorch: a later in-place
    write to the input shows in `result`, and a write to `result` under no_grad reaches the
    input (before, `result` was a copy that silently kept the old values). With the Function's
    node as its history, PyTorch forbids the view+inplace logic that would bypass the user's
    backward: writing to `result` under autograd raises, and after a write to its input its
    gradient raises."""
    from .._layout import _view_of

    _view_of(result, output, lambda new: new)
    if result.grad_fn is None:
        return result
    name = f"Output {index} of {cls.__name__}"

    def refuse_write(t: Tensor) -> None:
        if _autograd.grad_mode.enabled and t.requires_grad:
            raise RuntimeError(custom_view_message(name, "is being modified inplace"))

    def base_written(t: Tensor) -> None:
        if not tracing() and t.requires_grad:   # NOTE: traced, the values follow, gradient kept
            node = _CustomViewError("CustomViewError", (), [(t._value.shape, t._value.dtype)],
                                    (), None)
            node.message = custom_view_message(
                name, "its base or another view of its base has been modified inplace")
            t.grad_fn, t._oi = node, 0

    result.__dict__["_inplace_guards"] = (refuse_write,)
    result.__dict__["_custom_view"] = base_written
    return result


def custom_view_message(name: str, what: str) -> str:
    return (f"{name} is a view and {what}. This view was created inside a custom Function (or "
            "because an input was returned as-is) and the autograd logic to handle "
            "view+inplace would override the custom backward associated with the custom "
            "Function, leading to incorrect gradients. This behavior is forbidden. You can "
            "fix this by cloning the output of the custom Function.")


class _CustomViewError(TapeNode):
    """The history of a custom Function's view output once its input was written in place:
    PyTorch raises when the view is used; graphnet raises when a backward reaches it."""

    __slots__ = ("message",)

    def refusal(self) -> Exception | None:
        return RuntimeError(self.message)
