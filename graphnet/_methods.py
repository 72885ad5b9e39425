"""Attach the math in `_math.py` to `Tensor` as methods, operators and in-place `_` forms."""

from __future__ import annotations

import warnings

from ._index_kinds import check_copy_shapes
from ._overlap import check_inputs
from ._overlap import inplace as _inplace
from ._overlap_writes import uniform_write
from . import _autograd
from . import _dtype as dt
from . import _factories as fac
from . import _indexing
from . import _layout as L
from ._layout_args import keyword_sizes
from . import _math as M
from . import _shape_more as S
from ._ops import OPS
from ._grad_fn_names import filled, layout_in_place, renamed
from ._tensor import Tensor
from ._dispatch import dispatch
from ._mode import current_mode as _dispatch_mode
from ._view_relayout import relayout


def _rev(fn):
    return lambda self, other: fn(other, self)


def to(self, *args, **kwargs):
    """`to(dtype)`, `to(other)`, `to(device)`: only dtype changes do anything on one device."""
    target = kwargs.get("dtype")
    for a in args:
        if isinstance(a, dt.dtype):
            target = a
        elif isinstance(a, Tensor):
            target = a.dtype
    if target is None or target == self.dtype:
        return self
    return M.dispatch("cast", self, dtype=target.np)


def expand(self, *sizes, size=None):
    sizes = M._shape_args(keyword_sizes("expand", sizes, "size", size))
    shape = tuple(self.shape)
    lead = len(sizes) - len(shape)
    for i, s in enumerate(sizes[:max(lead, 0)]):
        if s == -1:   # a new leading dim has no size to keep (it read one from the end)
            raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                               f"leading, non-existing dimension {i}")
    full = tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return L.expand(self, full)


def repeat(self, *sizes, repeats=None):
    repeats = M._shape_args(keyword_sizes("repeat", sizes, "repeats", repeats))
    if len(repeats) < self.dim():   # JAX's tile would pad them with ones, PyTorch refuses
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    return M.dispatch("repeat", self, repeats=repeats)


def size_argument(method: str, name: str, args: tuple, kwargs: dict) -> tuple:
    """A method's size argument in each of PyTorch's forms: `x.tile(2, 1)`, `x.tile((2, 1))`
    and `x.tile(dims=(2, 1))` are the same call; the error for a wrong form is PyTorch's."""
    if name in kwargs:
        if args:
            raise TypeError(f"{method}() got multiple values for argument '{name}'")
        value = kwargs.pop(name)
        if not isinstance(value, (tuple, list)):   # a Size is a tuple
            raise TypeError(f"{method}(): argument '{name}' must be tuple of ints, not "
                            f"{type(value).__name__}")
        args = (value,)
    if kwargs:
        raise TypeError(f"{method}() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if not args:
        raise TypeError(f'{method}() missing 1 required positional arguments: "{name}"')
    if len(args) > 1 and any(isinstance(a, (tuple, list)) for a in args):
        raise TypeError(f"{method}() takes 1 positional argument but {len(args)} were given")
    sizes = args[0] if isinstance(args[0], (tuple, list)) else args
    for s in sizes:
        if isinstance(s, (bool, float)):   # int(2.5) would quietly drop the fraction
            raise TypeError(f"{method}(): argument '{name}' must be tuple of ints, but found "
                            f"element of type {type(s).__name__}")
    return tuple(int(s) for s in sizes)


# NOTE: the functions torch.tile, torch.broadcast_to and torch.permute take one sequence, the
# methods also take the sizes one by one and by keyword: `x.tile(2, 1)` and
# `x.permute(dims=(1, 0))` raised TypeError when the methods were the functions themselves.
def tile(self, *dims, **kwargs):
    return S.tile(self, size_argument("tile", "dims", dims, kwargs))


def broadcast_to(self, *size, **kwargs):
    return S.broadcast_to(self, size_argument("broadcast_to", "size", size, kwargs))


def permute(self, *dims, **kwargs):
    return L.permute(self, size_argument("permute", "dims", dims, kwargs))


def _reversed_dims(self):
    """`x.T`: the dims reversed, with PyTorch's deprecation warning when `x` is not 2-d."""
    if self.dim() != 2:
        warnings.warn(
            "Tensor.T is deprecated on 0-D tensors. This function is the identity in these "
            "cases." if self.dim() == 0 else
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
            "to reverse the dimensions of a tensor.", UserWarning, stacklevel=3)
    return M.permute(self, *reversed(range(self.dim())))


def fill_(self, value):
    if isinstance(value, Tensor):  # a 0-d tensor: no host read, so it traces; grads reach it
        if value.dim() != 0:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.dim()} dimensions.")
        return filled(self._assign(fac.batched_like(self, expand(value.to(self.dtype),
                                                                 *self.shape))), value)
    with uniform_write():   # one number: an expanded or unfolded view may take it (not a
        # 0-d tensor: PyTorch refuses that one there); a tensor batched by vmap stays so
        return filled(self._assign(fac.batched_like(
            self, fac.full(tuple(self.shape), value, dtype=self.dtype))), value)


