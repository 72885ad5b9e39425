"""Read state dicts written by ``torch.save`` without importing torch or running its pickle.

A torch file is a zip: ``<root>/data.pkl`` (pickle of the object), ``<root>/data/<key>``
(raw bytes of each storage), ``<root>/byteorder``. Unpickling normally imports and calls
any global the pickle names; ours maps an allow-list of names to inert stand-ins defined
here and refuses every other name before anything is imported or called.
"""

from __future__ import annotations

import io
import math
import pickle
import sys
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, BinaryIO

import ml_dtypes
import numpy as np

from ._errors import CheckpointError, checkpoint_error

# torch.save's legacy (pre-1.6) format starts with the pickled magic number 0x1950a86a20f9469cfc6c.
_LEGACY_MAGIC = b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")

_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "BFloat16Storage": ml_dtypes.bfloat16, "LongStorage": np.int64, "IntStorage": np.int32,
    "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
# Dtypes torch names as globals, e.g. for _rebuild_tensor_v3 of uint16 tensors.
_TORCH_DTYPES = {
    "float32": np.float32, "float64": np.float64, "float16": np.float16, "bfloat16": ml_dtypes.bfloat16,
    "int64": np.int64, "int32": np.int32, "int16": np.int16, "int8": np.int8, "uint8": np.uint8,
    "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64, "bool": np.bool_,
}


def is_legacy_torch(head: bytes) -> bool:
    """True for files from torch.save(..., _use_new_zipfile_serialization=False) or torch < 1.6."""
    return head[:1] == b"\x80" and head[2:14] == _LEGACY_MAGIC


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


class _Dtype(_Inert):
    __slots__ = ("dtype",)

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype


class _Storage(_Inert):
    __slots__ = ("dtype", "raw")

    def __init__(self, raw: bytes, dtype: np.dtype | None) -> None:
        self.raw, self.dtype = raw, dtype


