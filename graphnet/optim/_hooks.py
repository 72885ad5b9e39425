"""Optimizer step hooks, as in torch 2.13: per optimizer (`opt.register_step_pre_hook`,
`register_step_post_hook`) and for every optimizer (`register_optimizer_step_pre_hook`,
`register_optimizer_step_post_hook`, public in `graphnet.optim.optimizer`).

A pre-hook is called as hook(optimizer, args, kwargs) before `step` (args start with the
optimizer itself, as in torch) and may return (new_args, new_kwargs); a post-hook is
called the same way after it. Global pre-hooks run before the optimizer's own, global
post-hooks after. Inside a compiled step the hooks run while tracing, like a module's
forward hooks: what they compute with tensors is recorded, and adding or removing one
recompiles (the hook set is a guard).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from itertools import chain

from .. import _dispatch
from ..nn._module import RemovableHandle

_global_pre_hooks: OrderedDict = OrderedDict()
_global_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook) -> RemovableHandle:
    """Register hook(optimizer, args, kwargs) to run before every optimizer's step."""
    handle = RemovableHandle(_global_pre_hooks)
    _global_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook) -> RemovableHandle:
    """Register hook(optimizer, args, kwargs) to run after every optimizer's step."""
    handle = RemovableHandle(_global_post_hooks)
    _global_post_hooks[handle.id] = hook
    return handle


def with_step_hooks(step):
    """Wrap an optimizer class's `step` so the registered hooks run around it."""
    if getattr(step, "_runs_step_hooks", False):
        return step

    @functools.wraps(step)
    def hooked(*args, **kwargs):
        self = args[0]
        if "_opt_called" in self.__dict__:   # an lr scheduler watches this optimizer
            self._opt_called = True           # (its order warning, optim/_lr_base.py)
        if id(self) in _stepping:   # a subclass's step calling super().step(): hooks once
            return step(*args, **kwargs)
        _stepping.add(id(self))
        try:
            return _run_hooked(step, self, args, kwargs)
        finally:
            _stepping.discard(id(self))

    hooked._runs_step_hooks = True
    return hooked


# ids of the optimizers whose hooked step is running. torch wraps only the instance's own
# class's step; graphnet wraps each class's, so an override calling super().step() ran every
# hook twice (a pre-hook halving the gradients quartered them).
_stepping: set = set()


def _run_hooked(step, self, args, kwargs):
    """The hooks registered for `self` around one call of `step`."""
    own_pre = getattr(self, "_optimizer_step_pre_hooks", {})
    own_post = getattr(self, "_optimizer_step_post_hooks", {})
    # None while there are none (the usual case): a guard compared on every compiled call
    _dispatch.depends_on(f"{type(self).__name__}: the step hooks registered", lambda: (
        tuple(_global_pre_hooks), tuple(own_pre), tuple(own_post),
        tuple(_global_post_hooks))
        if _global_pre_hooks or own_pre or own_post or _global_post_hooks else None)
    _dispatch.ran_user_code(*_global_pre_hooks.values(), *own_pre.values(),
                            *own_post.values(), *_global_post_hooks.values())
    for hook in chain(_global_pre_hooks.values(), own_pre.values()):
        result = hook(self, args, kwargs)
        if result is not None:
            if isinstance(result, tuple) and len(result) == 2:
                args, kwargs = result
            else:
                raise RuntimeError(f"{step} must return None or a tuple of "
                                   f"(new_args, new_kwargs), but got {result}.")
    out = step(*args, **kwargs)
    for hook in chain(own_post.values(), _global_post_hooks.values()):
        hook(self, args, kwargs)
    return out


class StepHooks:
    """Mixin for Optimizer: the per-optimizer hook registries and their registration."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = with_step_hooks(cls.__dict__["step"])

    def __getstate__(self) -> dict:
        """What `pickle` and `copy.deepcopy` keep of an optimizer, as PyTorch's: its
        defaults, state and parameter groups (not its hooks)."""
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        """The saved attributes back, with empty hook registries; `load_state_dict` ends
        with it, so a subclass's own `__setstate__` (calling `super().__setstate__(state)`,
        then filling in group defaults, as PyTorch's optimizers do) runs there too."""
        self.__dict__.update(state)
        self._hook_dicts()
        self.defaults.setdefault("differentiable", False)

    def _hook_dicts(self):
        if "_optimizer_step_pre_hooks" not in self.__dict__:
            self._optimizer_step_pre_hooks = OrderedDict()
            self._optimizer_step_post_hooks = OrderedDict()

    def register_step_pre_hook(self, hook) -> RemovableHandle:
        """Run hook(optimizer, args, kwargs) before each `step`; it may return
        (new_args, new_kwargs). `handle.remove()` unregisters it.

        >>> handle = opt.register_step_pre_hook(lambda opt, args, kwargs: None)
        """
        self._hook_dicts()
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook) -> RemovableHandle:
        """Run hook(optimizer, args, kwargs) after each `step`."""
        self._hook_dicts()
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    # ---- state_dict hooks (torch's four, with `prepend`) ----------------------------------
    def _state_hooks(self, kind: str) -> OrderedDict:
        return self.__dict__.setdefault(f"_optimizer_{kind}_hooks", OrderedDict())

    def _register(self, kind: str, hook, prepend: bool) -> RemovableHandle:
        hooks = self._state_hooks(kind)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Run hook(optimizer) before `state_dict()` builds its dict."""
        return self._register("state_dict_pre", hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Run hook(optimizer, state_dict) after; a returned dict replaces it."""
        return self._register("state_dict_post", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook,
                                          prepend: bool = False) -> RemovableHandle:
        """Run hook(optimizer, state_dict) before loading; a returned dict is loaded."""
        return self._register("load_state_dict_pre", hook, prepend)

    def register_load_state_dict_post_hook(self, hook,
                                           prepend: bool = False) -> RemovableHandle:
        """Run hook(optimizer) after `load_state_dict()`."""
        return self._register("load_state_dict_post", hook, prepend)
