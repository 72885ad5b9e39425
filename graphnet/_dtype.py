"""graphnet dtypes: thin named wrappers over numpy dtypes so they print like PyTorch's."""

from __future__ import annotations

import builtins

import numpy as np

try:  # bfloat16 comes with jax (ml_dtypes); keep the import soft for tooling
    from ml_dtypes import bfloat16 as _bf16
except ImportError:  # pragma: no cover
    _bf16 = None


class dtype:
    """A tensor element type. ``graphnet.float32`` prints as ``graphnet.float32``."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name: str, np_dtype, is_floating_point: bool, is_signed: bool = True):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = is_floating_point
        self.is_signed = is_signed
        self.itemsize = self.np.itemsize

    @property
    def is_complex(self) -> bool:
        return self.np.kind == "c"

    def __repr__(self) -> str:
        return f"graphnet.{self.name}"

    def __reduce__(self):
        return (_lookup_name, (self.name,))

    def to_real(self) -> "dtype":
        """The real dtype of this one: itself (graphnet's dtypes are all real)."""
        return self

    def to_complex(self) -> "dtype":
        """PyTorch's complex counterpart: graphnet has no complex dtypes, so refused (an
        integer dtype has none in PyTorch either)."""
        if not self.is_floating_point:
            raise RuntimeError(f"Unknown Complex ScalarType for {_CPP_NAMES.get(self.name)}")
        raise TypeError(f"{self!r}.to_complex(): graphnet has no complex dtypes; keep the "
                        f"real and imaginary parts as two real tensors")


float16 = dtype("float16", np.float16, True)
float32 = dtype("float32", np.float32, True)
float64 = dtype("float64", np.float64, True)
int8 = dtype("int8", np.int8, False)
int16 = dtype("int16", np.int16, False)
int32 = dtype("int32", np.int32, False)
int64 = dtype("int64", np.int64, False)
uint8 = dtype("uint8", np.uint8, False, is_signed=False)
uint16 = dtype("uint16", np.uint16, False, is_signed=False)
uint32 = dtype("uint32", np.uint32, False, is_signed=False)
uint64 = dtype("uint64", np.uint64, False, is_signed=False)
bool_ = dtype("bool", np.bool_, False, is_signed=False)
ALL = [float16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
       bool_]
if _bf16 is not None:
    bfloat16 = dtype("bfloat16", _bf16, True)
    ALL.append(bfloat16)

_CPP_NAMES = {"int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte",
              "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64", "bool": "Bool"}

# PyTorch's aliases
half, float, double, short, int, long = float16, float32, float64, int16, int32, int64

_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}


def _lookup_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_np(np_dtype) -> dtype:
    """The graphnet dtype for a numpy/jax dtype."""
    return _BY_NP[np.dtype(np_dtype)]


def known_np(np_dtype) -> bool:
    """Whether a numpy dtype has a graphnet dtype (complex64 has none)."""
    return np.dtype(np_dtype) in _BY_NP


def supported_names() -> str:
    names = [d.name for d in ALL]
    return ", ".join(names[:-1]) + ", and " + names[-1]


def cast_input(op: str, input, d):
    """`input` in dtype `d` (None: as it is) for op `op`'s `dtype=`; a `d` that is not a
    dtype raises PyTorch's TypeError (`softmax(x, 1, dtype="float64")` read the string as a
    device before)."""
    if d is None:
        return input
    if not isinstance(d, dtype) and d not in (builtins.float, builtins.int, builtins.bool):
        raise TypeError(f"{op}(): argument 'dtype' must be torch.dtype, not "
                        f"{type(d).__name__}")
    return input.to(d)


def to_np(d) -> np.dtype | None:
    """Accept a graphnet dtype, a numpy dtype, a Python type or None."""
    if d is None:
        return None
    if isinstance(d, dtype):
        return d.np
    # NOTE: this module rebinds `float`/`int` to dtypes (PyTorch's aliases), hence builtins.*
    if d is builtins.float:     # PyTorch's too: `dtype=float` is float64, whatever the default
        return float64.np
    if d is builtins.int:
        return int64.np
    if d is builtins.bool:
        return bool_.np
    if isinstance(d, str):   # PyTorch's parser takes no names: `zeros(2, dtype="float32")`
        raise TypeError(f"argument 'dtype' must be torch.dtype, not str ({d!r}); pass "
                        f"graphnet.{d.removeprefix('torch.')} if that is a dtype")
    found = np.dtype(d)
    if not known_np(found):   # `dtype=complex` built complex arrays graphnet cannot read back
        raise TypeError(f"dtype {d!r} has no graphnet dtype (graphnet's dtypes are "
                        f"{supported_names()}; it has no complex dtypes: keep real and "
                        f"imaginary parts as two real tensors)")
    return found


def short_name(np_dtype) -> str:
    """Compact name used in IR listings: f32, i64, b8 ..."""
    d = np.dtype(np_dtype)
    if d == np.bool_:
        return "b8"
    if d.name == "bfloat16":
        return "bf16"
    return {"f": "f", "i": "i", "u": "u"}.get(d.kind, d.kind) + str(d.itemsize * 8)
