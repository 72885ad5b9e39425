"""`graphnet.autograd.graph`: a hook over several tensors' gradients
(`register_multi_grad_hook`).

It works on the eager tape (dynamic mode). A compiled backward is one jax.vjp, with no
backward walk to follow, so inside graphnet.compile it raises a TraceError.
PyTorch's `saved_tensors_hooks` is not here yet: graphnet's tape saves arrays in
graphnet/_autograd.py (some ops keep residuals a pack hook could not see)."""

from __future__ import annotations

from typing import Callable, Sequence

from .._errors import TraceError
from .._mode import tracing
from . import _engine
from ._hooks import RemovableHandle  # noqa: F401  (PyTorch's module exports it too)

__all__ = ["register_multi_grad_hook"]


class _Handles:
    """One handle over the tensor hooks a multi-grad hook is made of."""

    def __init__(self, handles):
        self.handles = tuple(handles)

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_multi_grad_hook(tensors: Sequence, fn: Callable, *, mode: str = "all"):
    """Call `fn` once per backward that reaches some of `tensors`.

    mode="all": after the backward, with the gradients of every tensor (None for one it did
    not reach). mode="any": with the first of their gradients computed.

    >>> h = register_multi_grad_hook((a, b), lambda grads: print([g is None for g in grads]))
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    if tracing():
        raise TraceError(
            "graphnet.autograd.graph.register_multi_grad_hook inside graphnet.compile is not "
            "supported: the compiled backward is one jax.vjp, with no backward walk whose end "
            "the hook could wait for. Register it outside the compiled function (on eager "
            "tensors), or hook each leaf with Tensor.register_hook.")
    tensors = tuple(tensors)
    if mode == "any":
        hook = _any_hook(fn)      # one for all: the first gradient of any of them
        return _Handles(t.register_hook(hook) for t in tensors)
    # NOTE: PyTorch calls fn as soon as every gradient the walk will compute has arrived;
    # graphnet calls it when the walk ends (the same gradients; later than other hooks)
    state: dict = {}

    def finish(walk):
        grads = state.pop(walk)
        fn(grads)

    def hook_for(index: int):
        def hook(grad):
            walk = _engine.current_backward_id()
            if walk not in state:
                state[walk] = [None] * len(tensors)
                _engine.queue_callback(lambda: finish(walk))
            state[walk][index] = grad
        return hook

    return _Handles(t.register_hook(hook_for(i)) for i, t in enumerate(tensors))


def _any_hook(fn: Callable) -> Callable:
    fired: dict = {}

    def hook(grad):
        walk = _engine.current_backward_id()
        if fired.get("walk") != walk:
            fired["walk"] = walk
            fn(grad)
    return hook
