"""Layout ops: reshape, transpose, concatenation, indexing."""

from __future__ import annotations

import jax.numpy as jnp

from ._table import defop


@defop("reshape", "broadcast")
def reshape(x, *, shape):
    return jnp.reshape(x, shape)


@defop("transpose", "broadcast")
def transpose(x, *, dim0, dim1):
    return jnp.swapaxes(x, dim0, dim1)


@defop("permute", "broadcast")
def permute(x, *, dims):
    return jnp.transpose(x, dims)


@defop("expand", "broadcast")
def expand(x, *, shape):
    return jnp.broadcast_to(x, shape)


@defop("squeeze", "broadcast")
def squeeze(x, *, dim=None):
    if dim is None:
        return jnp.squeeze(x)
    dims = tuple(d for d in (dim if isinstance(dim, tuple) else (dim,)) if x.shape[d] == 1)
    return jnp.squeeze(x, dims) if dims else x


@defop("unsqueeze", "broadcast")
def unsqueeze(x, *, dim):
    return jnp.expand_dims(x, dim)


@defop("repeat", "broadcast")
def repeat(x, *, repeats):
    return jnp.tile(x, repeats)


@defop("flip", "broadcast")
def flip(x, *, dims):
    return jnp.flip(x, dims)


@defop("roll", "broadcast")
def roll(x, *, shifts, dims):
    return jnp.roll(x, shifts, dims)


@defop("cat", "opaque")
def cat(*xs, dim=0):
    return jnp.concatenate(xs, axis=dim)


@defop("stack", "opaque")
def stack(*xs, dim=0):
    return jnp.stack(xs, axis=dim)


@defop("tril", "elementwise")
def tril(x, *, diagonal=0):
    return jnp.tril(x, diagonal)


@defop("triu", "elementwise")
def triu(x, *, diagonal=0):
    return jnp.triu(x, diagonal)


def build_index(spec, tensors):
    """Rebuild a NumPy-style index from the hashable `spec` that Tensor.__getitem__ made.

    Entries: ("i", n) integer, ("s", start, stop, step) slice, ("n",) None,
    ("e",) Ellipsis, ("t",) the next tensor index."""
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


@defop("getitem", "opaque", nondiff_inputs=tuple(range(1, 16)))
def getitem(x, *tensor_indices, spec):
    return x[build_index(spec, tensor_indices)]


@defop("index_put", "opaque", nondiff_inputs=tuple(range(2, 16)))
def index_put(x, value, *tensor_indices, spec, accumulate=False):
    at = x.at[build_index(spec, tensor_indices)]
    return at.add(value) if accumulate else at.set(value)


@defop("gather", "opaque", nondiff_inputs=(1,))
def gather(x, index, *, dim):
    return jnp.take_along_axis(x, index, axis=dim)
