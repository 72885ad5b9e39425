"""PyTorch's memory formats: `torch.channels_last`, `contiguous_format`, `preserve_format`,
`channels_last_3d`, and the `memory_format=` argument of `contiguous`, `clone`, `to`,
`empty`, the `*_like` factories and `is_contiguous`.

graphnet's arrays are dense JAX arrays whose layout XLA picks, so a memory format never
changes a value. What it changes is what PyTorch reports and allows: `stride()`,
`is_contiguous(...)`, and whether `view` works. So a channels-last result records PyTorch's
channels-last strides (graphnet/_strides.py), exactly as a strided view records its own.

NOTE: PyTorch's elementwise ops and casts keep a channels-last input's format; graphnet's give
row-major strides (see graphnet/_strides.py), except `to(...)`, `clone()` and the `*_like`
factories, which keep it here as PyTorch's default `preserve_format` does.

>>> import graphnet as torch
>>> x = torch.randn(2, 3, 4, 5).contiguous(memory_format=torch.channels_last)
>>> x.stride(), x.is_contiguous(memory_format=torch.channels_last)
((60, 1, 15, 3), True)
"""

from __future__ import annotations

from . import _factories as fac
from . import _layout as L
from . import _placement   # NOTE: its Tensor.to, which `to` below wraps
from . import _strides as S
from ._dispatch import dispatch
from ._settings import uninitialized
from ._tensor import Tensor


class memory_format:
    """One of PyTorch's memory formats; the four instances are the only ones."""

    __slots__ = ("_name",)

    def __new__(cls, *args, **kwargs):
        raise TypeError("cannot create 'graphnet.memory_format' instances")

    @classmethod
    def _make(cls, name: str) -> "memory_format":
        made = object.__new__(cls)
        object.__setattr__(made, "_name", name)
        return made

    def __repr__(self) -> str:
        return f"graphnet.{self._name}"

    def __reduce__(self):
        return self._name      # pickled by name: unpickling gives the same object


contiguous_format = memory_format._make("contiguous_format")
channels_last = memory_format._make("channels_last")
channels_last_3d = memory_format._make("channels_last_3d")
preserve_format = memory_format._make("preserve_format")
legacy_contiguous_format = contiguous_format   # the same object in PyTorch

# channels_last / channels_last_3d: the rank they need and the order of the dims from the
# fastest-varying (stride 1) to the slowest, as PyTorch lays them out.
_ORDER = {channels_last: (4, (1, 3, 2, 0)), channels_last_3d: (5, (1, 4, 3, 2, 0))}


def checked(fmt, where: str):
    """`fmt` when it is a memory format or None, else PyTorch's TypeError."""
    if fmt is not None and not isinstance(fmt, memory_format):
        raise TypeError(f"{where}(): argument 'memory_format' must be torch.memory_format, "
                        f"not {type(fmt).__name__}")
    return fmt


def _rank_checked(shape, fmt) -> tuple:
    rank, order = _ORDER[fmt]
    if len(shape) != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {fmt._name} format")
    return order


def format_strides(shape, fmt) -> tuple:
    """The strides PyTorch gives a dense tensor of `shape` in `fmt` (sizes taken as they are,
    zeros included, as PyTorch's get_channels_last_strides does)."""
    if fmt in (None, contiguous_format):
        return S.contiguous_strides(shape)
    order = _rank_checked(shape, fmt)
    strides, step = [0] * len(shape), 1
    for d in order:
        strides[d] = step
        step *= shape[d]
    return tuple(strides)


def is_contiguous_as(shape, strides, fmt) -> bool:
    """PyTorch's is_contiguous(memory_format): for the channels-last formats, the dims of
    size other than 1 in channels-last order have dense strides (no shortcut for an empty
    tensor, as in PyTorch); for the others, the row-major rule."""
    if fmt not in _ORDER:
        return S.is_contiguous(shape, strides)
    rank, order = _ORDER[fmt]
    if len(shape) != rank:
        return False
    expected = 1
    for d in order:
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


def _suggested(t: Tensor):
    """The format `preserve_format` keeps: channels-last when `t`'s strides are exactly
    channels-last ones other than the row-major ones (an empty tensor's too, as PyTorch
    copies a dense tensor's strides), else row-major."""
    shape, strides = tuple(t.shape), S.layout(t)[0]
    if strides == S.contiguous_strides(shape):
        return contiguous_format
    for fmt, (rank, _) in _ORDER.items():
        if len(shape) == rank and strides == format_strides(shape, fmt):
            return fmt
    return contiguous_format


