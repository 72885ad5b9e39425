"""Where a tensor lives: `Tensor.device` (a `graphnet.device`), `.to(device)`, `.cuda()`,
`.cpu()`, `.is_cuda`, `.get_device()`.

A move is `jax.device_put` of the array behind an identity op, so the moved tensor keeps
its place on the tape (a gradient flows back across the move, as in PyTorch). Inside a
compiled function arrays are placed by XLA: `.to(device)` there checks that the device
exists and changes nothing else. See graphnet/_device.py."""

from __future__ import annotations

import jax

from . import _device
from . import _dtype as dt
from . import _methods
from ._dispatch import dispatch
from ._tensor import Tensor


def _device_of(self: Tensor) -> _device.device:
    value = self._value
    if isinstance(value, jax.Array):
        return _device.of_jax(next(iter(value.devices())))
    return _device.get_default_device()   # traced: the program runs on the default device


def _moved(self: Tensor, where) -> Tensor:
    target = _device.jax_device(where)
    value = self._value
    if not isinstance(value, jax.Array) or target in value.devices():
        return self
    moved = dispatch("clone", self) if self.requires_grad else Tensor._wrap(value)
    moved._value = jax.device_put(value, target)
    return moved


_PYTHON_TYPES = (float, int, bool, complex)


def _dtype_like(a) -> bool:
    """A Python type PyTorch reads as a dtype: float, int, bool (complex, which graphnet has
    not, is refused by `dt.to_np`)."""
    return isinstance(a, type) and a in _PYTHON_TYPES


def _parse_to(args, kwargs):
    """(dtype or None, device or None) from PyTorch's `to` signatures: to(dtype),
    to(device, dtype=None), to(other), with keywords dtype=, device=, non_blocking=, copy=,
    memory_format=."""
    dtype, where = kwargs.get("dtype"), kwargs.get("device")
    if dtype is not None and not isinstance(dtype, dt.dtype):
        if not _dtype_like(dtype):
            raise TypeError(f"to() received an invalid combination of arguments - got "
                            f"(dtype={type(dtype).__name__})")
        dtype = dt.from_np(dt.to_np(dtype))
    for a in args:
        if isinstance(a, dt.dtype):
            dtype = a
        elif _dtype_like(a):   # x.to(float): float64, as in torch; x.to(complex) refused
            dtype = dt.from_np(dt.to_np(a))
        elif isinstance(a, Tensor):
            dtype, where = a.dtype, _device_of(a)
        elif isinstance(a, (str, _device.device)) or (isinstance(a, int)
                                                       and not isinstance(a, bool)):
            where = a
        elif isinstance(a, bool):
            continue   # the old positional non_blocking / copy flags
        else:
            raise TypeError(f"to() received an invalid combination of arguments - got "
                            f"({type(a).__name__})")
    return dtype, where


def to(self: Tensor, *args, **kwargs) -> Tensor:
    """`to(dtype)`, `to(device)`, `to(device, dtype)`, `to(other)`: a tensor with that dtype
    on that device (`self` when nothing changes, unless `copy=True`)."""
    dtype, where = _parse_to(args, kwargs)
    out = self if dtype is None or dtype == self.dtype else \
        dispatch("cast", self, dtype=dtype.np)
    if where is not None:
        out = _moved(out, where)
    if kwargs.get("copy") and out is self:
        out = dispatch("clone", self)
    return out


def cuda(self: Tensor, device=None, non_blocking: bool = False, **kwargs) -> Tensor:
    """This tensor on a JAX GPU (`device`: an index or "cuda:N"; default the current one)."""
    if device is None:
        where = _device.device("cuda")
    elif isinstance(device, int):
        where = _device.device("cuda", device)
    else:
        where = device if isinstance(device, _device.device) else _device.device(device)
    return _moved(self, where)


def cpu(self: Tensor, memory_format=None) -> Tensor:
    return _moved(self, "cpu")


def get_device(self: Tensor) -> int:
    """The GPU index, or -1 for a CPU tensor (PyTorch's answer)."""
    where = _device_of(self)
    return -1 if where.type == "cpu" else where.index


Tensor.device = property(_device_of, doc="The device this tensor's array lives on.")
Tensor.is_cuda = property(lambda self: _device_of(self).type == "cuda")
Tensor.is_cpu = property(lambda self: _device_of(self).type == "cpu")
Tensor.is_meta = property(lambda self: False)
for _kind in ("mps", "xpu", "xla", "ipu", "vulkan", "maia", "mtia"):   # PyTorch's other devices
    setattr(Tensor, f"is_{_kind}", property(lambda self, kind=_kind: _device_of(self).type == kind))
Tensor.to = to
Tensor.cuda = cuda
Tensor.cpu = cpu
Tensor.get_device = get_device
_methods.to = to   # the dtype helpers written there (float(), half() ...) share it
