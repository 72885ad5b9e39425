"""`Tensor`: a `jax.Array` (or, while tracing, a graph value) plus PyTorch's autograd fields.

Math methods are attached from `graphnet/_methods.py`; this file holds what makes a tensor a
tensor: its payload, autograd state, in-place assignment, conversion and printing."""

from __future__ import annotations

import math

import jax
import numpy as np

from . import _autograd
from . import _dtype as dt
from ._deep_copy import deep_copy
from ._aliases import (WRITING, adopt_storage, pickled_state, remember_alias, restore_state,
                       share_value, store, write_through_view)
from ._default_dtype import default_float
from ._view_creation import check_write as check_view_write
from ._autograd_grad_assign import check_grad as _check_grad
from ._errors import VIEW_DETACH, dimension_error, no_dimensions_error
from ._grad_mode import no_grad
from ._mode import EAGER, current_mode, made_from_data, tracing
from ._overlap_writes import check_write
from ._shared_storage import set_data, written_value
from ._size import Size, shape_of  # noqa: F401  (graphnet.Size; imported from here too)


class Tensor:
    """An n-dimensional array with PyTorch's surface and a JAX array inside.

    >>> x = graphnet.tensor([[1.0, 2.0]], requires_grad=True)
    >>> (x * x).sum().backward(); x.grad
    tensor([[2., 4.]])
    """

    __slots__ = ("_value", "requires_grad", "_grad", "grad_fn", "_oi", "_alias_src", "__weakref__",
                 "__dict__")

    # NOTE: `_value` is a jax.Array eagerly, a graph value (.shape, .dtype) while tracing: a
    # traced parameter swaps its payload in place, so the tracer sees optimizer steps on it.

    def __init__(self, data=None, *sizes, requires_grad: bool = False, device=None, **others):
        if type(self) is not Tensor and hasattr(self, "_value"):
            return   # made by its class's __new__ (`_make_subclass`): the arguments are its own
        if others:
            raise TypeError(f"Tensor() got an unexpected keyword argument '{next(iter(others))}'")
        from ._legacy_types import legacy_data

        # NOTE: as `torch.Tensor(data)`, the default float from any data (a Tensor's own dtype)
        default = default_float()
        if sizes or isinstance(data, Size) or type(data) is int:   # Tensor(2, 3): zeros
            data = np.zeros(tuple(data) if isinstance(data, Size) else (data, *sizes), default.np)
        self._value = data._value if isinstance(data, Tensor) else \
            legacy_data(data, default, device)
        if requires_grad:
            _autograd.check_can_require_grad(self._value.dtype, _autograd.GRAD_DTYPE_FACTORY,
                                             "use a floating point tensor")
        self.requires_grad = requires_grad
        self._grad = None
        self.grad_fn = None
        self._oi = 0
        self._alias_src = None
        if isinstance(data, Tensor):    # `torch.Tensor(t)`: t's storage, as in PyTorch
            from ._tensor_copies import keep_gradient

            adopt_storage(self, data)
            keep_gradient(self, data)   # and t's gradient
        else:
            made_from_data(self)

    @staticmethod
    def _wrap(value, node=None, out_index: int = 0, cls=None) -> "Tensor":
        t = object.__new__(cls or Tensor)
        t._value = value
        t.grad_fn = node
        t._oi = out_index
        t.requires_grad = node is not None
        t._grad = None
        t._alias_src = None
        return t

    # ---- metadata -------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return shape_of(self._value.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return shape_of(self._value.shape)
        shape = self._value.shape
        if not shape:
            raise no_dimensions_error(dim)
        if not -len(shape) <= dim < len(shape):
            raise dimension_error(dim, len(shape))
        return shape[dim]

    def dim(self) -> int:
        return len(self._value.shape)

    ndim = property(dim)

    def numel(self) -> int:
        return math.prod(self._value.shape)

    nelement = numel

    @property
    def dtype(self) -> dt.dtype:
        return dt.from_np(self._value.dtype)

    @property
    def device(self) -> str:
        value = self._value
        return str(next(iter(value.devices()))) if isinstance(value, jax.Array) else "traced"

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def __len__(self) -> int:
        if not self._value.shape:
            raise TypeError("len() of a 0-d tensor")
        return self._value.shape[0]

    def __iter__(self):
        if not self._value.shape:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._value.shape[0]):
            yield self[i]

    __hash__ = object.__hash__

    # ---- autograd -------------------------------------------------------------------------
    @property
    def grad(self):
        mode = current_mode()
        if mode is not None:
            mode.on_grad_read(self)
        if self._grad is None and self.grad_fn is not None:
            _autograd.warn_nonleaf_grad(self)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            _check_grad(self, value)
        mode = current_mode()
        if mode is not None:
            mode.on_grad_write(self)
            if value is not None and mode.records_graph and isinstance(value._value, jax.Array):
                # a tensor from outside (`shared.grad = local.grad`): the program reads its
                # values on each call
                value = value.clone()
        self._grad = value

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if not isinstance(requires_grad, (bool, np.bool_)):   # `m.requires_grad_(0)` too
            raise TypeError(f"requires_grad_(): argument 'requires_grad' (position 1) must be "
                            f"bool, not {type(requires_grad).__module__.replace('builtins', '')}"
                            f"{'.' if type(requires_grad).__module__ != 'builtins' else ''}"
                            f"{type(requires_grad).__name__}")
        if requires_grad and self.__dict__.get("_inference") and \
                not _autograd.grad_mode.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; "
                               "use .detach() to get a tensor that does not require grad")
        if requires_grad:
            _autograd.check_can_require_grad(self._value.dtype, _autograd.GRAD_DTYPE_METHOD,
                                             "convert it first, e.g. x.float().requires_grad_()")
        self.requires_grad = requires_grad
        return self

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (only into `inputs`' when
        given); `create_graph=True` records the backward pass for a gradient of it."""
        from .autograd._api import backward   # NOTE: graphnet.autograd imports this module

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> "Tensor":
        t = self._alias()
        t.__dict__["_shares_version"] = True   # PyTorch's detach() shares the version counter
        return t

    def detach_(self) -> "Tensor":
        if "_view" in self.__dict__:   # PyTorch's rule: a view cannot leave its base's graph
            raise RuntimeError(VIEW_DETACH)
        self.grad_fn, self.requires_grad = None, False
        return self

    @property
    def data(self) -> "Tensor":
        return self._alias()

    @data.setter
    def data(self, other: "Tensor") -> None:
        set_data(self, other)

    def __getstate__(self):
        return pickled_state(self)

    def __setstate__(self, state):
        restore_state(self, state)

    def __deepcopy__(self, memo):
        return deep_copy(self, memo)

    def _alias(self) -> "Tensor":
        """A tensor outside autograd whose in-place updates also update `self` (PyTorch's
        shared storage for `.data` and `detach()`)."""
        mode = current_mode()
        if mode is not None:  # the alias may write through to `self`: a tracer tracks `self`
            mode.on_write(self)
        t = Tensor._wrap(self._value)
        t._alias_src = self
        if mode is not None:
            mode.on_tensor_created(t)
        if mode is None or mode.records_graph:
            remember_alias(self, t)
        if "_inference" in self.__dict__:   # `.data` / `detach()` of an inference tensor is one
            t.__dict__["_inference"] = True
        return t

    def _values_of(self, new: "Tensor"):
        """`new`'s values with this non-leaf's gradient, for a write autograd does not see
        (through `.data` or `detach()`, or under no_grad). Eagerly that is just the values:
        the tape keeps the node. A trace's gradient follows values, so there it is
        `self + (new - self)` with the difference cut from the gradient; writing the new
        value alone dropped the gradient of everything before (compiled
        `h.data.clamp_(-1, 1)` gave the layers below no gradient at all)."""
        if not tracing():
            return new._value
        old = Tensor._wrap(self._value)
        current_mode().on_tensor_created(old)
        with _autograd.no_grad():
            delta = new.to(self.dtype) - old
        with _autograd.enable_grad():
            return (self + delta)._value

    def _assign(self, result: "Tensor") -> "Tensor":
        """Make `self` hold `result` (the out-of-place result of an in-place op)."""
        if "_over" in self.__dict__ and not WRITING:   # graphnet/_overlap_writes.py
            check_write(self)
        mode = current_mode()
        if mode is not None:  # `zero_()`, `copy_(x)`, `normal_()` need not read `self` first
            mode.on_write(self)
            if getattr(mode, "records_graph", False):
                # `buf.copy_(graphnet.tensor(data))` in traced code: the source is a concrete
                # array, which becomes a graph input, so `self` holds a graph value and the
                # write is a state output (before, `self` took the array itself: the program
                # never wrote it, and the lost input failed with a KeyError)
                mode.value_of(result)
        for guard in self.__dict__.get("_inplace_guards", ()):   # nn/_module_hooks.py
            guard(self)
        if "_creation" in self.__dict__ and _autograd.grad_mode.enabled:
            check_view_write(self, result)   # a no_grad or split view (_view_creation.py)
        if self.__dict__.get("_inference") and not _autograd.grad_mode.inference:
            raise RuntimeError(
                "Inplace update to inference tensor outside InferenceMode is not allowed.You "
                "can make a clone to get a normal tensor before doing inplace update.See "
                "https://github.com/pytorch/rfcs/pull/17 for more details.")
        if self.requires_grad and self.grad_fn is None and _autograd.grad_mode.enabled:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation. "
                "Wrap the update in `with graphnet.no_grad():` or update `.data` instead.")
        if result._value.dtype != self._value.dtype:
            if self._value.dtype == np.bool_ or (not self.dtype.is_floating_point
                                                 and result.dtype.is_floating_point):
                from ._ops._promote import _TORCH_NAMES

                names = [_TORCH_NAMES.get(t.dtype.name, t.dtype.name) for t in (result, self)]
                raise RuntimeError(f"result type {names[0]} can't be cast to the desired output "
                                   f"type {names[1]} (an in-place operation keeps its tensor's "
                                   f"dtype, {self.dtype})")
            result = result.to(self.dtype)
        if tuple(result._value.shape) != tuple(self._value.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the "
                               f"broadcast shape {list(result.shape)} of an in-place operation")
        if self.grad_fn is not None and _autograd.grad_mode.enabled and \
                not result.requires_grad:
            # `h.zero_()`, `h.T.fill_(1)`: PyTorch's result still requires grad, with a zero
            # gradient to the old values (before, a backward through it raised)
            from ._math import where

            result = where(Tensor._wrap(np.bool_(True)), result, self)
        _autograd.note_inplace(self, result)   # the version PyTorch's backward checks
        if self.grad_fn is not None and not _autograd.grad_mode.enabled:
            # under no_grad a non-leaf keeps its place in the graph, as in PyTorch: its
            # values change, its gradient does not
            self._value = self._values_of(result)
        else:
            self._value = result._value
            if not (self.requires_grad and self.grad_fn is None):  # a leaf stays a leaf
                old_node, old_oi = self.grad_fn, self._oi
                self.grad_fn, self._oi = result.grad_fn, result._oi
                self.requires_grad = result.requires_grad
                if old_node is not None and old_node.hooks:
                    from .autograd._hooks import move_retained

                    move_retained(self, old_node, old_oi)
        share_value(self)
        alias, base = self, self._alias_src
        while base is not None:   # written through `.data` / `detach()`: values only
            if mode is not None:    # traced: the base is state the program writes
                mode.on_write(base)
            value = written_value(base, result)
            _autograd.note_alias_write(alias, base, value)   # `.data`: no version bump
            store(base, value)
            if "_view" in base.__dict__:    # `a[1:].detach().add_(1)`: unseen by autograd
                with no_grad():
                    write_through_view(base, base.__dict__["_view"])
            alias, base = base, base._alias_src
        return write_through_view(self, self.__dict__.get("_view"))


    # ---- conversion -----------------------------------------------------------------------
    def _concrete(self, what: str):
        value = self._value
        if isinstance(value, jax.Array):
            mode = current_mode()
            if mode is not None:        # a trace guards the values it hands to Python
                mode.on_value_read(self, what)
            return value
        # NOTE: no mode: a graph value outside its trace, which DispatchMode's default refuses
        return (current_mode() or EAGER).concretize(self, what)

    # numpy(), float(t), int(t) and `x in t`: graphnet/_tensor_convert.py

    # NumPy defers to the tensor's own operators: `np.float64(2.0) * x` is a tensor (with
    # its grad_fn), as in PyTorch, not a NumPy array
    __array_priority__ = 1000

    # __array__ and __array_wrap__ (NumPy functions on a tensor): graphnet/_tensor_convert.py

    def item(self):
        value = self._concrete("item()")
        if value.size != 1:
            raise RuntimeError(f"a Tensor with {value.size} elements cannot be converted to Scalar")
        return np.asarray(value).reshape(()).item()

    def tolist(self):
        return np.asarray(self._concrete("tolist()")).tolist()

    def __bool__(self) -> bool:
        value = self._concrete("bool()")
        if value.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {value.size} values is ambiguous")
        return bool(value.reshape(()))

    def __index__(self) -> int:
        value = self._value
        if np.dtype(value.dtype).kind not in "iub" or math.prod(value.shape) != 1:
            # `[a, b][t]` with a float or a many-element tensor: PyTorch's TypeError
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self._concrete("__index__()").reshape(()))

    def __repr__(self) -> str:
        from ._format import format_tensor

        return format_tensor(self)


_add = jax.jit(jax.numpy.add)


# NOTE: last, as it builds on Tensor
from ._parameter import Parameter  # noqa: E402,F401  (graphnet._tensor.Parameter)
