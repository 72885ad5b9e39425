"""Indexing along one dimension: index_select / index_add / index_fill / index_copy (a 1-D
index picks whole slices) and scatter / scatter_add / scatter_reduce / take_along_dim (an
index the shape of the update picks one element each).

Every kernel takes `dim` already made non-negative (graphnet/_scatter.py does that). Inputs
are ordered (self, values..., index) so that each check fetches only the index to the host
(`values_from`). JAX drops an out-of-range scatter index and clamps a gather one, silently:
each op's check raises PyTorch's error instead."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._checks import bounds_message, out_of_bounds
from ._opmath import _is_half
from ._table import ValueCheck, defop

_NAMES = dict(function=None, method=None)   # graphnet/_scatter.py binds the functions


def _bounds(negative_ok: bool):
    """find(x, *values, index, dim=...): the index in range for `x`'s dimension `dim`."""
    def find(x, *rest, dim, **_):
        return out_of_bounds(rest[-1], dim, x.shape[dim], negative_ok)
    return find


def _error(kind, prefix: str = ""):
    return lambda facts, **_: kind(prefix + bounds_message(facts))


def _select_find(x, index, *, dim, **_):
    """`_bounds(False)` with `dim` counted from the front, which the error depends on."""
    dim = dim % x.ndim if x.ndim else dim
    return out_of_bounds(index, dim, x.shape[dim], False)


def _select_error(facts, **_):
    # PyTorch's own words for index_select (2.13, CPU), which differ by dimension: its
    # kernel's RuntimeError along dimension 1, an IndexError along every other one
    value, dim, size = facts
    if dim != 1:
        return IndexError("index out of range in self")
    return RuntimeError(f"INDICES element is out of DATA bounds, id={value} axis_dim={size}")


def _along(dim: int, index):
    """The NumPy index that puts a 1-D `index` on axis `dim`: x[:, :, index]."""
    return (slice(None),) * dim + (index,)


def _elementwise(x, index, dim: int):
    """The NumPy index that sends index[i, j, k] to x[i, index[i, j, k], k] (dim 1)."""
    grids = jnp.indices(index.shape, sparse=True)
    return tuple(index if d == dim else grids[d] for d in range(x.ndim))


def _along_of(x, index, dim: int):
    return _along(dim, index)


@functools.lru_cache(maxsize=64)
def overwrite(where, dim: int):
    """`x.at[where(x, index, dim)].set(values)` with PyTorch's gradient for `values`: each
    element gets the cotangent at the position it was written to, a gather, so duplicates
    that lost the write get it too (scatter, index_copy and put backward in PyTorch). JAX's
    own rule gave them 0. `x` gets the cotangent with the written positions zeroed."""

    @jax.custom_vjp
    def write(x, values, index):
        return x.at[where(x, index, dim)].set(values)

    def forward(x, values, index):
        return write(x, values, index), (index, values)

    def backward(saved, g):
        index, values = saved
        at = where(g, index, dim)
        picked = g[at] if values.ndim else g[at].sum()   # a number broadcast to every place
        return g.at[at].set(0), picked.astype(values.dtype), None

    write.defvjp(forward, backward)
    return write


def _fit(src, index):
    """PyTorch reads only the leading index.shape block of a larger src."""
    if not hasattr(src, "shape") or src.ndim == 0:
        return src
    return src[tuple(slice(0, n) for n in index.shape)]


@defop("index_select", "opaque", nondiff_inputs=(1,), **_NAMES,
       check=ValueCheck(_select_find, _select_error))
def index_select(x, index, *, dim):
    if _is_half(x) and x.ndim > 1:   # its gradient (an index_add) adds in float32: widened
        return jnp.take(x.astype(jnp.float32), index, axis=dim).astype(x.dtype)
    return jnp.take(x, index, axis=dim)


# NOTE: PyTorch's CPU kernels add float16/bfloat16 values in float32 and round once in
# scatter_add, scatter_reduce's sum and mean, index_add of a tensor of 2 or more dims, and the
# gradients of gather and index_select (of 2 or more dims); 1-d index_add and index_put's
# accumulate add in the half type. graphnet added all of them in the half type, so a node
# with 1000 incoming bfloat16 messages of 3.0 summed to 1024 (torch 3008).
def _widened(x):
    return x.astype(jnp.float32) if _is_half(x) else x


