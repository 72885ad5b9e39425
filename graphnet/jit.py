"""`graphnet.jit`: PyTorch's TorchScript names, so model code written for `torch.jit` runs.

graphnet has no TorchScript: these behave as `torch.jit` does with TorchScript switched off
(`PYTORCH_JIT=0`). `script` and `trace` return their argument unchanged and run nothing;
the decorators (`ignore`, `unused`, `export`, `interface`) return what they decorate;
`is_scripting()` and `is_tracing()` are False (`is_tracing` is about `torch.jit.trace`, so it
is False inside `graphnet.compile` too); `fork` runs its function at once and `wait` hands
back the result. The way to a compiled graph is `graphnet.compile(model)`.

`save` and `load` refuse: a TorchScript archive holds code, and graphnet never runs code
from a file. Weights go through `graphnet.save(model.state_dict(), path)` and
`model.load_state_dict(graphnet.load(path))`.

>>> import graphnet as torch
>>> model = torch.jit.script(torch.nn.Linear(2, 2))   # the same module, unchanged
>>> fast = torch.compile(model)                       # graphnet's compiled graph
"""

from __future__ import annotations

import functools
import inspect
import typing
import warnings

from .nn._module import Module

__all__ = [
    "Attribute", "Final", "Future", "RecursiveScriptModule", "ScriptFunction", "ScriptModule",
    "annotate", "export", "fork", "ignore", "interface", "is_scripting", "is_tracing", "load",
    "save", "script", "script_if_tracing", "script_method", "trace", "trace_module", "unused",
    "wait",
]

Final = typing.Final   # torch.jit.Final is typing's


def _deprecated(name: str) -> None:
    # NOTE: PyTorch warns (DeprecationWarning) on each of these calls; so do we, pointing
    # at graphnet's replacement.
    warnings.warn(f"`graphnet.jit.{name}` is deprecated (TorchScript) and returns its argument "
                  "unchanged. Please switch to `graphnet.compile`.", DeprecationWarning,
                  stacklevel=3)


def is_scripting() -> bool:
    """False: graphnet never compiles code as TorchScript (`torch.jit.is_scripting` in eager
    code). Lets `if not torch.jit.is_scripting():` branches run as in PyTorch."""
    return False


def is_tracing() -> bool:
    """False: `torch.jit.trace` never traces here (`graphnet.jit.trace` returns the callable
    unchanged), and `graphnet.compile` is not TorchScript tracing."""
    return False


def script(obj, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None):
    """`obj` (a function, module or class) unchanged, as `torch.jit.script` with
    `PYTORCH_JIT=0`. For a compiled graph use `graphnet.compile(obj)`.

    >>> f = graphnet.jit.script(lambda x: x + 1)   # the same function"""
    _deprecated("script")
    return obj


def script_method(fn):
    """`fn` unchanged (`ScriptModule` methods run as plain Python)."""
    return fn


