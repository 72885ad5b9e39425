"""`graphnet.autograd.graph`: a hook over several tensors' gradients
(`register_multi_grad_hook`).

It works on the eager tape (dynamic mode). A compiled backward is one jax.vjp, with no
backward walk to follow, so inside graphnet.compile it raises a TraceError.

The saved-tensor contexts: `save_on_cpu` runs its block unchanged (the values and gradients
are PyTorch's; on the CPU the saved tensors are in host memory already, and on a GPU graphnet
keeps them on the device, so no memory moves), and `disable_saved_tensors_hooks` makes
`saved_tensors_hooks` raise its message inside its block. `saved_tensors_hooks` itself,
with a user's pack and unpack functions, raises NotImplementedError: graphnet's tape saves
arrays (graphnet/_autograd.py), some ops keep residuals a pack hook could not see, and
calling the hooks on a different set of tensors than PyTorch's would mislead."""

from __future__ import annotations

import abc
from typing import Callable, Sequence

from .._errors import TraceError
from .._mode import tracing
from . import _engine
from ._hooks import RemovableHandle  # noqa: F401  (PyTorch's module exports it too)

__all__ = ["Node", "disable_saved_tensors_hooks", "increment_version",
           "register_multi_grad_hook", "save_on_cpu", "saved_tensors_hooks"]


class Node(abc.ABC):
    """`torch.autograd.graph.Node`: what every `grad_fn` is, and a leaf's AccumulateGrad
    (`isinstance(t.grad_fn, Node)` in graph walks)."""

    @abc.abstractmethod
    def name(self) -> str: ...

    @property
    @abc.abstractmethod
    def next_functions(self) -> tuple: ...


def _register_nodes() -> None:
    from .._autograd import AccumulateGrad, TapeNode

    Node.register(TapeNode)
    Node.register(AccumulateGrad)


_register_nodes()


def increment_version(tensor) -> None:
    """One more in-place write of `tensor` (or of each tensor of an iterable) as far as
    autograd can tell: a backward through a node that saved it before then raises, as
    after a real in-place op. For a kernel that writes a tensor behind autograd's back."""
    import jax.numpy as jnp

    from .._autograd_versions import note_step
    from .._tensor import Tensor

    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        note_step(t)
        if not tracing():   # NOTE: the tape notices a write by its new array (same values)
            t._value = jnp.array(t._value, copy=True)


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


_DISABLED: list = []   # the messages of the disable_saved_tensors_hooks blocks entered


class saved_tensors_hooks:
    """PyTorch's pack/unpack hooks over the tensors autograd saves: not supported (see the
    module's docstring); `save_on_cpu` runs unchanged."""

    def __init__(self, pack_hook: Callable, unpack_hook: Callable):
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        if _DISABLED:
            raise RuntimeError(_DISABLED[-1])
        raise NotImplementedError(
            "graphnet.autograd.graph.saved_tensors_hooks with your own pack and unpack "
            "functions is not supported: graphnet's tape saves arrays, not the tensors "
            "PyTorch's ops save, so the hooks would see other tensors than in PyTorch. "
            "save_on_cpu() is supported (it runs the block unchanged).")

    def __exit__(self, *exc):
        return None


class save_on_cpu:
    """`with save_on_cpu(pin_memory=False):`: the block runs unchanged. PyTorch moves the
    tensors saved for backward to host memory; on the CPU they are there already, and on a
    GPU graphnet keeps them on the device (the same values and gradients, no memory saved)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        self.pin_memory, self.device_type = pin_memory, device_type

    def __enter__(self):
        if _DISABLED:
            raise RuntimeError(_DISABLED[-1])
        return self

    def __exit__(self, *exc):
        return None


class disable_saved_tensors_hooks:
    """Inside the block, entering `saved_tensors_hooks` or `save_on_cpu` raises
    RuntimeError(`error_message`), as PyTorch's does."""

    def __init__(self, error_message: str):
        self.error_message = error_message

    def __enter__(self):
        _DISABLED.append(self.error_message)
        return self

    def __exit__(self, *exc):
        _DISABLED.pop()