def _add_find(x, *rest, dim, **_):
    """index_add's bound check. PyTorch (2.13, CPU) raises IndexError 'index out of range in
    self' for a 1-d input and along a middle dimension, its RuntimeError with the bounds
    elsewhere: the fact `dim` is -1 for the former."""
    dim = dim % x.ndim if x.ndim else dim
    bad, (value, _, size) = out_of_bounds(rest[-1], dim, x.shape[dim], False)
    return bad, (value, -1 if x.ndim <= 1 or 0 < dim < x.ndim - 1 else dim, size)


def _add_error(facts, **_):
    if facts[1] < 0:
        return IndexError("index out of range in self")
    return RuntimeError(bounds_message(facts))


@defop("index_add", "opaque", nondiff_inputs=(2,), **_NAMES, backward="IndexAddBackward0",
       check=ValueCheck(_add_find, _add_error, values_from=2))
def index_add(x, source, index, *, dim, alpha=1):
    source = source * alpha if alpha != 1 else source
    if x.dtype == jnp.bool_:   # PyTorch adds bools as a logical or
        return x.at[_along(dim, index)].max(source.astype(jnp.bool_))
    if _is_half(x) and x.ndim > 1:
        return _widened(x).at[_along(dim, index)].add(_widened(source)).astype(x.dtype)
    return x.at[_along(dim, index)].add(source)


@defop("index_fill", "opaque", nondiff_inputs=(2,), **_NAMES,
       check=ValueCheck(_bounds(True), _error(IndexError), values_from=2))
def index_fill(x, value, index, *, dim):
    return x.at[_along(dim, index)].set(_in_dtype(value, x.dtype))


@defop("index_copy", "opaque", nondiff_inputs=(2,), **_NAMES,
       check=ValueCheck(_bounds(False), _error(IndexError, "index_copy_(): "), values_from=2))
def index_copy(x, source, index, *, dim):
    return overwrite(_along_of, dim)(x, source, index)


SCATTER = ValueCheck(_bounds(False), _error(RuntimeError), values_from=2)


@defop("scatter", "opaque", nondiff_inputs=(2,), check=SCATTER, **_NAMES)
def scatter(x, src, index, *, dim):
    """`src` is a tensor or a number (scatter's value form)."""
    return overwrite(_elementwise, dim)(x, _in_dtype(_fit(src, index), x.dtype), index)


def _in_dtype(value, dtype):
    """A value (a Python number too) in the target's dtype, wrapped as PyTorch converts it:
    -1 into uint8 is 255 (`jnp.asarray(-1, uint8)` raised OverflowError under compile)."""
    return jnp.asarray(value).astype(dtype)


@defop("scatter_add", "opaque", nondiff_inputs=(2,), check=SCATTER, **_NAMES)
def scatter_add(x, src, index, *, dim):
    if x.dtype == jnp.bool_:   # PyTorch adds bools as a logical or
        return x.at[_elementwise(x, index, dim)].max(_fit(src, index).astype(jnp.bool_))
    total = _widened(x).at[_elementwise(x, index, dim)].add(_widened(_fit(src, index)))
    return total.astype(x.dtype)


def _lowest(dtype):
    if dtype == jnp.bool_:
        return False
    return -np.inf if jnp.issubdtype(dtype, jnp.inexact) else jnp.iinfo(dtype).min


def _highest(dtype):
    if dtype == jnp.bool_:
        return True
    return np.inf if jnp.issubdtype(dtype, jnp.inexact) else jnp.iinfo(dtype).max


# reduce -> (the value a target starts from when include_self=False, the scatter's method)
_REDUCTIONS = {"sum": (lambda d: 0, "add"), "mean": (lambda d: 0, "add"),
               "prod": (lambda d: 1, "multiply"), "amax": (_lowest, "max"),
               "amin": (_highest, "min")}


@defop("scatter_reduce", "opaque", nondiff_inputs=(2,), check=SCATTER, **_NAMES)
def scatter_reduce(x, src, index, *, dim, reduce, include_self=True):
    src = _fit(src, index)
    if jnp.ndim(src) == 0:   # scatter(dim, index, 2.5, reduce=...): the number everywhere
        src = jnp.broadcast_to(src, index.shape)
    if reduce in ("amax", "amin"):
        return _extremum(x, src, index, dim, reduce, include_self)
    return _reduced(x, src, index, dim, reduce, include_self)


