"""The allow-list for reading ``torch.save`` pickles: the torch globals a state dict may name.

Each allowed global maps to an inert stand-in defined here (storage types, dtypes and the
tensor-rebuilding functions, reimplemented on numpy). Every stand-in refuses pickle's BUILD
opcode, and the rebuild functions check their arguments, so a file can only ever produce
bounds-checked numpy arrays, dicts, Counters, lists and plain values (and Size, device and
dtype stand-ins, converted after unpickling).
"""

from __future__ import annotations

import math
import pickle
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any

import ml_dtypes
import numpy as np

_MAX_NDIM = 64  # numpy's limit on dimensions
_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "BFloat16Storage": ml_dtypes.bfloat16, "LongStorage": np.int64, "IntStorage": np.int32,
    "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
# Dtypes torch names as globals, e.g. for _rebuild_tensor_v3 of uint16 tensors.
_TORCH_DTYPES = {
    "float32": np.float32, "float64": np.float64, "float16": np.float16,
    "bfloat16": ml_dtypes.bfloat16, "int64": np.int64, "int32": np.int32, "int16": np.int16,
    "int8": np.int8, "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32,
    "uint64": np.uint64, "bool": np.bool_,
}


class _Inert:
    """Base of every object the pickle can get hold of: refuses pickle's BUILD opcode,
    which would otherwise let the file set attributes on our objects."""

    __slots__ = ()

    def __setstate__(self, state: object) -> None:
        raise pickle.UnpicklingError(f"the pickle tries to set state on {type(self).__name__}")


class _StorageType(_Inert):
    __slots__ = ("dtype",)  # None for UntypedStorage (raw bytes, dtype given to _rebuild_tensor_v3)

    def __init__(self, dtype: np.dtype | None) -> None:
        self.dtype = dtype


class _TorchValue(_Inert):
    """A torch.Size, torch.device or dtype found in the pickle, held as plain data (``value``);
    _torch_reader turns one found as a value of its own into graphnet's Size, device or dtype."""

    __slots__ = ("value",)
    kind = ""

    def __init__(self, value: object) -> None:
        self.value = value


class _Dtype(_TorchValue):
    __slots__ = ()
    kind = "dtype"

    @property
    def dtype(self) -> np.dtype:
        return self.value


class _Size(_TorchValue):
    __slots__ = ()
    kind = "Size"   # value: a tuple of ints


class _Device(_TorchValue):
    __slots__ = ()
    kind = "device"   # value: (type, index or None)


class _Storage(_Inert):
    # location: the tag torch.save recorded ('cpu', 'cuda:0' ...); views: the tensors built
    # on it, whose sharing the loaded tensors keep (_sharing.py)
    __slots__ = ("dtype", "raw", "location", "views")

    def __init__(self, raw: bytes, dtype: np.dtype | None, location: str = "cpu") -> None:
        self.raw, self.dtype, self.location = raw, dtype, location
        self.views: list[_LoadedTensor] = []


class _LoadedTensor(_Inert):
    """A tensor rebuilt as an owning, contiguous numpy array; converted after unpickling.
    ``storage`` and ``place`` ((offset, size, stride) in elements) say where it lies in its
    storage, checked to be in bounds."""

    __slots__ = ("array", "requires_grad", "parameter", "storage", "place")

    def __init__(self, array: np.ndarray, requires_grad: bool = False,
                 parameter: bool = False, storage: _Storage | None = None,
                 place: tuple | None = None) -> None:
        self.array, self.requires_grad, self.parameter = array, requires_grad, parameter
        self.storage, self.place = storage, place


class _Function(_Inert):
    """An allowed torch function, replaced by our own implementation."""

    __slots__ = ("fn", "name")

    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        self.name, self.fn = name, fn

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)


def _check_flags(requires_grad: object, backward_hooks: object, metadata: object) -> None:
    if not isinstance(requires_grad, bool):
        raise pickle.UnpicklingError(f"requires_grad is {requires_grad!r}, not a bool")
    if not isinstance(backward_hooks, dict) or backward_hooks:
        raise pickle.UnpicklingError("tensor has backward hooks; only an empty hook dict is "
                                     "supported")
    # torch records lazy conj/neg bits here; honouring them is out of scope, so refuse set bits.
    if metadata is not None and (not isinstance(metadata, dict) or any(metadata.values())):
        raise pickle.UnpicklingError(
            f"tensor metadata {metadata!r} is not supported; "
            "call .resolve_conj()/.resolve_neg() before torch.save"
        )