def script_if_tracing(fn):
    """A wrapper that calls `fn`: nothing is ever traced by TorchScript here."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


def trace(func, example_inputs=None, optimize=None, check_trace: bool = True, check_inputs=None,
          check_tolerance: float = 1e-5, strict: bool = True, _force_outplace: bool = False,
          _module_class=None, _compilation_unit=None, example_kwarg_inputs=None,
          _store_inputs: bool = True):
    """`func` (a function or module) unchanged, without running it, as `torch.jit.trace`
    with `PYTORCH_JIT=0`. For a traced and compiled graph use `graphnet.compile(func)`."""
    _deprecated("trace")
    return func


def trace_module(mod, inputs, optimize=None, check_trace: bool = True, check_inputs=None,
                 check_tolerance: float = 1e-5, strict: bool = True,
                 _force_outplace: bool = False, _module_class=None, _compilation_unit=None,
                 example_inputs_is_kwarg: bool = False, _store_inputs: bool = True):
    """`mod` unchanged, without running it (see `trace`)."""
    _deprecated("trace_module")
    return mod


def ignore(drop=False, **kwargs):
    """`@ignore` or `@ignore(drop)`: the function unchanged (it runs as Python anyway)."""
    if callable(drop):
        return drop
    if not isinstance(drop, bool):
        raise RuntimeError(f"Argument to @torch.jit.ignore must be a bool or a function but "
                           f"got {drop}")
    if kwargs.pop("drop_on_export", None) or drop:
        warnings.warn("ignore(True) has been deprecated. TorchScript will now drop the "
                      "function call on compilation. Use graphnet.jit.unused now.",
                      FutureWarning, stacklevel=2)
    return lambda fn: fn


def unused(fn):
    """The function (or property) unchanged."""
    return fn


def export(fn):
    """The method unchanged."""
    return fn


def interface(obj):
    """The class unchanged (a TorchScript interface is only a type annotation here)."""
    warnings.warn("`graphnet.jit.interface` is deprecated (TorchScript). Please switch to "
                  "`graphnet.compile`.", DeprecationWarning, stacklevel=2)
    if not inspect.isclass(obj):
        raise RuntimeError("interface must be applied to a class")
    return obj


def annotate(the_type, the_value):
    """`the_value`: a type hint for the TorchScript compiler, a no-op outside it."""
    return the_value


def Attribute(value, type):  # noqa: N802  (PyTorch's name)
    """`value`: with TorchScript off, `torch.jit.Attribute` passes the value through."""
    return value


class ScriptModule(Module):
    """A plain `nn.Module` (TorchScript off): subclasses written for TorchScript run as
    Python; their `@script_method`s are ordinary methods."""

    def __init__(self, arg=None):
        super().__init__()


class RecursiveScriptModule(ScriptModule):
    """Never made here (`script` returns modules unchanged); kept for isinstance checks."""


class ScriptFunction:
    """Never made here (`script` returns functions unchanged); `isinstance(f,
    graphnet.jit.ScriptFunction)` is False, as for any function with TorchScript off."""

    def __init__(self, *args, **kwargs):
        raise TypeError("graphnet.jit.ScriptFunction cannot be created: graphnet.jit.script "
                        "returns the function itself")


class Future:
    """A value that `fork` gives at once (its function already ran), or that `set_result`
    gives later. Nothing runs in the background here, so waiting on a Future without a
    result raises instead of blocking."""

    def __init__(self, *, devices=None):
        self._done = False
        self._result = None
        self._callbacks: list = []

    def done(self) -> bool:
        return self._done

    def wait(self):
        if not self._done:
            raise RuntimeError("graphnet.jit.Future: wait() on a future without a result "
                               "(set_result was not called; graphnet runs no background "
                               "tasks, so it would never complete)")
        return self._result

    value = wait

    def set_result(self, result) -> None:
        if self._done:
            raise RuntimeError("Future can only be marked completed once")
        self._result, self._done = result, True
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def then(self, callback) -> Future:
        """A Future of `callback(self)`, completed when this one is."""
        chained = Future()
        self.add_done_callback(lambda done: chained.set_result(callback(done)))
        return chained

    def add_done_callback(self, callback) -> None:
        if self._done:
            callback(self)
        else:
            self._callbacks.append(callback)


def fork(func, *args, **kwargs) -> Future:
    """`func(*args, **kwargs)`, run now (as `torch.jit.fork` runs in eager code); an
    exception it raises comes out of `fork`. `wait(fork(...))` gives the result."""
    warnings.warn("`graphnet.jit.fork` is deprecated (TorchScript). Please switch to "
                  "`graphnet.compile`.", DeprecationWarning, stacklevel=2)
    future = Future()
    future.set_result(func(*args, **kwargs))
    return future


def wait(future: Future):
    """The result of a `fork`."""
    warnings.warn("`graphnet.jit.wait` is deprecated (TorchScript). Please switch to "
                  "`graphnet.compile`.", DeprecationWarning, stacklevel=2)
    return future.wait()


_WEIGHTS = ("save the weights with graphnet.save(model.state_dict(), path) and load them with "
            "model.load_state_dict(graphnet.load(path)); graphnet.compile(model) gives the "
            "compiled graph")


def save(m, f, _extra_files=None) -> None:
    """Refuses: graphnet writes no TorchScript archives."""
    raise NotImplementedError(f"graphnet.jit.save: graphnet has no TorchScript archives "
                              f"(graphnet.jit.script returns the module unchanged): {_WEIGHTS}")


def load(f, map_location=None, _extra_files=None, _restore_shapes: bool = False):
    """Refuses without opening `f`: a TorchScript archive holds code, and graphnet never
    runs code from a file."""
    raise NotImplementedError(f"graphnet.jit.load: graphnet does not load TorchScript "
                              f"archives (they hold code to run): build the model in Python, "
                              f"then {_WEIGHTS}")
