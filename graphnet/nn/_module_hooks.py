"""A module's hooks, as PyTorch runs them: forward pre-hooks and forward hooks (with their
`prepend`, `with_kwargs` and `always_call` options) and backward hooks
(`register_full_backward_hook`, `register_full_backward_pre_hook`).

Backward hooks work as in PyTorch: the call passes its tensor arguments and its output through
two identity `autograd.Function`s. The output's backward receives `grad_output` and runs the
pre-hooks; the inputs' backward receives `grad_input` (one entry per positional argument,
None where no gradient flows) and runs the full hooks, each of which may return replacements.
When no input needs a gradient, the full hooks run with `grad_input` all None as soon as
`grad_output` is known. A compiled program refuses them (TraceError) where a gradient could
flow through the call: its backward is one jax.vjp, so a hook would see tracers, and a hook
that keeps the gradient (Grad-CAM) would keep nothing usable. Under no_grad, or with nothing
requiring grad, they never run, and the call compiles. Global module hooks
(graphnet/nn/_global_hooks.py) run before the module's own."""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict
from typing import Callable

from .. import _dispatch
from .._autograd import grad_mode
from .._errors import TraceError
from .._mode import tracing
from .._tensor import Tensor
from ..autograd._hooks import RemovableHandle
from ..autograd.function import Function
from . import _global_hooks as _global
from . import _legacy_backward_hook as legacy_backward_hook


def _add(table: OrderedDict, hook: Callable, prepend: bool = False, options=()) -> RemovableHandle:
    handle = RemovableHandle(table, options)
    table[handle.id] = hook
    if prepend:
        table.move_to_end(handle.id, last=False)
    for option in options:
        option[handle.id] = True
    return handle


class _Hooks:
    """The hook half of `nn.Module` (its tables are created in Module.__init__)."""

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        options = (self._forward_pre_hooks_with_kwargs,) if with_kwargs else ()
        return _add(self._forward_pre_hooks, hook, prepend, options)

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        options = ((self._forward_hooks_with_kwargs,) if with_kwargs else ()) + \
            ((self._forward_hooks_always_called,) if always_call else ())
        return _add(self._forward_hooks, hook, prepend, options)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False):
        return _add(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False):
        _set_full(self, True)
        return _add(self._backward_hooks, hook, prepend)

    def register_backward_hook(self, hook: Callable):
        """PyTorch's deprecated form: the hook sees the gradients of the forward's last
        operation (graphnet/nn/_legacy_backward_hook.py). Use register_full_backward_hook."""
        _set_full(self, False)
        return _add(self._backward_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, prefix, keep_vars) before the module's state_dict() saves."""
        return _add(self._state_dict_pre_hooks, hook)

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, state_dict, prefix, local_metadata) after it saved; returns None."""
        hook._from_public_api = True
        return _add(self._state_dict_hooks, hook)

    def _register_state_dict_hook(self, hook: Callable) -> RemovableHandle:
        """The older form: the hook may return a state dict that replaces the one saved."""
        return _add(self._state_dict_hooks, hook)

    def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs) before the module loads its own entries."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook: Callable, with_module: bool = False):
        if with_module:
            module, inner = self, hook

            def hook(*args):
                return inner(module, *args)
        return _add(self._load_state_dict_pre_hooks, hook)

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, incompatible_keys) after the module and its children loaded; it may
        edit incompatible_keys.missing_keys / unexpected_keys in place."""
        return _add(self._load_state_dict_post_hooks, hook)

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        # NOTE: the global hooks (graphnet/nn/_global_hooks.py) run before the module's own,
        # in each group, as in PyTorch
        called = set()
        result = None
        try:
            for key, hook in [*_global.forward_pre_hooks.items(),
                              *self._forward_pre_hooks.items()]:
                if key in self._forward_pre_hooks_with_kwargs:
                    new = hook(self, args, kwargs)
                    if new is not None:
                        if not (isinstance(new, tuple) and len(new) == 2):
                            raise RuntimeError("forward pre-hook must return None or a tuple of "
                                               f"(new_args, new_kwargs), but got {new}.")
                        args, kwargs = new
                else:
                    new = hook(self, args)
                    if new is not None:
                        args = new if isinstance(new, tuple) else (new,)
            backward = None
            full, legacy, pre = _global.split_backward_hooks(self)
            if full or pre:
                backward = _BackwardHooks(self, args, full, pre)
                args = backward.wrap_inputs(args)
            result = self.forward(*args, **kwargs)
            for key, hook in [*_global.forward_hooks.items(), *self._forward_hooks.items()]:
                called.add(key)
                new = hook(self, args, kwargs, result) if key in \
                    self._forward_hooks_with_kwargs or key in \
                    _global.forward_hooks_with_kwargs else hook(self, args, result)
                if new is not None:
                    result = new
            if backward is not None:
                result = backward.wrap_outputs(result)
            if legacy:
                legacy_backward_hook.attach(self, legacy, args, result)
            return result
        except Exception:
            _run_always_called(self, called, args, kwargs, result)
            raise


