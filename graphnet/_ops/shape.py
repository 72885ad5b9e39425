"""Layout ops: reshape, transpose, concatenation, indexing."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._checks import bounds_message, first_failure, first_where, out_of_bounds
from ._opmath import _is_half
from ._table import ValueCheck, defop


@defop("reshape", "broadcast", method=("reshape", "view"), backward="ViewBackward0")
def reshape(x, *, shape):
    return jnp.reshape(x, shape)


@defop("transpose", "broadcast", inplace=True, dump=True,
       backward="TransposeBackward0")
def transpose(x, *, dim0, dim1):
    return jnp.swapaxes(x, dim0, dim1)


@defop("permute", "broadcast")
def permute(x, *, dims):
    return jnp.transpose(x, dims)


@defop("expand", "broadcast", function=None)
def expand(x, *, shape):
    return jnp.broadcast_to(x, shape)


@defop("squeeze", "broadcast", inplace=True, dump=True)
def squeeze(x, *, dim=None):
    if dim is None:
        return jnp.squeeze(x)
    dims = tuple(d for d in (dim if isinstance(dim, tuple) else (dim,)) if x.shape[d] == 1)
    return jnp.squeeze(x, dims) if dims else x


@defop("unsqueeze", "broadcast", inplace=True, dump=True, new_dims=1)
def unsqueeze(x, *, dim):
    return jnp.expand_dims(x, dim)


@defop("repeat", "broadcast", function=None)
def repeat(x, *, repeats):
    return jnp.tile(x, repeats)


@defop("flip", "broadcast", dump=True)
def flip(x, *, dims):
    return jnp.flip(x, dims)


@defop("roll", "broadcast")
def roll(x, *, shifts, dims):
    return jnp.roll(x, shifts, dims)


@defop("cat", "opaque", function=("cat", "concat", "concatenate"), method=None)
def cat(*xs, dim=0):
    return jnp.concatenate(xs, axis=dim)


@defop("stack", "opaque", method=None, new_dims=1)
def stack(*xs, dim=0):
    return jnp.stack(xs, axis=dim)


@defop("tril", "elementwise", dump=True)
def tril(x, *, diagonal=0):
    return jnp.tril(x, diagonal)


@defop("triu", "elementwise", dump=True)
def triu(x, *, diagonal=0):
    return jnp.triu(x, diagonal)


def build_index(spec, tensors):
    """Rebuild a NumPy-style index from the hashable `spec` that Tensor.__getitem__ made.

    Entries: ("i", n) integer, ("s", start, stop, step) slice, ("n",) None,
    ("e",) Ellipsis, ("t",) the next tensor index; ("d", ...) entries were taken by
    `runtime_slices` first."""
    tensors = iter(tensors)
    index = []
    for entry in spec:
        tag = entry[0]
        if tag == "i":
            index.append(entry[1])
        elif tag == "s":
            index.append(slice(*entry[1:]))
        elif tag == "n":
            index.append(None)
        elif tag == "e":
            index.append(Ellipsis)
        else:
            index.append(next(tensors))
    return tuple(index)


def indexed_positions(spec, ndim: int, tensors) -> list:
    """(index, dimension of x it indexes) for every integer index in `spec`: the static ones
    (`x[9]`) and the integer tensors. Boolean ones are left out: a mask is never out of range."""
    entries = []
    it = iter(tensors)
    for entry in spec:
        entries.append((entry, next(it) if entry[0] in ("t", "d") else None))

    def width(entry, t) -> int:
        if entry[0] in ("i", "s", "d"):
            return 1
        if entry[0] == "t":
            return np.ndim(t) if _is_bool(t) else 1
        return 0   # None adds an axis; the ellipsis is counted below

    widths = [width(e, t) for e, t in entries]
    positions, dim = [], 0
    for (entry, t), w in zip(entries, widths, strict=True):
        if entry[0] == "e":
            dim += ndim - sum(widths)
        elif entry[0] == "i":
            positions.append((entry[1], dim))
        elif entry[0] == "t" and not _is_bool(t):
            positions.append((t, dim))
        dim += w
    return positions


def _is_bool(t) -> bool:
    return getattr(t, "dtype", None) == np.bool_


def _tensor_indices(x, tensors, spec):
    """Each integer index in [-size, size) of the dimension it indexes (negative ones count
    from the end, as in PyTorch); JAX would clamp the rest (or drop them, in a scatter)."""
    return first_failure([out_of_bounds(index, d, x.shape[d], negative_ok=True)
                          for index, d in indexed_positions(spec, x.ndim, tensors)
                          if d < x.ndim])   # too many indices: the kernel's own error


GETITEM = ValueCheck(lambda x, *tensors, spec: _tensor_indices(x, tensors, spec),
                     lambda facts, **_: IndexError(bounds_message(facts)))
INDEX_PUT = ValueCheck(
    lambda x, value, *tensors, spec, accumulate=False: _tensor_indices(x, tensors, spec),
    lambda facts, **_: IndexError(bounds_message(facts)), values_from=2)


@defop("getitem", "opaque", nondiff_inputs=tuple(range(1, 16)), check=GETITEM,
       function=None, method="__getitem__", backward="IndexBackward0")
def getitem(x, *tensor_indices, spec):
    x, spec, tensor_indices = runtime_slices(x, spec, tensor_indices)
    return x[build_index(spec, tensor_indices)]


def runtime_slices(x, spec, tensors, starts: list | None = None):
    """Apply the ("d", length, step) entries, slices whose start is the next argument
    (graphnet/_index_spec.py `runtime_starts`, in bounds already): a `dynamic_slice` of the
    span, then the step as a static slice. Returns x and the rest of the index; `starts`,
    if given, gets each dimension's start (0 where no slice moved it)."""
    if not any(entry[0] == "d" for entry in spec):
        return x, spec, tensors
    used = sum(1 for entry in spec if entry[0] in ("i", "s", "t", "d"))
    rest_spec, rest, arrays, dim = [], [], iter(tensors), 0
    if starts is not None:
        starts[:] = [0] * x.ndim
    for entry in spec:
        if entry[0] == "d":
            length, step = entry[1:]
            start = next(arrays)
            x = jax.lax.dynamic_slice_in_dim(x, start, (length - 1) * step + 1, dim)
            if starts is not None:
                starts[dim] = start
            rest_spec.append(("s", None, None, step))
            dim += 1
            continue
        if entry[0] == "t":
            rest.append(next(arrays))
        rest_spec.append(entry)
        dim += x.ndim - used if entry[0] == "e" else entry[0] in ("i", "s", "t")
    return x, tuple(rest_spec), tuple(rest)


