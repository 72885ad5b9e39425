"""Tensor methods PyTorch keeps for old code and host-side helpers: `new` (the legacy
constructor), `apply_`/`map_` (a Python function per element, on the host, eagerly only),
`to_dense`, `dim_order`, `is_distributed`, `is_set_to`, `prelu`, `hardshrink`, and
`__copy__`."""

from __future__ import annotations

import jax
import numpy as np

from . import _factories
from . import _tensor_convert  # noqa: F401  (numpy(), float(t), int(t), `x in t`)
from ._aliases import adopt_storage
from ._host_reads import host_values
from ._tensor import Tensor


def new(self: Tensor, *args, dtype=None, device=None) -> Tensor:
    """Legacy `x.new(...)`: `x.new(data)` (a list/tuple) or `x.new(*sizes)`, in x's dtype."""
    from ._tensor import Size

    if len(args) == 1 and (isinstance(args[0], (list, tuple)) and not isinstance(args[0], Size)
                           or hasattr(args[0], "__array__") and not isinstance(args[0], Tensor)):
        return _factories.tensor(args[0], dtype=dtype or self.dtype, device=device)   # data
    if len(args) == 1 and isinstance(args[0], Tensor):
        return args[0].to(dtype or self.dtype)
    return _factories.zeros(*(args or (0,)), dtype=dtype or self.dtype, device=device)


def _copy(self: Tensor) -> Tensor:
    """`copy.copy(t)`: as PyTorch's, a new leaf of t's class that shares t's storage (an
    in-place change of either reaches the other), with t's requires_grad. It was a copy of
    the values, so `copy.copy(t).add_(1)` silently left t as it was."""
    new = Tensor._wrap(self._value, cls=type(self))
    new.requires_grad = self.requires_grad
    adopt_storage(new, self)
    return new


def _host_values(self: Tensor, what: str) -> np.ndarray:
    # a captured tensor's values are guarded (_host_reads.py): a call after they change
    # traces again instead of keeping the results of the first one
    return np.array(host_values(self, what, f"{what} calls a Python function on each element, "
                                f"which a compiled function cannot; use tensor ops, or call "
                                f"it outside"))


def apply_(self: Tensor, callable) -> Tensor:
    """Replace every element by `callable(element)` (on the host; slow, as in PyTorch)."""
    values = _host_values(self, "apply_()")
    out = np.vectorize(callable, otypes=[values.dtype])(values) if values.size else values
    return self._assign(_factories.tensor(out, dtype=self.dtype))


def map_(self: Tensor, tensor: Tensor, callable) -> Tensor:
    """self[i] = callable(self[i], tensor[i]) with `tensor` broadcast to self's shape."""
    values = _host_values(self, "map_()")
    other = np.broadcast_to(_host_values(tensor, "map_()"), values.shape)
    out = np.vectorize(callable, otypes=[values.dtype])(values, other) if values.size else values
    return self._assign(_factories.tensor(out, dtype=self.dtype))


def _prelu(self: Tensor, weight: Tensor) -> Tensor:
    from .nn.functional import prelu

    return prelu(self, weight)


def _hardshrink(self: Tensor, lambd: float = 0.5) -> Tensor:
    from .nn.functional import hardshrink

    return hardshrink(self, lambd)


def _format(self: Tensor, format_spec: str) -> str:
    # PyTorch's rule: a 0-d tensor formats as its Python number (f"{loss:.4f}"), any other
    # tensor as its repr. NOTE: only a plain Tensor is a number: a 0-d Parameter (any
    # subclass) formats as its repr, and a format spec for it is a TypeError, as in PyTorch.
    if self.dim() != 0 or type(self) is not Tensor:
        return object.__format__(self, format_spec)
    if not isinstance(self._value, jax.Array):
        # a traced value: its repr's marker, with the spec, which print() inside a compiled
        # function fills in with each call's value (compiler/prints.py)
        return f"{repr(self)[:-1]}, format={format_spec.encode().hex()})"
    return self.item().__format__(format_spec)


Tensor.__format__ = _format
Tensor.__copy__ = _copy
Tensor.new = new
Tensor.apply_ = apply_
Tensor.map_ = map_
Tensor.to_dense = lambda self, dtype=None, *, masked_grad=None: \
    self if dtype is None else self.to(dtype)
Tensor.is_distributed = lambda self: False
Tensor.is_set_to = lambda self, tensor: self is tensor
Tensor.prelu = _prelu
Tensor.hardshrink = _hardshrink


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad: bool = False):
    """`torch.asarray`: a tensor from a tensor (shared unless copy=True or a cast), array,
    number or nested sequence."""
    if isinstance(obj, Tensor):
        out = obj.to(dtype) if dtype is not None else obj
        out = out.clone() if copy and out is obj else out
        return out.to(device) if device is not None else out
    return _factories.tensor(obj, dtype=dtype, device=device, requires_grad=requires_grad)


def get_device(input: Tensor) -> int:
    """-1 for a CPU tensor, else its GPU index (torch.get_device)."""
    return input.get_device()


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False, **_):
    """An (uninitialised in PyTorch, zero here) tensor; graphnet arrays are always
    row-major, so `stride` is accepted and not used."""
    from ._settings import uninitialized

    return uninitialized(_factories.zeros(*size, dtype=dtype, device=device,
                                          requires_grad=requires_grad))


def empty_permuted(size, physical_layout, *, dtype=None, device=None, requires_grad=False, **_):
    """As empty_strided: XLA picks the physical layout, so `physical_layout` is not used."""
    return empty_strided(size, None, dtype=dtype, device=device, requires_grad=requires_grad)


def from_dlpack(ext_tensor) -> Tensor:
    """A tensor sharing a DLPack-capable array's data (NumPy, JAX, PyTorch ...)."""
    import jax.numpy as jnp

    from ._mode import made_from_data

    return made_from_data(Tensor._wrap(jnp.from_dlpack(ext_tensor)))


def to_dlpack(tensor: Tensor):
    """The tensor's array as a DLPack object (what `from_dlpack` of other libraries takes)."""
    return tensor.detach()._value


__all__ = ["asarray", "get_device", "empty_strided", "empty_permuted", "from_dlpack",
           "to_dlpack"]


def _missing_attribute(self, name: str):
    """A Tensor attribute graphnet lacks: PyTorch's AttributeError, with the reason and the
    alternative when the name is refused on purpose (`t.set_`: storages; runtime/coverage.py
    REFUSED), as `graphnet.<name>` says it."""
    why = None
    if not name.startswith("_"):
        from .runtime.coverage import refusal

        why = refusal(f"torch.Tensor.{name}")
    raise AttributeError(f"'Tensor' object has no attribute {name!r}"
                         + (f" ({why[0]}; use {why[1]})" if why else ""))


Tensor.__getattr__ = _missing_attribute
