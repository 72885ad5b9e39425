"""The user-facing names of `torch.compiler`, served as `graphnet.compiler.<name>`.

`graphnet.compiler` is graphnet's own compiler package (trace, IR, passes); these few names sit
on it so that code written for `torch.compiler` runs unchanged. They live in the runtime
because `reset()` reaches the compiled functions' caches.

graphnet has no graph breaks: a function marked `disable` (or `allow_in_graph`) is traced with
the code around it, as any Python code is. Its values are the same as PyTorch's eager run of
it; what tracing cannot follow (a `.numpy()` of a traced tensor, say) is refused with the usual
clear error rather than run outside the graph."""

from __future__ import annotations

import functools

from graphnet._mode import tracing

from .compiled import LIVE
from .stance import get_default_backend, list_backends, set_default_backend, set_stance

__all__ = ["allow_in_graph", "assume_constant_result", "cudagraph_mark_step_begin", "disable",
           "get_default_backend", "is_compiling", "is_dynamo_compiling", "is_exporting",
           "list_backends", "nested_compile_region", "reset", "set_default_backend",
           "set_stance", "compile", "substitute_in_graph", "keep_portable_guards_unsafe",
           "keep_tensor_guards_unsafe", "skip_all_guards_unsafe",
           "skip_guard_on_all_nn_modules_unsafe", "skip_guard_on_globals_unsafe",
           "skip_guard_on_inbuilt_nn_modules_unsafe"]


def compile(*args, **kwargs):
    """`torch.compiler.compile`: `graphnet.compile`."""
    from graphnet import compile as compile_

    return compile_(*args, **kwargs)


def substitute_in_graph(original_fn, *, can_constant_fold_through: bool = False,
                        skip_signature_check: bool = False):
    """A decorator that returns `original_fn` itself: PyTorch traces the polyfill in its
    place; graphnet traces `original_fn` (Python that computes the same values), and calls
    of it outside a compiled function run it, as PyTorch's wrapper does."""
    del can_constant_fold_through, skip_signature_check
    return lambda polyfill: original_fn


def _keep_every_guard(guard_entries, keep_parameters: bool = False) -> list:
    """A `guard_filter_fn` that keeps every guard: graphnet reads no `options=` of
    torch.compile and always checks its guards, so a program never runs on inputs it was
    not compiled for (the unsafe filters only save time)."""
    return [True for _ in guard_entries]


keep_portable_guards_unsafe = keep_tensor_guards_unsafe = skip_all_guards_unsafe = \
    skip_guard_on_all_nn_modules_unsafe = skip_guard_on_globals_unsafe = \
    skip_guard_on_inbuilt_nn_modules_unsafe = _keep_every_guard

def is_compiling() -> bool:
    """True while `graphnet.compile` traces the code that asks: `if not
    torch.compiler.is_compiling(): log(...)` leaves the logging out of the compiled program,
    as in PyTorch. An eager call, or a call that fell back to eager, sees False."""
    return tracing()


def is_dynamo_compiling() -> bool:
    """`is_compiling()`: graphnet's tracer stands where TorchDynamo does."""
    return tracing()


def is_exporting() -> bool:
    """False: graphnet has no `torch.export`."""
    return False


def disable(fn=None, recursive: bool = True, *, reason: str | None = None):
    """`fn` unchanged (or, with no `fn`, a decorator that returns its function unchanged).

    PyTorch runs a disabled function eagerly, outside the compiled graph; graphnet has no graph
    breaks and traces it with its caller, which computes the same values (see the module
    docstring).

    >>> @graphnet.compiler.disable
    ... def f(x):
    ...     return x + 1
    """
    del recursive, reason
    if fn is None:
        return functools.partial(disable)
    return fn


def allow_in_graph(fn):
    """`fn` unchanged: graphnet traces every function into the graph already."""
    return fn


def assume_constant_result(fn):
    """`fn` unchanged. PyTorch runs it once while compiling and bakes its result in; graphnet
    traces it with its caller, so its result is what eager code gets on every call (a value
    that changes between calls compiles a new program rather than being kept stale)."""
    return fn


def nested_compile_region(fn=None, *, options=None, max_reuse_entries: int = 8,
                          reuse_hash_fn=None):
    """`fn` unchanged (or a decorator that returns it): a region PyTorch compiles once and
    reuses; graphnet traces it inline, computing the same values."""
    del options, max_reuse_entries, reuse_hash_fn
    if fn is None:
        return nested_compile_region
    return fn


def cudagraph_mark_step_begin() -> None:
    """Nothing to do: graphnet does not use CUDA graphs."""


def reset() -> None:
    """Forget every compiled program of every `graphnet.compile` function in this process, as
    `torch.compiler.reset()` does: each function's next call traces and compiles afresh, and
    its count of programs (`len(f.compiled.artifacts)`) and recompile reasons start over. The
    on-disk compilation cache is kept."""
    for compiled in list(LIVE):
        compiled.cache.clear()
        compiled.artifacts.clear()
        compiled.recompile_reasons.clear()
        compiled.fell_back = False
        compiled.dynamic_calls = 0
        compiled._last_key = None