def zero_(self):
    return renamed(fill_(self, 0), "ZeroBackward0", "where")


def zero_in_place(grad) -> None:
    """zero_grad(set_to_none=False), as PyTorch does it: the same `.grad` tensor, detached and
    set to zeros (NaN and inf too), so a reference the user holds sees the zeros and what
    backward() accumulates next."""
    if grad.grad_fn is not None:   # as PyTorch's zero_grad: a view's .grad is not detached
        grad.detach_()
    else:
        grad.requires_grad_(False)
    grad.zero_()


def copy_(self, src, non_blocking: bool = False):
    """`self`'s values replaced by `src`'s (broadcast, cast); `non_blocking` is accepted
    and changes nothing (JAX's transfers are asynchronous already)."""
    src = src if isinstance(src, Tensor) else fac.tensor(src)
    check_copy_shapes(tuple(self.shape), tuple(src.shape))
    check_inputs(self, (src,))
    value = src.to(self.dtype)
    value = expand(value, *self.shape) if src.shape != self.shape else value
    if value.requires_grad and _autograd.grad_mode.enabled:
        # PyTorch records CopyBackwards. The plain source would make `self` a leaf of its own
        # when `src` is a leaf: `zeros(3).copy_(w)` then gave `w` no gradient at all
        value = renamed(M.dispatch("clone", value), "CopyBackwards", "clone")
    elif value.requires_grad and _dispatch_mode() is None:
        # under no_grad: the values only. NOTE: the source itself gave `self` its grad_fn
        # (`with no_grad(): buf.copy_(h)`, truncated BPTT's carried state): a backward then
        # flowed through what PyTorch holds constant, or raised on the second chunk
        value = value.detach()
    elif value is src and _dispatch_mode() is not None:
        # traced: a value of its own, as eagerly a copy; sharing `src`'s graph value made two
        # leaves of one value, which a traced backward refuses (`fast.copy_(meta)`, Reptile)
        value = M.dispatch("clone", value)
    return _autograd.assign_from(self, value, (src,))   # `y.copy_(y @ w)` raises at backward


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    fac._check_std(std)
    return _autograd.copied_slices(self._assign(fac._random_op(
        "normal", tuple(self.shape), self.dtype, generator, float(mean), float(std))),
        "NormalBackward0")


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} "
                           f"> to={b:g}")
    return _autograd.copied_slices(self._assign(fac._random_op(
        "uniform", tuple(self.shape), self.dtype, generator, float(a), float(b))),
        "UniformBackward0")


def _reciprocal_times(self, other):
    """`number / x`, as PyTorch computes it: `x.reciprocal() * number` (two roundings, so
    3.0 / x can differ from a true quotient in the last bit; parity is PyTorch's)."""
    return M.mul(M.reciprocal(self), other)