def _view(storage: object, offset: object, size: object, stride: object,
          dtype: np.dtype) -> _LoadedTensor:
    """Copy the strided view (offset, size, stride in elements) out of a storage, bounds-checked."""
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError(f"tensor storage is {type(storage).__name__}, not a storage")

    def counts(v: object) -> bool:
        return isinstance(v, tuple) and all(isinstance(x, int) and not isinstance(x, bool)
                                            and x >= 0 for x in v)

    if not (isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0):
        raise pickle.UnpicklingError(f"storage offset {offset!r} is not a non-negative int")
    if not (counts(size) and counts(stride) and len(size) == len(stride)):
        raise pickle.UnpicklingError(f"size {_short(size)} / stride {_short(stride)} are not "
                                     f"matching tuples of ints >= 0")
    if len(storage.raw) % dtype.itemsize:
        raise pickle.UnpicklingError(f"storage of {len(storage.raw)} bytes does not hold "
                                     f"whole {dtype} items")
    if len(size) > _MAX_NDIM:
        raise pickle.UnpicklingError(f"tensor has {len(size)} dimensions; at most {_MAX_NDIM} "
                                     f"are supported")
    flat = np.frombuffer(storage.raw, dtype)
    if dtype == np.bool_ and np.frombuffer(storage.raw, np.uint8).max(initial=0) > 1:
        raise pickle.UnpicklingError("a bool storage holds bytes other than 0 and 1")
    numel = math.prod(size)
    if numel == 0:
        return _LoadedTensor(np.empty(size, dtype), storage=storage)
    # NOTE: a tensor needs more elements than its storage holds only if its strides overlap
    # (expand(), stride 0). Refused: a few hundred bytes could otherwise expand into gigabytes.
    if numel > flat.size - offset:
        raise pickle.UnpicklingError(
            f"tensor of size {_short(size)}, stride {_short(stride)} has {numel} elements, "
            f"more than the {max(flat.size - offset, 0)} its storage holds from offset {offset}; "
            f"call .contiguous() (or .clone()) on expanded tensors before torch.save"
        )
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    # NOTE: as_strided does no bounds checks; this check is what keeps reads inside the storage.
    if last >= flat.size:
        raise pickle.UnpicklingError(
            f"tensor of size {_short(size)}, stride {_short(stride)}, offset {offset} reaches "
            f"element {last} of a storage with {flat.size} elements"
        )
    # A dimension of size 1 never moves along its stride, which may then be any int; zero it
    # so numpy never sees a stride too large for its byte arithmetic.
    byte_strides = [s * dtype.itemsize if n > 1 else 0 for n, s in zip(size, stride)]
    view = np.lib.stride_tricks.as_strided(flat[offset:], size, byte_strides)
    loaded = _LoadedTensor(np.array(view, copy=True), storage=storage,
                           place=(offset, tuple(size), tuple(stride)))
    storage.views.append(loaded)
    return loaded


def _short(values: tuple) -> str:
    text = str(values)
    return text if len(text) <= 80 else text[:77] + "..."


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks,
                       metadata=None) -> _LoadedTensor:
    _check_flags(requires_grad, hooks, metadata)
    if not isinstance(storage, _Storage) or storage.dtype is None:
        raise pickle.UnpicklingError("_rebuild_tensor_v2 needs a typed storage")
    loaded = _view(storage, offset, size, stride, storage.dtype)
    loaded.requires_grad = requires_grad
    return loaded


def _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype,
                       metadata=None) -> _LoadedTensor:
    _check_flags(requires_grad, hooks, metadata)
    if not isinstance(dtype, _Dtype):
        raise pickle.UnpicklingError(f"_rebuild_tensor_v3 got dtype {dtype!r}")
    loaded = _view(storage, offset, size, stride, dtype.dtype)
    loaded.requires_grad = requires_grad
    return loaded


def _rebuild_parameter(data, requires_grad, hooks, state=None) -> _LoadedTensor:
    # A Parameter loads as a Parameter; Python attributes set on it are not supported.
    _check_flags(requires_grad, hooks, None)
    if not isinstance(data, _LoadedTensor) or state:
        raise pickle.UnpicklingError("parameter without tensor data, or with extra Python "
                                     "attributes")
    if data.storage is not None and any(v is data for v in data.storage.views):
        # NOTE: a Parameter is its own storage's owner in graphnet, never a view of another
        # tensor, so it loads as a copy (see _sharing.py); its data tensor is gone
        data.storage.views[:] = [v for v in data.storage.views if v is not data]
    return _LoadedTensor(data.array, requires_grad, parameter=True, storage=data.storage)


