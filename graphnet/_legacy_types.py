"""PyTorch's legacy tensor types, `graphnet.FloatTensor`, `LongTensor` ...: still common in
older code as constructors (`FloatTensor([1, 2])`, `LongTensor(2, 3)`), in
`isinstance(x, FloatTensor)` and in `x.type(LongTensor)`. Each is a class whose instances
are plain graphnet tensors of its dtype; calling it makes one, as PyTorch's do."""

from __future__ import annotations

from . import _device
from . import _dtype as dt
from . import _factories
from ._dtype_methods import _TYPE_NAMES
from ._size import Size
from ._tensor import Tensor


def legacy_data(data, default, device):
    """The array of `torch.Tensor(data, device=...)`: PyTorch's TypeError for one number (a
    sequence is asked for), the data placed on `device`."""
    if isinstance(data, (float, complex, bool)):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    return _device.place(_factories.as_array(data if data is not None else [], default), device)


class tensortype(type):
    """The metaclass of the legacy types: `isinstance` compares dtypes, calling constructs."""

    dtype: dt.dtype

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and instance.dtype is cls.dtype

    def __call__(cls, *args, device=None):
        if not args:
            return _factories.zeros(0, dtype=cls.dtype, device=device)
        if len(args) == 1 and isinstance(args[0], Tensor):
            data = args[0]
            if data.dtype is not cls.dtype:
                raise TypeError(f"expected {cls.dtype} (got {data.dtype})")
            return data.view(tuple(data.shape))    # an alias, as PyTorch's constructor gives
        if len(args) == 1 and isinstance(args[0], Size):   # FloatTensor(x.size()): a shape
            return _factories.zeros(*args[0], dtype=cls.dtype, device=device)
        if len(args) == 1 and isinstance(args[0], (float, complex, bool)):
            raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
        if len(args) == 1 and not isinstance(args[0], int):   # data: a list, tuple, array
            return _factories.tensor(args[0], dtype=cls.dtype, device=device)
        return _factories.zeros(*args, dtype=cls.dtype, device=device)

    def __repr__(cls) -> str:
        return f"<class 'graphnet.{cls.__name__}'>"


class cudatensortype(tensortype):
    """`graphnet.cuda.FloatTensor` ...: the same types on a GPU; without one, PyTorch's
    TypeError (a CPU tensor in their place would hide that the script wanted a GPU)."""

    def __instancecheck__(cls, instance) -> bool:
        return super().__instancecheck__(instance) and instance.is_cuda

    def __call__(cls, *args, device=None):
        from . import cuda

        if not cuda.is_available():
            raise TypeError(f"type torch.cuda.{cls.__name__} not available: JAX sees no GPU "
                            f"(graphnet.cuda.is_available() is False)")
        return super().__call__(*args, device=device or "cuda")

    def __repr__(cls) -> str:
        return f"<class 'graphnet.cuda.{cls.__name__}'>"


def _make(dtype: dt.dtype, name: str, kind: type = tensortype) -> tensortype:
    return kind(name, (), {"dtype": dtype, "is_cuda": kind is cudatensortype,
                           "__module__": "graphnet.cuda" if kind is cudatensortype else "graphnet"})


LEGACY = {name: _make(dtype, name) for dtype, name in _TYPE_NAMES.items()}
CUDA_LEGACY = {name: _make(dtype, name, cudatensortype) for dtype, name in _TYPE_NAMES.items()}
globals().update(LEGACY)
__all__ = sorted(LEGACY)