# Methods written here: operators, argument orders that differ from the function's, methods
# that are no op's own (max, flatten, to ...). Every other method an op's table entry names
# is the op's graphnet function, bound with the tensor as its first argument (see below).
_METHODS = {
    "__add__": M.add, "__radd__": _rev(M.add), "__sub__": M.sub, "__rsub__": _rev(M.sub),
    "__mul__": M.mul, "__rmul__": _rev(M.mul), "__truediv__": M.div,
    "__rtruediv__": _reciprocal_times,
    "__pow__": M.pow, "__rpow__": _rev(M.pow), "__matmul__": M.matmul,
    "__rmatmul__": _rev(M.matmul), "__neg__": M.neg, "__abs__": M.abs,
    "__floordiv__": M.floor_divide, "__rfloordiv__": _rev(M.floor_divide),
    "__mod__": M.remainder, "__eq__": M.eq, "__ne__": M.ne, "__lt__": M.lt, "__le__": M.le,
    "__gt__": M.gt, "__ge__": M.ge, "__and__": M.logical_and, "__or__": M.logical_or,
    "__invert__": M.logical_not, "__getitem__": _indexing.getitem,
    "__setitem__": _indexing.setitem,
    "__pos__": lambda self: self,
    "where": lambda self, c, o: M.where(c, self, o), "max": M.max, "min": M.min,
    "flatten": M.flatten, "t": M.t, "split": M.split, "chunk": M.chunk, "narrow": M.narrow,
    "unbind": M.unbind, "masked_fill": M.masked_fill, "to": to, "expand": expand,
    "trace": M.trace,
    "repeat": repeat, "fill_": fill_, "zero_": zero_, "copy_": copy_, "normal_": normal_,
    "uniform_": uniform_,
    "view": L.view, "view_as": lambda self, other: L.view(self, tuple(other.shape)),
    "reshape_as": lambda self, other: M.reshape(self, tuple(other.shape)),
    "expand_as": lambda self, other: expand(self, *other.shape),
    "type_as": lambda self, other: to(self, other.dtype),
    "contiguous": L.contiguous, "cpu": lambda self: self,
    "cuda": lambda self, *a, **k: self, "clone": lambda self, **k: M.dispatch("clone", self),
    "float": lambda self: to(self, dt.float32), "double": lambda self: to(self, dt.float64),
    "half": lambda self: to(self, dt.float16), "long": lambda self: to(self, dt.int64),
    "int": lambda self: to(self, dt.int32), "bool": lambda self: to(self, dt.bool_),
    "tile": tile, "broadcast_to": broadcast_to, "permute": permute,
    "mT": property(lambda self: M.transpose(self, -2, -1)),
    "T": property(lambda self: _reversed_dims(self)),
}
for _op in OPS.values():
    for _name in _op.methods:
        if _name not in _METHODS:
            _METHODS[_name] = getattr(M, _op.functions[0])

# In-place forms: `x.add_(y)`, `x += y` ... compute out of place, then assign. The layout
# ones (`x.t_()`, `x.squeeze_()`) change the shape, so they rebind the tensor instead.
_REBINDING = {"t_", "transpose_", "squeeze_", "unsqueeze_"}
for _op in OPS.values():
    for _name in _op.inplace:
        if _name not in _METHODS and _name not in _REBINDING:
            _METHODS[_name] = _inplace(_METHODS[_name[:-1]])
_METHODS["masked_fill_"] = _inplace(M.masked_fill)
for _op, _name in [("add", "__iadd__"), ("sub", "__isub__"), ("mul", "__imul__"),
                   ("div", "__itruediv__"), ("pow", "__ipow__")]:
    # NOTE: no `__imatmul__`, as torch.Tensor has none: `a @= b` rebinds `a` to `a @ b` (it
    # wrote into `a`, so a [2, 3] @= [3, 4] raised and a square one changed `a`'s aliases)
    _METHODS[_name] = _inplace(_METHODS[_op])


def _reshaping_inplace(fn, name: str):
    def method(self, *args, **kwargs):
        old_shape = tuple(self.shape)
        result = layout_in_place(fn(self, *args, **kwargs), self, name, args, kwargs)
        self._value, self.grad_fn, self._oi = result._value, result.grad_fn, result._oi
        self.__dict__.pop("_layout", None)   # its strides, as PyTorch's in-place op sets them
        if "_layout" in result.__dict__:
            self.__dict__["_layout"] = result.__dict__["_layout"]
        _relayout_ties(self, name, old_shape, args, kwargs)
        return self

    return method


def _relayout_ties(t, name: str, old_shape: tuple, args, kwargs) -> None:
    """The view ties of `t` after `name` laid it out anew (graphnet/_aliases.py `relayout`),
    with plain kernels: a view's write-back must not be a view of `t` itself."""
    new_shape = tuple(t.shape)
    if name in ("t_", "transpose_"):
        dims = (0, 1) if name == "t_" else \
            (kwargs["dim0"] if "dim0" in kwargs else args[0],
             kwargs["dim1"] if "dim1" in kwargs else args[1])
        if len(new_shape) < 2 or dims[0] % len(new_shape) == dims[1] % len(new_shape):
            return      # nothing moved
        forward = back = lambda v: dispatch("transpose", v, dim0=dims[0], dim1=dims[1])  # noqa
    else:
        if new_shape == old_shape:
            return
        forward = lambda v: dispatch("reshape", v, shape=new_shape)  # noqa: E731
        back = lambda v: dispatch("reshape", v, shape=old_shape)  # noqa: E731
    relayout(t, forward, back)


for _name in _REBINDING:
    _METHODS[_name] = _reshaping_inplace(_METHODS[_name[:-1]], _name)

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
