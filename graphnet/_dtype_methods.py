"""Dtype questions and conversions as PyTorch spells them: `x.type()`, `x.type(dtype)`,
`x.short()`, `x.element_size()`, `x.is_signed()`, `promote_types`, `result_type`,
`can_cast`, `is_floating_point`, `is_nonzero` ...

graphnet has no complex dtypes (JAX has them, but graphnet's autograd, kernels and
checkpoints are real-valued): on real tensors the complex helpers are what PyTorch makes them
(`conj`, `resolve_conj`, `resolve_neg` and `.real` return the tensor, `angle` is 0 or pi),
and the names that would make a complex tensor raise a TypeError saying so.

>>> import graphnet as torch
>>> torch.ones(2).type(), torch.ones(2).type("torch.LongTensor").dtype
('torch.FloatTensor', graphnet.int64)
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from . import _dtype as dt
from ._default_dtype import default_float
from . import _math as M
from ._tensor import Tensor

# PyTorch's legacy tensor type names, which `x.type()` returns and `x.type(name)` accepts
_TYPE_NAMES = {dt.float32: "FloatTensor", dt.float64: "DoubleTensor", dt.float16: "HalfTensor",
               dt.uint8: "ByteTensor", dt.int8: "CharTensor", dt.int16: "ShortTensor",
               dt.int32: "IntTensor", dt.int64: "LongTensor", dt.bool_: "BoolTensor",
               dt.uint16: "UInt16Tensor", dt.uint32: "UInt32Tensor", dt.uint64: "UInt64Tensor"}
if hasattr(dt, "bfloat16"):
    _TYPE_NAMES[dt.bfloat16] = "BFloat16Tensor"
_BY_TYPE_NAME = {name: d for d, name in _TYPE_NAMES.items()}


def _dtype_of_type_name(name: str) -> dt.dtype:
    parts = name.split(".")
    # 'torch.FloatTensor', 'graphnet.FloatTensor' ('torch.cuda.FloatTensor': `type`)
    if len(parts) == 2 and parts[0] in ("torch", "graphnet") and parts[-1] in _BY_TYPE_NAME:
        return _BY_TYPE_NAME[parts[-1]]
    raise ValueError(f"invalid type: {name!r}")


def type(self: Tensor, dtype=None, non_blocking: bool = False, **kwargs):
    """`x.type()`: PyTorch's type string ('torch.FloatTensor'); `x.type(dtype)` or
    `x.type('torch.LongTensor')`: `x` converted to that dtype."""
    del non_blocking, kwargs
    if dtype is None:
        return f"torch.{_TYPE_NAMES.get(self.dtype, self.dtype.name)}"
    if (isinstance(dtype, str) and ".cuda." in dtype) or getattr(dtype, "is_cuda", 0) is True:
        # 'torch.cuda.FloatTensor': on the GPU, where PyTorch puts it (or its error without one)
        name = dtype if isinstance(dtype, str) else f"torch.{dtype.__name__}"
        return self.to("cuda", _dtype_of_type_name(name.replace(".cuda.", ".")))
    if isinstance(dtype, str):
        dtype = _dtype_of_type_name(dtype)
    elif dtype is Tensor:       # x.type(torch.Tensor): the default float type, as PyTorch's
        from ._default_dtype import default_float

        dtype = default_float()
    elif not isinstance(dtype, dt.dtype) and isinstance(getattr(dtype, "dtype", None), dt.dtype):
        dtype = dtype.dtype     # a legacy type: x.type(graphnet.LongTensor)
    return self.to(dtype)


def element_size(self: Tensor) -> int:
    """Bytes per element (4 for float32)."""
    return self.dtype.itemsize


def is_signed(self: Tensor) -> bool:
    """True for float and signed integer dtypes, False for bool and unsigned ones."""
    return self.dtype.is_signed


def is_signed_function(input: Tensor) -> bool:
    """`graphnet.is_signed(x)`: `x.is_signed()`."""
    return input.is_signed()


def is_floating_point(input: Tensor) -> bool:
    """True for float16, bfloat16, float32 and float64 tensors."""
    return input.dtype.is_floating_point


def is_complex(input: Tensor) -> bool:
    """Always False: graphnet has no complex dtypes."""
    del input
    return False


def is_conj(input: Tensor) -> bool:
    """Always False (no complex tensors, so no lazily conjugated ones)."""
    del input
    return False


def is_neg(input: Tensor) -> bool:
    """Always False (no lazily negated complex views)."""
    del input
    return False


def is_nonzero(input: Tensor) -> bool:
    """The truth of a one-element tensor (RuntimeError for any other size, as in PyTorch)."""
    n = input.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input)


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


def numel(input: Tensor) -> int:
    """The number of elements."""
    return input.numel()


def conj(input: Tensor) -> Tensor:
    """The complex conjugate: the tensor itself, as for every real tensor in PyTorch."""
    return input


resolve_conj = resolve_neg = conj_physical = conj


def real(input: Tensor) -> Tensor:
    """The real part: the tensor itself for a real tensor, as in PyTorch."""
    return input


def imag(input: Tensor) -> Tensor:
    """PyTorch's error: a real tensor has no imaginary part."""
    del input
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def angle(input: Tensor) -> Tensor:
    """The argument of each element: pi for negative values, 0 otherwise, NaN for NaN
    (integer input gives the default dtype); its gradient is 0."""
    x = input if M._is_float(input) else input.to(default_float())
    # NOTE: at a NaN, x itself passed the gradient through; sign(x) (0 there, derivative 0)
    # plus x detached keeps the NaN and the result's link to x, with gradient 0
    from ._grad_fn_names import renamed

    from ._factories import full_like

    nan = M.sign(x) + x.detach()
    # NOTE: pi in x's dtype: as a Python number it was float32's pi in a float64 result
    pi = full_like(x.detach(), math.pi)
    out = M.where(M.isnan(x), nan, M.where(M.lt(x, 0), pi, 0.0))
    return renamed(out, "AngleBackward0", "where")