@defop("index_put", "opaque", nondiff_inputs=tuple(range(2, 16)), check=INDEX_PUT,
       function=None, method="__setitem__", backward="IndexPutBackward0")
def index_put(x, value, *tensor_indices, spec, accumulate=False):
    starts = []
    part, spec, tensor_indices = runtime_slices(x, spec, tensor_indices, starts)
    if part is x:
        return _index_put(x, value, tensor_indices, spec, accumulate)
    # a slice with a runtime start: written into its span, which goes back in place
    written = _index_put(part, value, tensor_indices, spec, accumulate)
    return jax.lax.dynamic_update_slice(x, written, starts)


def _index_put(x, value, tensor_indices, spec, accumulate):
    # a value of another dtype (`mask[i, j] = 0` into a bool tensor, `k[1] = 2.7` into an
    # int one) is converted as PyTorch converts it; JAX's scatter warns, and will refuse
    value = jnp.asarray(value)
    if value.dtype != x.dtype:
        value = value.astype(x.dtype)
    if accumulate and x.dtype == jnp.bool_:
        # PyTorch adds bools as a logical or (JAX's scatter-add refuses bool): counted in
        # int32, any True makes the place True
        counts = x.astype(jnp.int32).at[build_index(spec, tensor_indices)].add(
            jnp.asarray(value).astype(jnp.int32))
        return counts != 0
    if accumulate:
        return x.at[build_index(spec, tensor_indices)].add(value)
    return _put(spec)(x, value, *tensor_indices)