def _plain_set(items: object = ()) -> set:
    if type(items) not in (list, tuple):
        raise pickle.UnpicklingError(f"set built from {type(items).__name__}, not a list")
    return set(items)   # members are checked after unpickling (_torch_reader._convert)


def _plain_complex(real: object = 0.0, imag: object = 0.0) -> complex:
    if not all(type(x) in (int, float) for x in (real, imag)):
        raise pickle.UnpicklingError("complex built from non-numbers")
    return complex(real, imag)


def _plain_counter(counts: object = None) -> Counter:
    # a Counter pickles as Counter(dict(self)), e.g. MultiStepLR's milestones
    if counts is None:
        return Counter()
    if type(counts) is not dict:
        raise pickle.UnpicklingError(f"Counter built from {type(counts).__name__}, not a dict")
    return Counter(counts)   # keys and values are checked after unpickling


def _torch_size(dims: object = ()) -> _Size:
    # torch.Size pickles as torch.Size(tuple_of_ints)
    if type(dims) is not tuple or not all(type(d) is int for d in dims):
        raise pickle.UnpicklingError(f"torch.Size built from {_short(dims)}, not ints")
    return _Size(dims)


def _torch_device(kind: object, index: object = None) -> _Device:
    # torch.device pickles as torch.device('cpu') or torch.device('cuda', 1)
    if type(kind) is not str or not (index is None or type(index) is int):
        raise pickle.UnpicklingError(f"torch.device built from {kind!r}, {index!r}")
    return _Device((kind, index))


def _latin1_bytes(text: object, encoding: object = "utf-8") -> bytes:
    # protocol 2 pickles bytes as _codecs.encode(text, "latin1")
    if type(text) is not str or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode is allowed only for latin1 bytes")
    return text.encode("latin1")


def _plain_bytearray(data: object = b"", encoding: object = "latin-1") -> bytearray:
    # protocol 2 pickles a bytearray as bytearray(text, "latin-1"), or from bytes
    if type(data) is str:
        return bytearray(_latin1_bytes(data, encoding))
    if type(data) is not bytes:
        raise pickle.UnpicklingError(f"bytearray built from {type(data).__name__}")
    return bytearray(data)


def _allowed_globals() -> dict[tuple[str, str], object]:
    allowed: dict[tuple[str, str], object] = {("collections", "OrderedDict"): OrderedDict}
    # NOTE: torch.load(weights_only=True) reads these too; each is rebuilt from plain values
    # its function checks, never by calling the class the pickle names
    allowed["collections", "Counter"] = _Function("Counter", _plain_counter)
    allowed["torch", "Size"] = _Function("Size", _torch_size)
    allowed["torch", "device"] = _Function("device", _torch_device)
    # NOTE: torch.load(weights_only=True) reads Python sets and complex numbers too; torch.save
    # pickles with protocol 2, which names them as __builtin__ globals
    for module in ("builtins", "__builtin__"):
        allowed[module, "set"] = _Function("set", _plain_set)
        allowed[module, "complex"] = _Function("complex", _plain_complex)
        allowed[module, "bytearray"] = _Function("bytearray", _plain_bytearray)
    allowed["_codecs", "encode"] = _Function("encode", _latin1_bytes)
    for fn in (_rebuild_tensor_v2, _rebuild_tensor_v3):
        allowed["torch._utils", fn.__name__] = _Function(fn.__name__, fn)
    allowed["torch._utils", "_rebuild_parameter"] = _Function("_rebuild_parameter",
                                                              _rebuild_parameter)
    allowed["torch._utils", "_rebuild_parameter_with_state"] = _Function("_rebuild_parameter",
                                                                         _rebuild_parameter)
    for name, dtype in _STORAGE_DTYPES.items():
        allowed["torch", name] = _StorageType(np.dtype(dtype))
    allowed["torch", "UntypedStorage"] = allowed["torch.storage", "UntypedStorage"] = \
        _StorageType(None)
    for name, dtype in _TORCH_DTYPES.items():
        allowed["torch", name] = _Dtype(np.dtype(dtype))
    return allowed


ALLOWED_GLOBALS = _allowed_globals()
