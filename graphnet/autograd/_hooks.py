"""Tensor hooks: `register_hook`, `retain_grad`, `register_post_accumulate_grad_hook`.

A leaf keeps its hooks in its own `__dict__`. A non-leaf's hooks live on the tape node that
made it, under its output index (`TapeNode.hooks`), because the backward walk meets nodes,
not tensors; `retain_grad()` keeps a weak reference to the tensor there, so the walk can fill
its `.grad`. The walk itself is graphnet/autograd/_engine.py."""

from __future__ import annotations

import weakref
from collections import OrderedDict

from .._mode import tracing
from .._errors import TraceError


class RemovableHandle:
    """What `register_hook` returns: `handle.remove()` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _refuse_in_trace(what: str) -> None:
    # NOTE: a compiled program's backward is one jax.vjp: no Python runs per gradient, so a
    # hook would run once while tracing and never again. Refuse instead of guessing.
    if tracing():
        raise TraceError(
            f"{what} inside graphnet.compile is not supported: the compiled backward is one "
            f"XLA program and runs no Python per gradient. Register the hook outside the "
            f"compiled function and call it uncompiled, or write the gradient change as a "
            f"graphnet.autograd.Function (its backward is compiled).")


def refuse_hooked_leaves(leaves) -> None:
    """A compiled backward() reaching a leaf with hooks would skip them: refuse instead."""
    for t in leaves:
        if t.__dict__.get("_hooks") or t.__dict__.get("_post_hooks"):
            raise TraceError(
                "backward() inside graphnet.compile reached a tensor with hooks "
                "(register_hook / register_post_accumulate_grad_hook): the compiled backward "
                "is one XLA program and runs no Python per gradient, so the hooks would be "
                "skipped. Remove the hooks (handle.remove()) or run this step uncompiled.")


def _node_slot(t):
    node = t.grad_fn
    if node.hooks is None:
        node.hooks = {}
    return node.hooks.setdefault(t._oi, [OrderedDict(), None])


def register_hook(self, hook):
    """Run `hook(grad)` whenever the gradient with respect to this tensor is computed; a
    Tensor it returns replaces the gradient. Returns a handle whose `.remove()` unregisters
    it.

    >>> h = x.register_hook(lambda g: g * 2)
    """
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    _refuse_in_trace("Tensor.register_hook")
    if self.grad_fn is None:
        hooks = self.__dict__.setdefault("_hooks", OrderedDict())
    else:
        hooks = _node_slot(self)[0]
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def register_post_accumulate_grad_hook(self, hook):
    """Run `hook(tensor)` after a gradient was accumulated into this leaf's `.grad`."""
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    _refuse_in_trace("Tensor.register_post_accumulate_grad_hook")
    hooks = self.__dict__.setdefault("_post_hooks", OrderedDict())
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def retain_grad(self) -> None:
    """Fill `.grad` of this non-leaf tensor during backward (a leaf has it already)."""
    if not self.requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if self.grad_fn is None:
        return
    _refuse_in_trace("Tensor.retain_grad")
    _node_slot(self)[1] = weakref.ref(self)


def retains_grad(self) -> bool:
    """True for a non-leaf tensor whose `.grad` backward fills (after `retain_grad()`)."""
    node = self.grad_fn
    if node is None or not node.hooks or self._oi not in node.hooks:
        return False
    ref = node.hooks[self._oi][1]
    return ref is not None and ref() is self


def is_inference(self) -> bool:
    """True for a tensor made under `graphnet.inference_mode()`."""
    return bool(self.__dict__.get("_inference", False))


def attach(cls) -> None:
    """Give `Tensor` these methods (graphnet/autograd/__init__.py calls it once)."""
    cls.register_hook = register_hook
    cls.register_post_accumulate_grad_hook = register_post_accumulate_grad_hook
    cls.retain_grad = retain_grad
    cls.retains_grad = property(retains_grad)
    cls.is_inference = is_inference