@functools.lru_cache(maxsize=1024)
def _put(spec):
    """`x[index] = value` with PyTorch's gradient: `value` gets the cotangent at every
    position it was written to, duplicates included (`h[[0, 0]] += v` counts row 0 twice,
    as PyTorch's IndexPutBackward does); JAX's own rule gives a duplicate that lost the
    write nothing. `x` gets the cotangent with the written positions zeroed (both agree)."""

    @jax.custom_vjp
    def put(x, value, *indices):
        return x.at[build_index(spec, indices)].set(value)

    def forward(x, value, *indices):
        return put(x, value, *indices), (indices, value)

    def backward(saved, g):
        indices, value = saved
        shape, dtype = jnp.shape(value), jnp.result_type(value)
        index = build_index(spec, indices)
        picked = g[index]
        lead = picked.ndim - len(shape)
        picked = picked.sum(axis=tuple(range(lead))) if lead > 0 else picked
        kept = tuple(i for i, n in enumerate(shape) if n == 1 and picked.shape[i] != 1)
        picked = picked.sum(axis=kept, keepdims=True) if kept else picked
        return (g.at[index].set(0), picked.astype(dtype)) + (None,) * len(indices)

    put.defvjp(forward, backward)
    return put


def _gather_indices(x, index, *, dim):
    """Indices in [0, size) along `dim`: PyTorch's gather refuses negative ones."""
    dim %= max(x.ndim, 1)
    return out_of_bounds(index, dim, x.shape[dim] if x.ndim else 1, negative_ok=False)


GATHER = ValueCheck(_gather_indices, lambda facts, **_: RuntimeError(bounds_message(facts)))


@defop("gather", "opaque", nondiff_inputs=(1,), check=GATHER)
def gather(x, index, *, dim):
    """PyTorch's gather: the result has the index's shape, which may be smaller than the
    input's in the other dimensions (those rows and columns are the input's first ones;
    `take_along_axis` would broadcast the index over them instead); a 0-d input or index
    counts as 1-d."""
    shape = index.shape
    x, index = x.reshape(x.shape or (1,)), index.reshape(index.shape or (1,))
    dim %= x.ndim
    x = x[tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(index.shape))]
    if _is_half(x):   # its gradient (a scatter_add) adds in
        # float32, as PyTorch's (graphnet/_ops/scatter.py); the values are unchanged
        return jnp.take_along_axis(x.astype(jnp.float32), index, axis=dim).reshape(
            shape).astype(x.dtype)
    return jnp.take_along_axis(x, index, axis=dim).reshape(shape)


def _one_hot_classes(indices, *, num_classes):
    """Classes in [0, num_classes): the first one outside, and the limit."""
    bad, value = first_where((indices < 0) | (indices >= num_classes), indices)
    return bad, (value,)


def _one_hot_error(facts, **_):
    # PyTorch's two messages: one for a negative class, one for a class too large.
    return RuntimeError("Class values must be non-negative." if facts[0] < 0
                        else "Class values must be smaller than num_classes.")


ONE_HOT = ValueCheck(_one_hot_classes, _one_hot_error, values_from=0)


@defop("one_hot", "broadcast", differentiable=False, check=ONE_HOT,
       function="nn.functional.one_hot", method=None)
def one_hot(indices, *, num_classes):
    """int64 [*, num_classes]: 1 at each entry's class. Out-of-range classes are refused by
    the check (JAX would give an all-zero row)."""
    return (indices[..., None] == jnp.arange(num_classes, dtype=indices.dtype)).astype(
        indices.dtype)