def laid_out(out: Tensor, fmt) -> Tensor:
    """`out`, a fresh dense tensor, reported with the strides of `fmt`."""
    shape = tuple(out.shape)
    S.set_layout(out, format_strides(shape, fmt), 0)
    if "_layout" in out.__dict__ and fmt in (None, contiguous_format):
        del out.__dict__["_layout"]
    return out


def _resolved(source: Tensor, fmt):
    fmt = preserve_format if fmt is None else fmt
    return _suggested(source) if fmt is preserve_format else fmt


def contiguous(input: Tensor, memory_format=contiguous_format) -> Tensor:
    """`input` itself when it is already contiguous in `memory_format`, else a copy laid out
    that way (writes to the copy stay in it)."""
    fmt = checked(memory_format, "contiguous") or contiguous_format
    if fmt is contiguous_format:
        return L.contiguous(input)
    if fmt in _ORDER:
        _rank_checked(tuple(input.shape), fmt)
    if is_contiguous_as(tuple(input.shape), S.layout(input)[0], fmt):
        return input
    if fmt is preserve_format:
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    return laid_out(dispatch("clone", input), fmt)


def clone(input: Tensor, *, memory_format=preserve_format) -> Tensor:
    """A copy of `input` that gradients flow through, laid out in `memory_format` (by default
    `input`'s own channels-last or row-major format)."""
    fmt = _resolved(input, checked(memory_format, "clone"))
    return laid_out(dispatch("clone", input), fmt)


def to(self: Tensor, *args, memory_format=preserve_format, **kwargs) -> Tensor:
    """`Tensor.to(...)` with PyTorch's `memory_format=`: `self` when nothing changes (its
    layout already in that format), else a copy laid out in it; a cast keeps a
    channels-last tensor's format, as PyTorch's default `preserve_format` does."""
    asked = checked(memory_format, "to")
    out = _placement.to(self, *args, **kwargs)
    if asked in (None, preserve_format):
        return out if out is self else laid_out(out, _suggested(self))
    if out is self:
        if asked in _ORDER:
            _rank_checked(tuple(self.shape), asked)
        if is_contiguous_as(tuple(self.shape), S.layout(self)[0], asked):
            return self
        out = dispatch("clone", self)
    return laid_out(out, asked)


def _like(factory, name: str):
    def made(input, *args, memory_format=preserve_format, **kwargs):
        fmt = _resolved(input, checked(memory_format, name))
        return laid_out(factory(input, *args, **kwargs), fmt)

    made.__name__ = made.__qualname__ = name
    made.__doc__ = (factory.__doc__ or f"`{name}`") + \
        " Laid out in `memory_format` (by default `input`'s own format)."
    return made


empty_like = _like(lambda *args, **kwargs: uninitialized(fac.empty_like(*args, **kwargs)),
                   "empty_like")
zeros_like = _like(fac.zeros_like, "zeros_like")
ones_like = _like(fac.ones_like, "ones_like")
full_like = _like(fac.full_like, "full_like")
rand_like = _like(fac.rand_like, "rand_like")
randn_like = _like(fac.randn_like, "randn_like")
randint_like = _like(fac.randint_like, "randint_like")


def empty(*size, memory_format=contiguous_format, **kwargs) -> Tensor:
    """`empty(*size)` (zeros in graphnet; filled as PyTorch fills it under deterministic
    algorithms, `_settings.uninitialized`) laid out in `memory_format`."""
    fmt = checked(memory_format, "empty") or contiguous_format
    if fmt is preserve_format:
        raise RuntimeError("unsupported memory format Preserve")
    return uninitialized(laid_out(fac.empty(*size, **kwargs), fmt))


# NOTE: attached here, after graphnet/_placement.py attached its `to`, which this one wraps
# (`is_contiguous` is graphnet/_tensor_layout.py's, which asks `is_contiguous_as`).
Tensor.contiguous = contiguous
Tensor.clone = clone
Tensor.to = to

__all__ = ["channels_last", "channels_last_3d", "clone", "contiguous_format", "empty",
           "empty_like", "full_like", "legacy_contiguous_format", "memory_format", "ones_like",
           "preserve_format", "rand_like", "randint_like", "randn_like", "zeros_like"]