def _no_complex(name: str, alternative: str):
    def refuse(*args, **kwargs):
        raise TypeError(f"{name}: graphnet has no complex dtypes (its kernels, autograd and "
                        f"checkpoints are real-valued); {alternative}")

    refuse.__name__ = refuse.__qualname__ = name.split(".")[-1].rstrip("()")
    refuse.__doc__ = f"Refused: graphnet has no complex dtypes; {alternative}."
    refuse._graphnet_refusal = True   # runtime/coverage.py lists it as refused
    return refuse


_PAIRS = "keep real and imaginary parts as two real tensors (or a trailing dim of size 2)"
complex = _no_complex("graphnet.complex(real, imag)", _PAIRS)
polar = _no_complex("graphnet.polar(abs, angle)",
                    "compute abs * cos(angle) and abs * sin(angle) as two real tensors")
view_as_complex = _no_complex("graphnet.view_as_complex(x)", _PAIRS)


def view_as_real(input: Tensor) -> Tensor:
    """PyTorch's error for a real tensor (graphnet has no complex ones)."""
    del input
    raise RuntimeError("view_as_real is only supported for complex tensors")


view_as_real_copy = view_as_real
view_as_complex_copy = _no_complex("graphnet.view_as_complex_copy(x)", _PAIRS)
_FRAMES = ("frame the signal with `x.unfold(-1, n_fft, hop)`, multiply by a window, and take "
           "the real and imaginary parts as matmuls with cos and -sin DFT matrices")
stft = _no_complex("graphnet.stft(x, n_fft)", _FRAMES)
istft = _no_complex("graphnet.istft(x, n_fft)", "invert the two real parts with matmuls by "
                    "the inverse DFT matrices and overlap-add the frames (`F.fold`)")


# ---- promotion: PyTorch's rules, not NumPy's (int64 + float16 is float16) ------------------

def _category(d: dt.dtype) -> int:
    return 0 if d == dt.bool_ else 2 if d.is_floating_point else 1


