"""`Parameter`, and `Tensor._make_subclass`: how PyTorch's tensor subclasses are made.

A Parameter is made by `__new__`, as PyTorch's is, so a subclass can take its own arguments
and pass the tensor's on: geoopt's `ManifoldParameter.__new__(cls, data, requires_grad,
manifold)` calls `super().__new__(cls, data, requires_grad)` and sets `manifold`; Python then
calls `__init__` with all the arguments, which a Parameter takes and ignores. A plain tensor
subclass's `__new__` calls `Tensor._make_subclass(cls, data, requires_grad)` instead, and
`Tensor.__init__` leaves such an instance as it is."""

from __future__ import annotations

from . import _autograd
from ._deep_copy import parameter_copy, parameter_reduce
from ._mode import current_mode
from ._shared_storage import share_storage
from ._tensor import Tensor


class Parameter(Tensor):
    """A tensor that a Module registers as a learnable parameter (requires_grad by default)."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        self = object.__new__(cls)
        _fill(self, data, requires_grad)
        return self

    def __init__(self, *args, **kwargs):
        """Made by `__new__`: a subclass's own arguments pass through here untouched."""

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        return parameter_copy(self, memo)

    def __reduce_ex__(self, protocol):
        return parameter_reduce(self)


def _fill(self, data, requires_grad: bool) -> None:
    """Make `self` a parameter holding `data`'s values (sharing its storage eagerly)."""
    if requires_grad and isinstance(data, Tensor) and data.__dict__.get("_inference") and \
            not _autograd.grad_mode.inference:
        raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                           "InferenceMode is not allowed.")
    value = data._value if isinstance(data, Tensor) else Tensor(data if data is not None
                                                                 else [])._value
    if requires_grad:
        _autograd.check_can_require_grad(
            value.dtype, _autograd.GRAD_DTYPE_FACTORY,
            "convert the data first (Parameter(x.float())) or pass requires_grad=False")
    self._value = value
    self.requires_grad = bool(requires_grad)
    self._grad = None
    self.grad_fn = None
    self._oi = 0
    self._alias_src = None
    created = getattr(current_mode(), "on_tensor_created", None)
    if created is not None:   # made in traced code (`nn.Linear(2, 2)(x)`): the trace's
        created(self)
    elif isinstance(data, Tensor) and current_mode() is None:
        share_storage(self, data)


def _make_subclass(cls, data, require_grad: bool = False, *args, **kwargs):
    """An instance of tensor subclass `cls` holding `data`'s values (its storage, detached)
    with `requires_grad=require_grad`: PyTorch's way for a subclass's `__new__` to wrap a
    tensor (`Tensor._make_subclass(cls, data, requires_grad)`)."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"cls must be a type (got {cls!r})")
    if not isinstance(data, Tensor):
        raise TypeError(f"_make_subclass(): argument 'data' (position 2) must be Tensor, not "
                        f"{type(data).__name__}")
    new = object.__new__(cls)
    if issubclass(cls, Parameter):
        _fill(new, data, require_grad)
    else:
        Tensor.__init__(new, data.detach())
        if require_grad:
            new.requires_grad_(True)
    return new


Tensor._make_subclass = staticmethod(_make_subclass)
