"""`torch.compiler.set_stance` and the default backend: process-wide settings that say how
every `graphnet.compile` function behaves on its next calls, whatever it was compiled with.

A stance is read on every call (runtime/compiled.py):
- "default": compile as the function asks; `force_backend="eager"` runs every compiled
  function eagerly, `"inductor"` compiles even those compiled with `backend="eager"`;
- "force_eager": run every compiled function eagerly (its programs are kept for later);
- "eager_on_recompile": a call that matches a compiled program runs it; a call that would
  trace and compile (the first, or a new signature) runs eagerly instead;
- "fail_on_recompile": a call that would trace and compile raises RuntimeError, saying why;
- "eager_then_compile" / "aot_eager_then_compile": a function's first call that would
  compile runs eagerly, its later ones compile. graphnet has no AOT eager mode: both mean
  the same.

`skip_guard_eval_unsafe=True` is accepted and changes nothing: graphnet checks its guards
on every call, which costs time but never runs a program that does not match its inputs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from graphnet._mode import tracing

STANCES = ("default", "force_eager", "eager_on_recompile", "fail_on_recompile",
           "eager_then_compile", "aot_eager_then_compile")
# torch.compile's backend names graphnet serves, and whether they compile (static) or not
BACKENDS = {"inductor": "static", "cudagraphs": "static", "eager": "dynamic",
            "aot_eager": "dynamic"}
_TAGS = {"eager": ("debug",), "aot_eager": ("debug",)}   # as torch tags them


@dataclass(frozen=True)
class Stance:
    stance: str = "default"
    skip_guard_eval_unsafe: bool = False
    backend: str | None = None


_current = [Stance()]
_default_backend = ["inductor"]


def current() -> Stance:
    return _current[0]


def runs_eagerly() -> bool:
    """Whether every compiled function's call runs its Python eagerly now."""
    now = _current[0]
    return now.stance == "force_eager" or BACKENDS.get(now.backend) == "dynamic"


def forces_compile() -> bool:
    """Whether `force_backend` makes functions compiled with backend="eager" compile."""
    return BACKENDS.get(_current[0].backend) == "static"


def would_compile(compiled) -> bool:
    """Whether a call of `compiled` that finds no program would trace and compile one now
    (False: it runs eagerly), for callers that compile ahead of the call."""
    stance = _current[0].stance
    return not runs_eagerly() and stance != "eager_on_recompile" and not (
        stance.endswith("eager_then_compile")
        and not compiled.__dict__.get("_ran_eagerly_first"))


def _swap(stance: Stance) -> Stance:
    if tracing():
        raise RuntimeError("attempted to set_stance in a torch.compile region")
    prior, _current[0] = _current[0], stance
    return prior


class set_stance:
    """`torch.compiler.set_stance(stance="default", *, skip_guard_eval_unsafe=False,
    force_backend=None)`: set now, and as a context manager or decorator put back on exit.

    >>> with graphnet.compiler.set_stance("fail_on_recompile"):
    ...     step(x)          # raises if this call would trace and compile
    """

    def __init__(self, stance: str = "default", *, skip_guard_eval_unsafe: bool = False,
                 force_backend=None) -> None:
        if force_backend is not None and stance != "default":
            raise RuntimeError("non-default stance cannot have force_backend set")
        if stance not in STANCES:
            raise RuntimeError(f"invalid torch.compile stance {stance!r}: one of "
                               f"{', '.join(STANCES)}")
        if force_backend is not None:
            check_backend(force_backend)
        self.stance = Stance(stance, bool(skip_guard_eval_unsafe), force_backend)
        self.prev = _swap(self.stance)

    def __call__(self, fn):
        _swap(self.prev)     # as a decorator, the stance holds only while `fn` runs

        @functools.wraps(fn)
        def run(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return run

    def __enter__(self) -> None:
        _swap(self.stance)

    def __exit__(self, *exc) -> None:
        _swap(self.prev)

    def clone(self) -> "set_stance":
        return type(self)(self.stance.stance, force_backend=self.stance.backend)


def check_backend(backend) -> str:
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"graphnet.compile: backend {backend!r} is not one graphnet has; it "
                         f"compiles to XLA itself (backend='inductor', the default) or runs "
                         f"eagerly (backend='eager'). A custom torch.compile backend receives "
                         f"FX graphs, which graphnet does not make")
    return backend


def list_backends(exclude_tags=("debug", "experimental")) -> list[str]:
    """The backend names `graphnet.compile(..., backend=)` takes, less those tagged with one
    of `exclude_tags` (torch tags "eager" and "aot_eager" "debug")."""
    excluded = set(exclude_tags or ())
    return sorted(name for name in BACKENDS if not excluded & set(_TAGS.get(name, ())))


def set_default_backend(backend) -> None:
    """The backend `graphnet.compile` uses when given none; None puts back "inductor"."""
    _default_backend[0] = "inductor" if backend is None else check_backend(backend)


def get_default_backend() -> str:
    return _default_backend[0]


class RunEagerly(Exception):
    """Raised inside a compiled call: run the function's Python eagerly instead."""


def before_compile(compiled, reason: str, key, previous) -> None:
    """Called when `compiled` would trace and compile a program for this call (`reason`, as
    `recompile_reasons` records it): the stance may run the call eagerly or refuse it.
    `previous`, the program this call would trace again after, is then kept in the cache:
    its retrace is still due on a later call."""
    try:
        _refuse(compiled, reason)
    except BaseException:
        if previous is not None:
            compiled.cache.setdefault(key, []).append(previous)
        raise


def _refuse(compiled, reason: str) -> None:
    stance = _current[0].stance
    if stance == "eager_on_recompile":
        raise RunEagerly()
    if stance == "fail_on_recompile":
        raise RuntimeError(f"Detected recompile when torch.compile stance is "
                           f"'fail_on_recompile': graphnet.compile({compiled.name}) would "
                           f"trace and compile a program for this call ({reason})")
    if stance.endswith("eager_then_compile") and not compiled.__dict__.get("_ran_eagerly_first"):
        compiled._ran_eagerly_first = True
        raise RunEagerly()