def promote_types(type1: dt.dtype, type2: dt.dtype) -> dt.dtype:
    """The smallest dtype both `type1` and `type2` convert to without losing their kind:
    `promote_types(int64, float16)` is float16, `promote_types(uint8, int8)` is int16."""
    c1, c2 = _category(type1), _category(type2)
    if c1 != c2:
        return type1 if c1 > c2 else type2
    if c1 == 2 and {type1.name, type2.name} == {"float16", "bfloat16"}:
        return dt.float32
    return dt.from_np(np.promote_types(type1.np, type2.np))


def _operand_dtype(x):
    """(priority, dtype): dim > 0 tensors 2, 0-d tensors 1, Python numbers 0 (a float
    number counts as the default float dtype, `get_default_dtype()`)."""
    if isinstance(x, Tensor):
        return (2 if x.dim() > 0 else 1), x.dtype
    if isinstance(x, builtins.bool):
        return 0, dt.bool_
    if isinstance(x, builtins.int):
        return 0, dt.int64
    if isinstance(x, builtins.float):
        return 0, default_float()
    if isinstance(x, builtins.complex):
        raise TypeError("result_type: graphnet has no complex dtypes")
    raise TypeError(f"result_type(): expected a Tensor or a number, got {x!r}")


def _combine(higher, lower):
    """PyTorch's rule for joining a higher-priority result with a lower one: the lower can
    only raise the kind (bool < int < float), never the width within a kind."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if _category(higher) == 2:
        return higher
    if higher == dt.bool_ or _category(lower) == 2:
        return promote_types(higher, lower)
    return higher


def result_type(tensor1, tensor2) -> dt.dtype:
    """The dtype an arithmetic op on `tensor1` and `tensor2` (tensors or numbers) returns."""
    by_priority = {0: None, 1: None, 2: None}
    for x in (tensor1, tensor2):
        priority, d = _operand_dtype(x)
        current = by_priority[priority]
        by_priority[priority] = d if current is None else promote_types(current, d)
    return _combine(by_priority[2], _combine(by_priority[1], by_priority[0]))


def can_cast(from_: dt.dtype, to: dt.dtype) -> bool:
    """Whether PyTorch's casting rules allow `from_` -> `to` in an op's output: no float to
    integer, no non-bool to bool."""
    return _category(from_) <= _category(to) or (_category(to) == 1 and _category(from_) == 0)


_METHODS = {
    "type": type, "element_size": element_size, "is_signed": is_signed,
    "is_complex": is_complex, "is_conj": is_conj, "is_neg": is_neg, "conj": conj,
    "resolve_conj": resolve_conj, "resolve_neg": resolve_neg, "conj_physical": conj_physical,
    "conj_physical_": lambda self: self, "angle": angle, "is_nonzero": is_nonzero,
    "is_same_size": is_same_size,
    # `x.real = y` writes y into x (its real part is itself), `x.imag = y` raises, as in
    # PyTorch (before, both raised AttributeError: the properties had no setter)
    "real": property(real, lambda self, value: self.copy_(value)),
    "imag": property(imag, lambda self, value: imag(self)),
    "short": lambda self, **k: self.to(dt.int16), "char": lambda self, **k: self.to(dt.int8),
    "byte": lambda self, **k: self.to(dt.uint8),
    "cfloat": _no_complex("Tensor.cfloat()", "use float() and keep complex parts separate"),
    "cdouble": _no_complex("Tensor.cdouble()", "use double() and keep complex parts separate"),
    "chalf": _no_complex("Tensor.chalf()", "use half() and keep complex parts separate"),
    "stft": stft, "istft": istft,
}
if hasattr(dt, "bfloat16"):
    _METHODS["bfloat16"] = lambda self, **k: self.to(dt.bfloat16)
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

__all__ = ["angle", "can_cast", "complex", "conj", "conj_physical", "imag", "is_complex",
           "is_conj", "is_floating_point", "is_neg", "is_nonzero", "is_same_size", "numel",
           "polar", "promote_types", "real", "resolve_conj", "resolve_neg", "result_type",
           "view_as_complex", "view_as_real", "view_as_complex_copy", "view_as_real_copy",
           "is_signed", "conj_physical_", "stft", "istft"]
is_signed = is_signed_function


def conj_physical_(input: Tensor) -> Tensor:
    """In place conjugate: nothing to do on a real tensor."""
    return input