class _LoadedTensor(_Inert):
    """A tensor rebuilt as an owning, contiguous numpy array; converted after unpickling."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        self.array = array


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
        raise pickle.UnpicklingError("tensor has backward hooks; only an empty hook dict is supported")
    # torch records lazy conj/neg bits here; honouring them is out of scope, so refuse set bits.
    if metadata is not None and (not isinstance(metadata, dict) or any(metadata.values())):
        raise pickle.UnpicklingError(
            f"tensor metadata {metadata!r} is not supported; call .resolve_conj()/.resolve_neg() before torch.save"
        )


def _view(storage: object, offset: object, size: object, stride: object, dtype: np.dtype) -> _LoadedTensor:
    """Copy the strided view (offset, size, stride in elements) out of a storage, bounds-checked."""
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError(f"tensor storage is {type(storage).__name__}, not a storage")

    def counts(v: object) -> bool:
        return isinstance(v, tuple) and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v)

    if not (isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0):
        raise pickle.UnpicklingError(f"storage offset {offset!r} is not a non-negative int")
    if not (counts(size) and counts(stride) and len(size) == len(stride)):
        raise pickle.UnpicklingError(f"size {size!r} / stride {stride!r} are not matching tuples of ints >= 0")
    if len(storage.raw) % dtype.itemsize:
        raise pickle.UnpicklingError(f"storage of {len(storage.raw)} bytes does not hold whole {dtype} items")
    flat = np.frombuffer(storage.raw, dtype)
    if dtype == np.bool_ and np.frombuffer(storage.raw, np.uint8).max(initial=0) > 1:
        raise pickle.UnpicklingError("a bool storage holds bytes other than 0 and 1")
    if math.prod(size) == 0:
        return _LoadedTensor(np.empty(size, dtype))
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    # NOTE: as_strided does no bounds checks; this check is what keeps reads inside the storage.
    if last >= flat.size:
        raise pickle.UnpicklingError(
            f"tensor of size {size}, stride {stride}, offset {offset} reaches element {last} "
            f"of a storage with {flat.size} elements"
        )
    view = np.lib.stride_tricks.as_strided(flat[offset:], size, [s * dtype.itemsize for s in stride])
    return _LoadedTensor(np.array(view, copy=True))


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, metadata=None) -> _LoadedTensor:
    _check_flags(requires_grad, hooks, metadata)
    if not isinstance(storage, _Storage) or storage.dtype is None:
        raise pickle.UnpicklingError("_rebuild_tensor_v2 needs a typed storage")
    return _view(storage, offset, size, stride, storage.dtype)


def _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype, metadata=None) -> _LoadedTensor:
    _check_flags(requires_grad, hooks, metadata)
    if not isinstance(dtype, _Dtype):
        raise pickle.UnpicklingError(f"_rebuild_tensor_v3 got dtype {dtype!r}")
    return _view(storage, offset, size, stride, dtype.dtype)


def _rebuild_parameter(data, requires_grad, hooks, state=None) -> _LoadedTensor:
    # A Parameter loads as a plain tensor; Python attributes set on it are not supported.
    _check_flags(requires_grad, hooks, None)
    if not isinstance(data, _LoadedTensor) or state:
        raise pickle.UnpicklingError("parameter without tensor data, or with extra Python attributes")
    return data


def _allowed_globals() -> dict[tuple[str, str], object]:
    allowed: dict[tuple[str, str], object] = {("collections", "OrderedDict"): OrderedDict}
    for fn in (_rebuild_tensor_v2, _rebuild_tensor_v3):
        allowed["torch._utils", fn.__name__] = _Function(fn.__name__, fn)
    allowed["torch._utils", "_rebuild_parameter"] = _Function("_rebuild_parameter", _rebuild_parameter)
    allowed["torch._utils", "_rebuild_parameter_with_state"] = _Function("_rebuild_parameter", _rebuild_parameter)
    for name, dtype in _STORAGE_DTYPES.items():
        allowed["torch", name] = _StorageType(np.dtype(dtype))
    allowed["torch", "UntypedStorage"] = allowed["torch.storage", "UntypedStorage"] = _StorageType(None)
    for name, dtype in _TORCH_DTYPES.items():
        allowed["torch", name] = _Dtype(np.dtype(dtype))
    return allowed


ALLOWED_GLOBALS = _allowed_globals()


class _RefusedGlobal(pickle.UnpicklingError):
    pass


class _StateDictUnpickler(pickle.Unpickler):
    """Unpickler that resolves only ALLOWED_GLOBALS and loads storages from the zip."""

    def __init__(self, pickled: bytes, archive: zipfile.ZipFile, root: str) -> None:
        super().__init__(io.BytesIO(pickled))
        self._archive, self._root = archive, root
        self._storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> object:
        try:
            return ALLOWED_GLOBALS[module, name]
        except KeyError:
            raise _RefusedGlobal(f"{module}.{name}") from None

    def persistent_load(self, pid: object) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unknown persistent id {str(pid)[:80]}")
        _, storage_type, key, _location, numel = pid  # location ('cpu', 'cuda:0') is ignored: we load to host
        if not (isinstance(storage_type, _StorageType) and isinstance(key, str) and isinstance(numel, int)):
            raise pickle.UnpicklingError(f"malformed storage reference {str(pid)[:80]}")
        if key not in self._storages:
            itemsize = 1 if storage_type.dtype is None else storage_type.dtype.itemsize
            self._storages[key] = _Storage(self._read(key, numel * itemsize), storage_type.dtype)
        storage = self._storages[key]
        if storage.dtype != storage_type.dtype:
            raise pickle.UnpicklingError(f"storage {key!r} is referenced with two different dtypes")
        return storage

    def _read(self, key: str, nbytes: int) -> bytes:
        member = f"{self._root}data/{key}"
        try:
            info = self._archive.getinfo(member)
        except KeyError:
            raise pickle.UnpicklingError(f"storage {key!r} is missing from the archive") from None
        if info.file_size != nbytes:  # checked before reading, so a lying entry cannot make us inflate it
            raise pickle.UnpicklingError(f"storage {key!r} has {info.file_size} bytes, expected {nbytes}")
        return self._archive.read(member)


def load_torch_zip(f: BinaryIO, where: str, from_numpy: Callable[[np.ndarray], Any]) -> Any:
    """Load a torch.save zip from ``f``; tensors are built with ``from_numpy``."""
    try:
        with zipfile.ZipFile(f) as archive:
            roots = [n[: -len("data.pkl")] for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
            if len(roots) != 1:
                raise checkpoint_error(
                    where, "it is a zip archive but not a torch.save file (no single <name>/data.pkl inside)",
                    "Load only files written by torch.save or graphnet.save.",
                )
            root = roots[0]
            order = archive.read(root + "byteorder").decode() if root + "byteorder" in archive.namelist() else "little"
            if order not in ("little", "big"):
                raise checkpoint_error(where, f"its byteorder record is {order!r}", "Re-save the file with torch.save.")
            obj = _StateDictUnpickler(archive.read(root + "data.pkl"), archive, root).load()
    except CheckpointError:
        raise
    except _RefusedGlobal as e:
        raise checkpoint_error(
            where, f"its pickle refers to {e}, which is not on graphnet's allow-list (nothing was run)",
            "Only plain state_dicts (tensors, dicts, lists, numbers, strings) can be loaded; if you trust "
            "the file, load it with torch.load and re-save model.state_dict() or convert it with graphnet.save.",
        ) from None
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError, TypeError, KeyError,
            IndexError, AttributeError, RecursionError, MemoryError, UnicodeDecodeError, OSError) as e:
        raise checkpoint_error(
            where, f"it is a torch.save file graphnet cannot read ({type(e).__name__}: {e})",
            "The file is damaged or holds more than a state_dict; re-save model.state_dict() with torch.save.",
        ) from None
    return _convert(obj, from_numpy, swap_bytes=order != sys.byteorder, where=where)


def _convert(obj: Any, from_numpy: Callable[[np.ndarray], Any], swap_bytes: bool, where: str) -> Any:
    """Replace every _LoadedTensor with a graphnet tensor, in place for dicts and lists."""
    done: dict[int, Any] = {}  # pickle can share objects; convert each once and keep the sharing

    def walk(x: Any) -> Any:
        if id(x) in done:
            return done[id(x)]
        if isinstance(x, _LoadedTensor):
            done[id(x)] = from_numpy(x.array.byteswap() if swap_bytes else x.array)
        elif isinstance(x, _Inert):
            raise checkpoint_error(
                where, f"it holds a bare {type(x).__name__.lstrip('_')}, not a tensor",
                "Save tensors (e.g. model.state_dict()), not storages or dtypes.",
            )
        elif isinstance(x, dict):
            done[id(x)] = x
            for key, value in x.items():
                x[key] = walk(value)
        elif isinstance(x, list):
            done[id(x)] = x
            x[:] = [walk(v) for v in x]
        elif isinstance(x, tuple):
            done[id(x)] = tuple(walk(v) for v in x)
        else:
            return x
        return done[id(x)]

    try:
        return walk(obj)
    except RecursionError:
        raise checkpoint_error(where, "its object is nested too deeply", "Save a flatter state_dict.") from None