def _reduced(x, src, index, dim, reduce, include_self):
    at = _elementwise(x, index, dim)
    start, method = _REDUCTIONS[reduce]
    if x.dtype == jnp.bool_:
        if reduce == "mean":
            raise NotImplementedError('"scatter_gather_tensor_cpu_reduce_mean" not implemented '
                                      "for 'Bool'")
        # PyTorch's bool sum is a logical or, its product a logical and
        method = {"add": "max", "multiply": "min"}.get(method, method)
        src = src.astype(jnp.bool_)
    base = x if include_self else x.at[at].set(start(x.dtype))
    if reduce == "prod" and x.dtype != jnp.bool_:
        return base * _scattered_product(x, src, index, dim)
    if method == "add":   # a half sum is taken in float32 and rounded once
        out = _widened(base).at[at].add(_widened(src)).astype(x.dtype)
    else:
        out = getattr(base.at[at], method)(src)
    if reduce != "mean":
        return out
    count = _widened(jnp.ones(x.shape, x.dtype))   # counted in float32 too, then rounded
    if not include_self:
        count = count.at[at].set(0)
    count = count.at[at].add(1).astype(x.dtype)
    return out / count if jnp.issubdtype(x.dtype, jnp.inexact) else out // count


@functools.partial(jax.custom_vjp, nondiff_argnums=(3, 4, 5))
def _extremum(x, src, index, dim, reduce, include_self):
    return _reduced(x, src, index, dim, reduce, include_self)


def _extremum_fwd(x, src, index, dim, reduce, include_self):
    result = _reduced(x, src, index, dim, reduce, include_self)
    return result, (x, src, index, result)


def _extremum_bwd(dim, reduce, include_self, saved, grad):
    """PyTorch's amax/amin gradient (`scatter_reduce_backward`): each target's gradient is
    split evenly among the values equal to its result, the target's own value counted even
    with include_self=False (it then gets none of it: 1/3 to each of two tied sources and
    a tied self, where JAX's rule gives the sources 1/2)."""
    x, src, index, result = saved
    at = _elementwise(x, index, dim)
    self_is_result, src_is_result = x == result, src == result[at]
    count = self_is_result.astype(grad.dtype).at[at].add(src_is_result.astype(grad.dtype))
    shared = grad / count
    grad_self = _mask_times(self_is_result, shared)
    if not include_self:
        grad_self = grad_self.at[at].set(0)
    return grad_self, _mask_times(src_is_result, shared[at]), None


def _mask_times(mask, value):
    """float(mask) * value with 0 * inf and 0 * NaN kept NaN, as PyTorch multiplies: a NaN
    result is equal to nothing, so its 0 count makes its gradient NaN (XLA made the product
    a select, which gave 0 and hid the NaN)."""
    return jnp.where(mask, value, jnp.where(jnp.isfinite(value), 0, jnp.nan).astype(value.dtype))


_extremum.defvjp(_extremum_fwd, _extremum_bwd)


def _scattered_product(x, src, index, dim: int):
    """x-shaped: the product of the src entries sent to each target (1 where none is).
    NOTE: JAX cannot differentiate a multiplying scatter with repeated indices, so the
    product is taken densely over a [..., size, n] mask instead."""
    src, index = jnp.moveaxis(src, dim, -1), jnp.moveaxis(index, dim, -1)
    hits = index[..., None, :] == jnp.arange(x.shape[dim])[:, None]
    product = jnp.prod(jnp.where(hits, src[..., None, :], 1), axis=-1).astype(x.dtype)
    lead = tuple(n for d, n in enumerate(x.shape) if d != dim)
    product = jnp.pad(product, [(0, n - m) for n, m in zip(lead, product.shape[:-1])] +
                      [(0, 0)], constant_values=1)
    return jnp.moveaxis(product, -1, dim)


def _take_indices(x, index, *, dim, **_):
    """PyTorch's take_along_dim counts a negative index from the end; past the end is refused
    (with gather's message: its CPU kernel reads out of bounds instead)."""
    return out_of_bounds(index, dim, x.shape[dim], negative_ok=True)


# `permutation`: graphnet's own call with a permutation it computed (an LU solve's row order),
# in range by construction, so no check site (one inside a vmap would be refused)
@defop("take_along_dim", "opaque", nondiff_inputs=(1,), **_NAMES,
       check=ValueCheck(_take_indices, _error(RuntimeError),
                        when=lambda permutation=False, **_: not permutation))
def take_along_dim(x, index, *, dim, permutation=False):
    index = jnp.where(index < 0, index + x.shape[dim], index)
    shape = jnp.broadcast_shapes(
        tuple(n for d, n in enumerate(x.shape) if d != dim),
        tuple(n for d, n in enumerate(index.shape) if d != dim))
    shape = shape[:dim] + (None,) + shape[dim:]
    x = jnp.broadcast_to(x, tuple(x.shape[dim] if n is None else n for n in shape))
    index = jnp.broadcast_to(index, tuple(index.shape[dim] if n is None else n for n in shape))
    return jnp.take_along_axis(x, index, axis=dim)