def _run_always_called(module, called: set, args, kwargs, result) -> None:
    """The `always_call` forward hooks that did not run before forward raised: global ones
    (without kwargs, as PyTorch calls them here) then the module's; their errors are
    warnings, the forward's error goes on."""
    for key, hook in [*_global.forward_hooks.items(), *module._forward_hooks.items()]:
        if key in called or (key not in module._forward_hooks_always_called
                             and key not in _global.forward_hooks_always_called):
            continue
        own = key in module._forward_hooks
        try:
            new = hook(module, args, kwargs, result) \
                if own and key in module._forward_hooks_with_kwargs else \
                hook(module, args, result)
            result = result if new is None else new
        except Exception as error:
            warnings.warn(f"{'' if own else 'global '}module forward hook with "
                          f"``always_call=True`` raised an exception that was silenced as "
                          f"another error was raised in forward: {error}", stacklevel=3)


def refuse_in_trace(module, other_way: str = "") -> None:
    """The TraceError for a module's backward hooks inside graphnet.compile."""
    if tracing():
        where = _dispatch.module_path() or type(module).__name__
        raise TraceError(
            f"the backward hooks of module {where} ({type(module).__name__}) cannot run "
            f"inside graphnet.compile: the compiled backward is one jax.vjp, so a hook "
            f"would see tracers instead of gradients. Run this code uncompiled, remove "
            f"the hook while compiling{other_way}.")


class _BackwardHooks:
    """One call's backward hooks: what the output side learns (grad_output) for the input
    side."""

    def __init__(self, module, args: tuple, hooks: list, pre_hooks: list):
        # NOTE: the hooks registered when the module was called, as in PyTorch: one removed
        # after the forward still runs in that call's backward
        self.module, self.n_args, self.hooks = module, len(args), hooks
        self.pre_hooks = pre_hooks
        self.positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.inputs_need_grad = grad_mode.enabled and \
            any(args[i].requires_grad for i in self.positions)
        # a call no gradient can flow through (no_grad, frozen parameters and inputs) runs
        # no hook, so it compiles; wrap_outputs refuses one whose outputs still need grad
        if self.inputs_need_grad or (grad_mode.enabled and any(
                p.requires_grad for p in module.parameters())):
            self._refuse_in_trace()
        self.grad_output = None

    def _refuse_in_trace(self) -> None:
        refuse_in_trace(self.module, ", or hook a leaf tensor (Tensor.register_hook)")

    def wrap_inputs(self, args: tuple) -> tuple:
        if not self.inputs_need_grad:
            return args
        wrapped = _Identity.apply(self._after_inputs, False,
                                  *(args[i] for i in self.positions))
        wrapped = _guarded(wrapped if isinstance(wrapped, tuple) else (wrapped,))
        args = list(args)
        for i, new in zip(self.positions, wrapped):
            args[i] = new
        return tuple(args)

    def wrap_outputs(self, result):
        outputs = (result,) if isinstance(result, Tensor) else result
        if not isinstance(outputs, tuple) or not all(isinstance(o, Tensor) for o in outputs):
            warnings.warn("For backward hooks to be called, module output should be a Tensor "
                          f"or a tuple of Tensors but received {type(result)}", stacklevel=3)
            return result
        if not any(o.requires_grad for o in outputs):
            return result
        self._refuse_in_trace()
        wrapped = _Identity.apply(self._after_outputs, True, *outputs)
        _guarded(wrapped if isinstance(wrapped, tuple) else (wrapped,))
        if isinstance(result, Tensor):
            return wrapped
        return wrapped if isinstance(wrapped, tuple) else (wrapped,)

    def _after_outputs(self, grads: tuple) -> tuple:
        for hook in self.pre_hooks:
            new = hook(self.module, grads)
            if new is not None:
                grads = _checked(new, grads, "Backward pre hook", "grad_output")
        self.grad_output = grads
        if not self.inputs_need_grad:
            nothing = (None,) * self.n_args
            for hook in self.hooks:
                new = hook(self.module, nothing, grads)
                if new is not None and any(g is not None for g in new):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
        return grads

    def _after_inputs(self, grads: tuple) -> tuple:
        grad_input = [None] * self.n_args
        for i, g in zip(self.positions, grads):
            grad_input[i] = g
        grad_input = tuple(grad_input)
        for hook in self.hooks:
            new = hook(self.module, grad_input, self.grad_output)
            if new is not None:
                grad_input = _checked(new, grad_input, "Backward hook", "grad_input")
        return tuple(grad_input[i] for i in self.positions)


