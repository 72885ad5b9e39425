"""Hooks common to every module (PyTorch's `torch.nn.modules.module.register_module_*_hook`):
forward pre-hooks, forward hooks and backward hooks that run for each module call, before
the module's own, and registration hooks that see (and may replace) every parameter, buffer
and submodule a module registers. `Module.__call__` and `_Hooks._call_with_hooks` read the
tables here; `Module.register_*` and `__setattr__` run `registered`.

Inside graphnet.compile the forward hooks are traced like a module's own. A compiled call
recompiles when the set of global hooks changed since the trace: each trace that calls a
module depends on `global_hooks_version()` (graphnet._dispatch.depends_on)."""

from __future__ import annotations

import weakref
from typing import Callable

from .. import _dispatch
from ._counted import CountedDict
from ..autograd._hooks import RemovableHandle
from ..utils import hooks as _utils_hooks  # noqa: F401  (`graphnet.utils.hooks`, as torch's)

_version = [0]      # moves on every change of a table below


class _Table(CountedDict):
    """A global hook table that counts its changes in `global_hooks_version()`."""
    counter = _version


forward_pre_hooks = _Table()
forward_hooks = _Table()
forward_hooks_with_kwargs = _Table()
forward_hooks_always_called = _Table()
backward_pre_hooks = _Table()
backward_hooks = _Table()
is_full_backward_hook: list = [None]     # True: full hooks, False: the deprecated form
_registration = {"buffer": _Table(), "module": _Table(), "parameter": _Table()}


def global_hooks_version() -> int:
    """A counter that moves whenever a global module hook is added or removed (what a
    compiled call's guard compares)."""
    return _version[0]


def any_call_hooks() -> bool:
    """Whether some global hook runs on a module call (the fast path skips them all)."""
    return bool(forward_pre_hooks or forward_hooks or backward_pre_hooks or backward_hooks)


def _add(table: _Table, hook: Callable, options=()) -> RemovableHandle:
    handle = RemovableHandle(table, options)
    table[handle.id] = hook
    for option in options:
        option[handle.id] = True
    return handle


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """`hook(module, args)` before every module's forward (before the module's own
    pre-hooks); a result replaces `args`. For debugging and profiling, as in PyTorch."""
    return _add(forward_pre_hooks, hook)


def register_module_forward_hook(hook: Callable, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """`hook(module, args, output)` (`hook(module, args, kwargs, output)` with
    `with_kwargs`) after every module's forward, before the module's own forward hooks; a
    result replaces the output.

    >>> h = register_module_forward_hook(lambda m, args, out: print(type(m).__name__))
    """
    options = ((forward_hooks_with_kwargs,) if with_kwargs else ()) + \
        ((forward_hooks_always_called,) if always_call else ())
    return _add(forward_hooks, hook, options)


def _set_full(full: bool) -> None:
    if is_full_backward_hook[0] is (not full):
        raise RuntimeError("Cannot use both regular backward hooks and full backward hooks as a "
                           "global Module hook. Please use only one of them.")
    is_full_backward_hook[0] = full


def register_module_backward_hook(hook: Callable) -> RemovableHandle:
    """The deprecated form of `register_module_full_backward_hook`."""
    _set_full(False)
    return _add(backward_hooks, hook)


def register_module_full_backward_pre_hook(hook: Callable) -> RemovableHandle:
    """`hook(module, grad_output)` for every module, before the module's own."""
    return _add(backward_pre_hooks, hook)


def register_module_full_backward_hook(hook: Callable) -> RemovableHandle:
    """`hook(module, grad_input, grad_output)` for every module, before the module's own."""
    _set_full(True)
    return _add(backward_hooks, hook)


def register_module_buffer_registration_hook(hook: Callable) -> RemovableHandle:
    """`hook(module, name, buffer)` when any module registers a buffer; a result replaces
    the buffer."""
    return _add(_registration["buffer"], hook)


def register_module_module_registration_hook(hook: Callable) -> RemovableHandle:
    """`hook(module, name, submodule)` when any module registers a submodule; a result
    replaces it."""
    return _add(_registration["module"], hook)


def register_module_parameter_registration_hook(hook: Callable) -> RemovableHandle:
    """`hook(module, name, param)` when any module registers a parameter; a result replaces
    it."""
    return _add(_registration["parameter"], hook)


def registered(kind: str, module, name: str, value):
    """`value` after the global registration hooks of `kind` ('buffer', 'module',
    'parameter'), in order, each result replacing it."""
    for hook in list(_registration[kind].values()) if _registration[kind] else ():
        result = hook(module, name, value)
        if result is not None:
            value = result
    return value


def split_backward_hooks(module) -> tuple[list, list, list]:
    """(full hooks, deprecated-form hooks, pre-hooks) a call of `module` runs: the global
    ones first, as in PyTorch."""
    own_full = module.__dict__.get("_is_full_backward_hook")
    full, legacy = [], []
    for hooks, kind in ((backward_hooks.values(), is_full_backward_hook[0]),
                        (module._backward_hooks.values(), own_full)):
        if kind is True:
            full += hooks
        elif kind is False:
            legacy += hooks
    return full, legacy, [*backward_pre_hooks.values(), *module._backward_pre_hooks.values()]


# the traces already told to depend on the global hooks (one guard per trace)
_traces_told: weakref.WeakSet = weakref.WeakSet()


def note_traced_call(mode) -> None:
    """A trace (`mode`, the active recording mode) called a module: its program is right
    only while the global hooks are the ones it ran (or none), and the globals those hooks
    read are guarded as a module hook's are."""
    try:
        if mode in _traces_told:
            return
        _traces_told.add(mode)
    except TypeError:     # a mode that cannot be weakly referenced: guard on every call
        pass
    _dispatch.depends_on("the global module hooks (register_module_*_hook) are those traced",
                         global_hooks_version)
    _dispatch.ran_user_code(*forward_pre_hooks.values(), *forward_hooks.values())
