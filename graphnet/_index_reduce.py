"""`graphnet.index_reduce`, `Tensor.index_reduce` and `Tensor.index_reduce_`, as PyTorch has
them: slice `i` of `source` along `dim` is reduced ("prod", "mean", "amax", "amin") into
slice `index[i]` of `input`, which counts too unless `include_self=False`.

The kernel is scatter_reduce's with the index spread over each slice, so it has that
kernel's gradient, which is PyTorch's own formula for amax/amin (`index_reduce_backward`
is the same rule): a target's gradient is shared among every value equal to the result,
the target's own value included even with `include_self=False` (which then gets none of
it), where JAX's rule would give other numbers where values tie.

>>> import graphnet as torch
>>> x = torch.ones(3, 2)
>>> x.index_reduce(0, torch.tensor([0, 0]), torch.tensor([[2., 3.], [4., 5.]]), "prod")
tensor([[ 8., 15.],
        [ 1.,  1.],
        [ 1.,  1.]])
"""

from __future__ import annotations

import jax.numpy as jnp

from ._dispatch import dispatch
from ._errors import wrap_dim
from ._ops._checks import out_of_bounds
from ._ops._promote import torch_name
from ._ops._table import ValueCheck, defop
from ._ops.scatter import scatter_reduce as _scatter_reduce_kernel
from ._overlap import inplace as _inplace
from ._tensor import Tensor

__all__ = ["index_reduce"]

_REDUCES = ("prod", "mean", "amax", "amin")


def _spread(index, source, dim: int):
    """The 1-D `index` as scatter's index: index[i] at every place of source's slice i."""
    shape = [1] * source.ndim
    shape[dim] = index.shape[0]
    return jnp.broadcast_to(index.reshape(shape), source.shape)


def _reduced(x, source, index, dim, reduce, include_self):
    return _scatter_reduce_kernel(x, source, _spread(index, source, dim), dim=dim,
                                  reduce=reduce, include_self=include_self)


def _find(x, source, index, *, dim, **_):
    return out_of_bounds(index, dim, x.shape[dim], False)


@defop("index_reduce", "opaque", nondiff_inputs=(2,), function=None, method=None,
       check=ValueCheck(_find, lambda facts, **_: IndexError("index out of range in self"),
                        values_from=2))
def index_reduce_kernel(x, source, index, *, dim, reduce, include_self):
    # amax/amin take PyTorch's gradient from scatter_reduce's kernel (_ops/scatter.py)
    return _reduced(x, source, index, dim, reduce, include_self)


def _checked(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str) -> int:
    """PyTorch's argument rules (2.13, CPU), in its words."""
    if reduce not in _REDUCES:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    dim = wrap_dim(dim, input.dim())
    if not isinstance(index, Tensor) or not isinstance(source, Tensor):
        raise TypeError(f"index_reduce(): argument 'index' and 'source' must be Tensor, not "
                        f"{type(index).__name__} and {type(source).__name__}")
    if index.dim() > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: "
                         f"{index.dim()} with type: {torch_name(index.dtype)} and size: "
                         f"{list(index.shape)}")
    if index.dtype.name not in ("int64", "int32"):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{torch_name(index.dtype)}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_reduce_(): self ({torch_name(input.dtype)}) and source "
                           f"({torch_name(source.dtype)}) must have the same scalar type")
    rows = source.shape[dim] if source.dim() > dim else 1
    if index.numel() != rows:
        raise RuntimeError(f"index_reduce_(): Number of indices ({index.numel()}) should be "
                           f"equal to source.size(dim): ({rows}), for dim: {dim}")
    if input.dtype.name == "bool":
        raise NotImplementedError("\"index_func_\" not implemented for 'Bool'")
    if source.dim() != input.dim() or any(
            a != b for d, (a, b) in enumerate(zip(input.shape, source.shape)) if d != dim):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(input.shape)} "
                           f"source.shape = {list(source.shape)}")
    return dim


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """`input` with slice `i` of `source` along `dim` reduced into slice `index[i]` by
    `reduce` ("prod", "mean", "amax", "amin"); `include_self=False` leaves the input's own
    value out of every slice that `index` names. Integer "mean" rounds down, as in PyTorch.

    >>> torch.zeros(2).index_reduce(0, torch.tensor([1, 1]), torch.tensor([2., 4.]), "mean")
    tensor([0., 2.])
    """
    dim = _checked(input, dim, index, source, reduce)
    if input.dim() == 0:
        return index_reduce(input.reshape(1), 0, index, source.reshape(1), reduce,
                            include_self=include_self).reshape(())
    return dispatch("index_reduce", input, source, index.reshape(-1), dim=dim, reduce=reduce,
                    include_self=bool(include_self))


Tensor.index_reduce = index_reduce
Tensor.index_reduce_ = _inplace(index_reduce)
