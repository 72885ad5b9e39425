"""`graphnet.serialization`, as `torch.serialization`: `save`, `load` and the safe-globals
registry a training script sets up before `torch.load(..., weights_only=True)`.

NOTE: graphnet's reader of torch.save files never imports or calls a global its pickle
names: it maps a fixed allow-list of torch names to inert stand-ins and refuses every other
name before anything runs (graphnet/_serialization/_torch_allowlist.py). So a global added
here is recorded, and `get_safe_globals()` returns it as torch's does, but it does not widen
what `load` accepts: a checkpoint naming it still raises UnsafeCheckpointError, with the fix
(load it with torch.load and save the plain state dict). Registering one is therefore never
an error, and never lets pickled code run.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from ._serialization import load, save

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "load", "safe_globals",
           "save"]

SafeGlobal = Callable | tuple   # a class or function, or (it, "module.qualname")

_lock = threading.Lock()
_registered: list[SafeGlobal] = []


def _checked(safe_globals) -> list[SafeGlobal]:
    if not isinstance(safe_globals, list):
        raise TypeError(f"add_safe_globals() expects a list of globals, got "
                        f"{type(safe_globals).__name__}; write add_safe_globals([MyClass])")
    for item in safe_globals:
        ok = callable(item) or (isinstance(item, tuple) and len(item) == 2 and
                                callable(item[0]) and isinstance(item[1], str))
        if not ok:
            raise TypeError(f"add_safe_globals(): expected a class or function, or a "
                            f"(global, 'module.name') pair, got {item!r}")
    return list(safe_globals)


def add_safe_globals(safe_globals: list[SafeGlobal]) -> None:
    """Record `safe_globals` (see the module's note: graphnet.load still refuses them)."""
    items = _checked(safe_globals)
    with _lock:
        _registered.extend(item for item in items if item not in _registered)


def get_safe_globals() -> list[SafeGlobal]:
    """The globals recorded by `add_safe_globals`, in the order they were added."""
    with _lock:
        return list(_registered)


def clear_safe_globals() -> None:
    with _lock:
        _registered.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list[SafeGlobal]) -> Iterator[None]:
    """`add_safe_globals` for the block only: the registry is as before on leaving it."""
    items = _checked(safe_globals)
    with _lock:
        before = list(_registered)
        _registered.extend(item for item in items if item not in _registered)
    try:
        yield
    finally:
        with _lock:
            _registered[:] = before
