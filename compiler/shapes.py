"""Output types of an op on given input types: its op's own type rule (`opdef.types`, for an
op without a kernel of its own such as `grad`) or its op-table kernel (jax.eval_shape).

One process-wide cache serves the tracer and every pass: a graph repeats the same layer many
times, shape propagation re-checks what tracing inferred, and the BatchNorm fold adds the
same few per-channel nodes for each layer. `jax.eval_shape` traces the kernel (about a
millisecond each), so without the cache it was most of the trace + pass time."""

from __future__ import annotations

import functools

import jax
from graphnet import _default_dtype
from graphnet._dispatch import attrs_key
from graphnet._ops import OPS, conv_autotune
from graphnet._x64 import x64_scoped

from .ir import Value

_cache: dict = {}
_LIMIT = 10_000
# answers kept on disk between processes (runtime/shape_store.py attaches one before each
# trace while the program store is on): `get(key)` -> types or None, `put(key, types)`
backing = None


def infer_types(op: str, inputs, attrs: dict) -> tuple:
    """((shape, dtype), ...) of op's outputs on `inputs` (Values or literals). Errors from the
    kernel (TypeError, ValueError) propagate for the caller to explain."""
    rule = OPS[op].types
    if rule is not None:
        return rule(inputs, attrs)
    # the default float dtype too: a kernel reads it (`sqrt` of an int tensor), and the traced
    # code may change it between two such ops (set_default_dtype inside the function)
    key = (op, attrs_key(attrs), _default_dtype._current["dtype"],
           tuple(("V", x.shape, x.dtype, x.weak_type) if isinstance(x, Value) else ("L", type(x), x)
                 for x in inputs))
    try:
        types = _cache.get(key)
    except TypeError:           # an unhashable attribute or literal: compute without the cache
        return _eval_types(op, inputs, attrs)
    if types is None:
        if len(_cache) > _LIMIT:
            _cache.clear()
        store = backing
        types = store.get(key) if store is not None else None
        if types is None:
            types = _eval_types(op, inputs, attrs)
            if store is not None:
                store.put(key, types)
        _cache[key] = types
    return types


def refuse_default_change(start, op: str, inputs, attrs: dict, avals) -> None:
    """The traced code changed the default float dtype (set_default_dtype) from `start`, the
    call's: refuse op `op` when its result type depends on it (`sqrt` of an int tensor),
    since the program is lowered, verified and keyed under the call's default. Before, the
    compiled result took float32 where eager mode gave float64."""
    from graphnet._errors import TraceError

    now = _default_dtype._current["dtype"]
    _default_dtype._current["dtype"] = start
    try:
        before = infer_types(op, inputs, attrs)
    finally:
        _default_dtype._current["dtype"] = now
    if [d for _, d in before] != [d for _, d in avals]:
        raise TraceError(f"{op}: its result's dtype is the default float dtype, which the "
                         f"traced code changed (set_default_dtype({now})) from the call's "
                         f"{start}; a compiled program runs with the call's default. Call "
                         f"set_default_dtype outside the compiled function, or cast "
                         f"explicitly (x.to({now}))")


@x64_scoped   # types as graphnet's kernels see them: int64 stays int64 (graphnet/_x64.py)
def _eval_types(op: str, inputs, attrs: dict) -> tuple:
    opdef = OPS[op]
    specs = [jax.ShapeDtypeStruct(x.shape, x.dtype, weak_type=x.weak_type)
             if isinstance(x, Value) else x for x in inputs]
    from .lower import kernel_attrs     # NOTE: lowering a sub-graph needs the whole compiler

    with conv_autotune.types_only():   # no lowering choice needed to know the types
        out = jax.eval_shape(functools.partial(opdef.impl, **kernel_attrs(attrs)), *specs)
    outs = out if opdef.n_outputs != 1 else (out,)
    return tuple((tuple(o.shape), o.dtype) for o in outs)