def _set_full(module, full: bool) -> None:
    if module.__dict__.get("_is_full_backward_hook", full) is not full:
        raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a "
                           "single Module. Please use only one of them.")
    module.__dict__["_is_full_backward_hook"] = full


def _guarded(tensors: tuple) -> tuple:
    """Refuse in-place writes to the hooked tensors (Tensor._assign runs the guards), as
    PyTorch does: the write would bypass the hooks' backward (`nn.ReLU(inplace=True)` under a
    full backward hook, `module(x).mul_(2)`)."""
    for i, t in enumerate(tensors):
        if t.requires_grad:
            t.__dict__["_inplace_guards"] = (functools.partial(_refuse_inplace, i),)
    return tensors


def _refuse_inplace(index: int, t: Tensor) -> None:
    if grad_mode.enabled:    # under no_grad PyTorch lets the write through
        raise RuntimeError(
            f"Output {index} of BackwardHookFunction is a view and is being modified inplace. "
            f"This view was created inside a custom Function (or because an input was "
            f"returned as-is) and the autograd logic to handle view+inplace would override "
            f"the custom backward associated with the custom Function, leading to incorrect "
            f"gradients. This behavior is forbidden. You can fix this by cloning the output of "
            f"the custom Function.")


def _checked(new, old: tuple, kind: str, name: str) -> tuple:
    """PyTorch's checks of a module backward hook's result: a sequence (a Tensor counts its
    rows, as there) of one gradient per entry, each of the shape it replaces."""
    if len(new) != len(old):
        raise RuntimeError(f"{kind} returned an invalid number of {name}, got {len(new)}, but "
                           f"expected {len(old)}")
    new = tuple(new)
    for i, (g, before) in enumerate(zip(new, old)):
        if g is not None and before is not None and tuple(g.shape) != tuple(before.shape):
            raise RuntimeError(f"hook 'hook' has changed the size of value (value {i}: "
                               f"expected {list(before.shape)}, got {list(g.shape)})")
    return new


class _Identity(Function):
    """The tensors unchanged; on the way back, `after(grads)` sees (and may replace) their
    gradients. A gradient that does not arrive is None to `after` when `none_missing` (the
    outputs' side: PyTorch's grad_output holds None for an output the loss does not use) and
    zeros otherwise (the inputs' side: PyTorch's grad_input gets zeros there). What `after`
    returns goes on as it is: a None there is no gradient (not zeros) below, as in PyTorch."""

    @staticmethod
    def forward(ctx, after, none_missing, *tensors):
        ctx.after, ctx.none_missing = after, none_missing
        ctx.avals = [(tuple(t.shape), t.dtype) for t in tensors]
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors if len(tensors) > 1 else tensors[0]

    @staticmethod
    def backward(ctx, *grads):
        if not ctx.none_missing:
            grads = _zeros_for_missing(grads, ctx.avals)
        return (None, None, *ctx.after(grads))


def _zeros_for_missing(grads, avals) -> tuple:
    from .. import _factories

    return tuple(_factories.zeros(shape, dtype=dtype) if g is None else g
                 for g, (shape, dtype) in zip(grads, avals))
