"""The parts of a compiled function's cache key that need care (runtime/compiled.py `_key`):
a view's strides, and Python numbers compared by their bits."""

from __future__ import annotations

import dataclasses
import inspect
import sys

import numpy as np
from graphnet._strides import contiguous_strides
from graphnet._tensor import Tensor
from graphnet.compiler.tree import Same


def _strides_of(t: Tensor, shape):
    """A view's strides when they are not row-major, else None. The trace saw them: `view`
    refuses a non-contiguous input, `reshape` and `contiguous()` copy one, `stride()` reads
    them. The storage offset is left out (`data[i]` on each call would compile anew)."""
    layout = t.__dict__.get("_layout")
    if layout is None:
        return None
    return None if layout[0] == contiguous_strides(shape) else layout[0]


_INEXACT = (float, complex, np.floating, np.complexfloating)   # NumPy's scalars too


def _differs(a, b) -> bool:
    """`a != b` for two key parts; a part whose equality cannot answer (a frozen dataclass
    holding tensors compares them) differs."""
    try:
        return bool(a != b)
    except (RuntimeError, TypeError, ValueError):
        return True


class _Exact:
    """A float or complex argument in a cache key, equal to another only when their bits are:
    0.0 and -0.0 compare equal yet trace other programs (`1 / x`), and NaN is not equal to
    itself (a fresh NaN argument missed the cache on every call)."""

    __slots__ = ("value", "bits")

    def __init__(self, value):
        self.value = value
        self.bits = float(value).hex() if isinstance(value, (float, np.floating)) else \
            (float(value.real).hex(), float(value.imag).hex())

    def __eq__(self, other):
        return type(other) is _Exact and other.bits == self.bits

    def __hash__(self):
        return hash(self.bits)

    def __repr__(self):
        return repr(self.value)


_Same = Same   # compiler/tree.py: an object keyed by identity


# Modules whose classes' equality is trusted as a cache key's (their values compare as what
# they are: an int, a string, a graphnet.device, an enum member).
_TRUSTED = ("builtins", "graphnet", "jax", "jaxlib", "numpy", "enum")


class Arg:
    """A non-tensor argument in a cache key: compared by `key_part`, shown as itself in a
    recompile reason."""

    __slots__ = ("part", "value")

    def __init__(self, value):
        self.part, self.value = key_part(value), value

    def __eq__(self, other):
        return type(other) is Arg and other.part == self.part

    def __hash__(self):
        return hash(self.part)

    def __repr__(self):
        same = self.part[1]
        return repr(same) if isinstance(same, _Same) else repr(self.value)


def key_part(a):
    """A non-tensor argument of a compiled call as a cache key: equal only for arguments the
    traced code cannot tell apart. Floats by their bits (`_Exact`), each value with its type
    (2 and 2.0 trace other programs), tuples, lists, dicts and dataclasses part by part;
    a user class with its own `__eq__` by identity (`_Same`), its reads guarded.

    NOTE: a frozen dataclass `Cfg(eps=0.0)` and `Cfg(eps=-0.0)`, or `Cfg(scale=3)` and
    `Cfg(scale=3.0)`, are equal by the dataclass's `__eq__`, and keyed by it the second call
    ran the first one's program (`1 / eps` gave inf for -inf, `x * scale` kept int64)."""
    kind = type(a)
    if isinstance(a, _INEXACT):
        return kind, _Exact(a)
    if isinstance(a, Tensor):
        return kind, _Same(a)
    if kind in (tuple, list, set, frozenset):   # a set in iteration order, as code sees it
        return kind, tuple(key_part(x) for x in a)
    if kind is dict:
        return kind, tuple((key_part(k), key_part(v)) for k, v in a.items())
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return kind, tuple(key_part(getattr(a, f.name)) for f in dataclasses.fields(a))
    try:
        hash(a)
    except TypeError:
        return kind, _Same(a)   # `args`, a Namespace: keyed by identity, its reads guarded
    if kind.__eq__ is object.__eq__ or (kind.__module__ or "").split(".")[0] in _TRUSTED:
        return kind, a
    return kind, _Same(a)


def _validating():
    """`Distribution.set_default_validate_args`: traced code checks parameters or not, so a
    program is for one setting (None before graphnet.distributions is imported)."""
    base = sys.modules.get("graphnet.distributions._base")
    return None if base is None else base.Distribution._validate_default


def keyword_order(compiled, kwargs: dict) -> tuple:
    """The names of a call's keyword arguments as the cache key holds them: sorted (`f(x,
    mask=m, scale=2)` and `f(x, scale=2, mask=m)` are one call), in the call's order where the
    function takes `**kwargs` (it may iterate them: `cat(list(kw.values()))` of `f(b=.., a=..)`
    ran the program traced for `f(a=.., b=..)`). `compiled`: the CompiledFunction."""
    ordered = compiled.__dict__.get("_keyword_order")
    if ordered is None:
        ordered = compiled._keyword_order = _takes_var_keyword(compiled.fn)
    return tuple(kwargs) if ordered else tuple(sorted(kwargs))


def _takes_var_keyword(fn) -> bool:
    try:
        params = inspect.signature(getattr(fn, "forward", fn)).parameters.values()
    except (TypeError, ValueError):
        return True     # unknown: the call's order is always right
    return any(p.kind is p.VAR_KEYWORD for p in params)
