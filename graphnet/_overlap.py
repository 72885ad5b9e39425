"""PyTorch's refusal of an in-place write that reads part of the storage it writes
(`x[1:] += x[:-1]`, `x.add_(x.t())`, `x[1:] = x[:-1]`).

PyTorch writes element by element into shared storage, so such a write would read values it
has already changed; it raises instead. graphnet computes every op out of place and then
stores the result, so it would have given the values as if the input had been cloned: a
plausible answer where PyTorch gives none. The check follows PyTorch's `get_overlap_status`:
two tensors on one storage (the same tensor, its views, its `.data` and `detach()` aliases)
whose element ranges intersect partially, or cover the same range with other strides, are
refused; tensors that are not dense (`x[::2]`) are too hard to judge and pass, as in
PyTorch. Views record their storage owner (`_storage` in their `__dict__`) and their strides
and offset over it (graphnet/_strides.py)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from . import _autocast, _autograd_versions as _versions, _strides
from ._aliases import WRITING
from ._view_creation import note_creation

if TYPE_CHECKING:
    from ._tensor import Tensor

MESSAGE = ("unsupported operation: some elements of the input tensor and the written-to tensor "
           "refer to a single memory location. Please clone() the tensor before performing "
           "the operation.")


def owner(t: Tensor):
    """The tensor whose storage `t` shares: a view's source chain ends there, an alias
    (`.data`, `detach()`) shares its base's storage and layout."""
    while True:
        found = t.__dict__.get("_storage")
        if found is not None:
            return found
        if t._alias_src is None:
            return t
        t = t._alias_src


def note_view(view: Tensor, source: Tensor) -> None:
    """Record that `view` lives in `source`'s storage. A view of a normal tensor is a normal
    tensor, also under `inference_mode()`, and a view of an inference tensor is an inference
    tensor, as in PyTorch."""
    view.__dict__["_storage"] = owner(source)
    # PyTorch's `_base`: the first tensor of the chain that is not a view (a `detach()`
    # alias is not one, so `x.detach()[1:]._base` is the detached tensor)
    view.__dict__["_view_base"] = source.__dict__.get("_view_base", source)
    note_creation(view, source)     # a no_grad view refuses in-place writes under autograd
    if "_inference" in view.__dict__ and "_inference" not in source.__dict__:
        del view.__dict__["_inference"]
    elif "_inference" in source.__dict__:   # a view of an inference tensor is one, anywhere
        view.__dict__["_inference"] = True


def _layout(t: Tensor):
    while "_storage" not in t.__dict__ and "_layout" not in t.__dict__ and t._alias_src is not None:
        t = t._alias_src     # an alias has its base's layout
    return _strides.layout(t)


def _dense(shape, strides) -> bool:
    """PyTorch's is_non_overlapping_and_dense: some order of the dims is row-major."""
    expected = 1
    for stride, size in sorted((s, n) for n, s in zip(shape, strides) if n != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def _ordered(shape, strides) -> tuple:
    """(size, stride) of the dims that are not 1: what decides the elements' order. (PyTorch
    compares all strides, so it also refuses `x[None].copy_(x)`; graphnet lets that pass.)"""
    return tuple((n, s) for n, s in zip(shape, strides) if n != 1)


def partial_overlap(out: Tensor, other: Tensor) -> bool:
    if other is out or owner(other) is not owner(out):
        return False
    a_shape, b_shape = tuple(out.shape), tuple(other.shape)
    a_size, b_size = math.prod(a_shape), math.prod(b_shape)
    if a_size == 0 or b_size == 0:
        return False
    (a_strides, a_begin), (b_strides, b_begin) = _layout(out), _layout(other)
    if not (_dense(a_shape, a_strides) and _dense(b_shape, b_strides)):
        return False    # PyTorch: too hard to tell, allowed
    if a_begin == b_begin and a_size == b_size:    # the same elements: in the same order?
        return _ordered(a_shape, a_strides) != _ordered(b_shape, b_strides)
    return a_begin < b_begin + b_size and b_begin < a_begin + a_size


def any_overlap(out: Tensor, other: Tensor) -> bool:
    """Whether `other` shares any element with `out` (both dense; too hard to tell is no,
    as in PyTorch): what cat's out= refuses, its very input included."""
    if other is out:
        return True
    if owner(other) is not owner(out) or not math.prod(out.shape) or not math.prod(other.shape):
        return False
    (a_strides, a_begin), (b_strides, b_begin) = _layout(out), _layout(other)
    if not (_dense(tuple(out.shape), a_strides) and _dense(tuple(other.shape), b_strides)):
        return False
    return a_begin < b_begin + math.prod(other.shape) and b_begin < a_begin + math.prod(out.shape)


def check_inputs(out: Tensor, args, kwargs=None) -> None:
    """PyTorch's error when an input of an in-place op on `out` partly overlaps it."""
    from ._tensor import Tensor

    for value in (*args, *(kwargs or {}).values()):
        if isinstance(value, Tensor) and id(value) not in WRITING and \
                partial_overlap(out, value):
            raise RuntimeError(MESSAGE)


def _refuse_cast(t, args) -> None:
    """PyTorch checks that an in-place op's result type casts to its tensor's dtype before it
    looks for a kernel: `ints &= 1.5` is refused for the cast, not for bitwise_and on floats."""
    if t.dtype.is_floating_point:
        return
    for other in args:
        if isinstance(other, float) or (hasattr(other, "grad_fn")
                                        and other.dtype.is_floating_point):
            from ._dtype_methods import result_type
            from ._ops._promote import _TORCH_NAMES

            names = [_TORCH_NAMES.get(d.name, d.name) for d in (result_type(t, other), t.dtype)]
            raise RuntimeError(f"result type {names[0]} can't be cast to the desired output "
                               f"type {names[1]}")


def inplace(fn, name: str | None = None):
    """The in-place form of `fn(self, ...)`: the overlap check, then the result written into
    `self` (Tensor._assign, which also writes through views and aliases)."""
    def method(self, *args, **kwargs):
        check_inputs(self, args, kwargs)
        # NOTE: PyTorch's autocast wraps functional ops only: `c.addmm_(a, b)` in a region
        # multiplies in c's dtype, where `c.addmm(a, b)` gives bfloat16
        try:
            result = _autocast.uncast(fn, self, *args, **kwargs)
        except NotImplementedError:
            _refuse_cast(self, args)
            raise
        return _versions.assign_from(self, result, (*args, *kwargs.values()))

    method.__name__ = name or getattr(fn, "__name__", "method") + "_"
    method.__doc__ = f"In-place `{getattr(fn, '__name__', 'op')}`: writes the result into self."
    return method
