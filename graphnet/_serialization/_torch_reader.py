"""Read state dicts written by ``torch.save`` without importing torch or running its pickle.

A torch file is a zip: ``<root>/data.pkl`` (pickle of the object), ``<root>/data/<key>``
(raw bytes of each storage), ``<root>/byteorder``. Unpickling normally imports and calls
any global the pickle names; ours maps an allow-list of names to inert stand-ins (defined
in ``_torch_allowlist.py``) and refuses every other name before anything is imported or called.
"""

from __future__ import annotations

import io
import pickle
import struct
import sys
import zipfile
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

from ._errors import CheckpointError, UnsafeCheckpointError, checkpoint_error
from ._locations import Restore, restorer
from ._sharing import views_of
from ._torch_allowlist import (ALLOWED_GLOBALS, _Inert, _LoadedTensor, _Storage, _StorageType,
                               _TorchValue)
from ._tree import learnable

# torch.save's legacy (pre-1.6) format starts with the pickled magic 0x1950a86a20f9469cfc6c.
_LEGACY_MAGIC = b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")


def is_legacy_torch(head: bytes) -> bool:
    """True for files from torch.save(..., _use_new_zipfile_serialization=False) or torch < 1.6."""
    return head[:1] == b"\x80" and head[2:14] == _LEGACY_MAGIC


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
        _, storage_type, key, location, numel = pid  # location: 'cpu', 'cuda:0' ...
        if not (isinstance(storage_type, _StorageType) and isinstance(key, str)
                and isinstance(location, str) and isinstance(numel, int)):
            raise pickle.UnpicklingError(f"malformed storage reference {str(pid)[:80]}")
        if key not in self._storages:
            itemsize = 1 if storage_type.dtype is None else storage_type.dtype.itemsize
            self._storages[key] = _Storage(self._read(key, numel * itemsize), storage_type.dtype,
                                           location)
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
        # Checked before reading, so a lying entry cannot make us inflate it.
        if info.file_size != nbytes:
            raise pickle.UnpicklingError(f"storage {key!r} has {info.file_size} bytes, "
                                         f"expected {nbytes}")
        return self._archive.read(member)


# What zipfile and pickle raise on damaged or hostile input. tests/test_checkpoint_fuzz.py found
# NotImplementedError (a flipped compression method, flag or zip version) and zlib.error (a
# flip that makes a stored entry "deflated"); zipfile raises RuntimeError for the "encrypted"
# flag. Nothing from the file has run when any of these is raised.
_UNREADABLE = (pickle.UnpicklingError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error,
               struct.error, EOFError, ValueError, TypeError, LookupError, AttributeError,
               RecursionError, MemoryError, OverflowError, NotImplementedError, RuntimeError,
               OSError)


def load_torch_zip(f: BinaryIO, where: str, from_numpy: Callable[[np.ndarray], Any],
                   restore: Restore | None = None,
                   from_torch_value: Callable[[str, Any], Any] | None = None) -> Any:
    """Load a torch.save zip from ``f``; tensors are built with ``from_numpy`` on the device
    ``restore(nbytes, location)`` gives for their storage (None: where from_numpy puts them),
    and a Size, device or dtype with ``from_torch_value(kind, plain_value)`` (None: refused)."""
    try:
        with zipfile.ZipFile(f) as archive:
            roots = [n[: -len("data.pkl")] for n in archive.namelist()
                     if n.endswith("/data.pkl") and n.count("/") == 1]
            if len(roots) != 1:
                raise checkpoint_error(
                    where, "it is a zip archive but not a torch.save file "
                           "(no single <name>/data.pkl inside)",
                    "Load only files written by torch.save or graphnet.save.",
                )
            root = roots[0]
            order = (archive.read(root + "byteorder").decode()
                     if root + "byteorder" in archive.namelist() else "little")
            if order not in ("little", "big"):
                raise checkpoint_error(where, f"its byteorder record is {order!r}",
                                       "Re-save the file with torch.save.")
            unpickler = _StateDictUnpickler(archive.read(root + "data.pkl"), archive, root)
            obj = unpickler.load()
    except CheckpointError:
        raise
    except _RefusedGlobal as e:
        raise checkpoint_error(
            where,
            f"its pickle refers to {e}, which is not on graphnet's allow-list (nothing was run)",
            "Only plain state_dicts (tensors, dicts, lists, numbers, strings) can be loaded, "
            "whatever weights_only says; if you trust the file, load it with torch.load and "
            "re-save model.state_dict() or convert it with graphnet.save.",
            UnsafeCheckpointError,
        ) from None
    except _UNREADABLE as e:
        raise checkpoint_error(
            where, f"it is a torch.save file graphnet cannot read ({type(e).__name__}: {e})",
            "The file is damaged or holds more than a state_dict; "
            "re-save model.state_dict() with torch.save.",
        ) from None
    # NOTE: after the unpickling, outside its error handling: a map_location function is the
    # user's code, and what it raises reaches the user as it is (as in torch.load)
    restore = restore or restorer(None)
    devices = {id(s): restore(len(s.raw), s.location) for s in unpickler._storages.values()}

    def tensor_of(array: np.ndarray, storage: _Storage | None) -> Any:
        tensor = from_numpy(array.byteswap() if order != sys.byteorder else array)
        device = None if storage is None else devices.get(id(storage))
        return tensor if device is None else tensor.to(device)

    return _convert(obj, tensor_of, where=where, value_of=from_torch_value)


# Values a pickle builds without a global (or through an allowed builtin: complex, set...),
# returned to the user as they are.
_PLAIN_TYPES = (type(None), bool, int, float, complex, str, bytes, bytearray)


def _convert(obj: Any, tensor_of: Callable[[np.ndarray, Any], Any], where: str,
             value_of: Callable[[str, Any], Any] | None = None) -> Any:
    """Replace every _LoadedTensor with a graphnet tensor and every Size, device or dtype
    stand-in with ``value_of(kind, value)``, in place for dicts and lists.

    Everything the pickle built is visited: containers are rebuilt or checked, tensors
    converted, and any other object (a bare storage, a tensor used as a dict key) refused,
    so none of our stand-ins ever reaches the user.
    """
    done: dict[int, Any] = {}  # pickle can share objects; convert each once and keep the sharing
    shared: dict[int, Any] = {}  # id of a _LoadedTensor -> its view of a storage it shares

    def refuse(problem: str, fix: str = "Save a plain state_dict: tensors in dicts and lists, "
                                          "with str or int keys.") -> Exception:
        return checkpoint_error(where, problem, fix)

    def check_hashable(x: Any) -> None:
        """Dict keys and set members: plain values only (a tensor key would stay a stand-in)."""
        if type(x) in _PLAIN_TYPES:
            return
        if type(x) in (tuple, frozenset):
            for member in x:
                check_hashable(member)
            return
        raise refuse(f"it uses a {_describe(x)} as a dict key or set member")

    def walk(x: Any) -> Any:
        if type(x) in _PLAIN_TYPES:
            return x
        if id(x) in done:
            return done[id(x)]
        if isinstance(x, _LoadedTensor):
            if id(x) not in shared and x.storage is not None:
                shared.update(_shared_views(x.storage, tensor_of))
            tensor = shared.get(id(x))
            if tensor is None:
                tensor = tensor_of(x.array, x.storage)
                if x.parameter or x.requires_grad:
                    tensor = learnable(tensor, x.requires_grad, x.parameter, where)
            done[id(x)] = tensor
        elif isinstance(x, _TorchValue) and value_of is not None:
            done[id(x)] = _torch_value(x, value_of, refuse)
        elif isinstance(x, _Inert):
            raise refuse(f"it holds a bare {_describe(x)}, not a tensor",
                         "Save tensors (e.g. model.state_dict()), not storages or dtypes.")
        elif type(x) in (dict, OrderedDict, Counter):
            done[id(x)] = x
            # NOTE: torch sets attributes on state_dict OrderedDicts (``_metadata``) through
            # pickle's BUILD opcode; they are walked like items so nothing escapes conversion.
            for mapping in (x, vars(x)) if type(x) is not dict else (x,):
                for key in mapping:
                    check_hashable(key)
                for key, value in mapping.items():
                    mapping[key] = walk(value)
        elif type(x) is list:
            done[id(x)] = x
            x[:] = [walk(v) for v in x]
        elif type(x) is tuple:
            done[id(x)] = tuple(walk(v) for v in x)
        elif type(x) in (set, frozenset):
            check_hashable(frozenset(x))
            done[id(x)] = x
        else:  # unreachable with today's allow-list; refused so a future entry cannot leak
            raise refuse(f"it holds a {_describe(x)}")
        return done[id(x)]

    try:
        return walk(obj)
    except RecursionError:
        raise refuse("its object is nested too deeply or contains itself through a tuple",
                     "Save a flatter state_dict.") from None


def _shared_views(storage: _Storage, tensor_of: Callable[[np.ndarray, Any], Any]) -> dict:
    """Tensors viewing one storage (``[t, t[1:3]]``, tied weights), as views of one tensor of
    the storage's values: in-place changes show in all of them, as after torch.load. Tensors
    that require grad are left out: they load as their own copies (_sharing.py)."""
    members = [v for v in storage.views if not (v.requires_grad or v.parameter)]
    if len(members) < 2 or len({v.array.dtype for v in members}) != 1:
        return {}
    flat = tensor_of(np.frombuffer(storage.raw, members[0].array.dtype).copy(), storage)
    tensors = views_of(flat, [v.place for v in members])
    storage.views = []   # built once
    return {id(v): t for v, t in zip(members, tensors)}


def _torch_value(x: _TorchValue, value_of: Callable[[str, Any], Any],
                 refuse: Callable[..., Exception]) -> Any:
    """graphnet's object for a Size, device or dtype stand-in; CheckpointError where graphnet
    has none (a uint16 dtype, an 'mps' device)."""
    try:
        return value_of(x.kind, x.value)
    except (KeyError, RuntimeError, TypeError, ValueError) as e:
        raise refuse(f"it holds torch.{x.kind} {x.value}, which graphnet has no {x.kind} for "
                     f"({type(e).__name__}: {e})",
                     f"Save the {x.kind} as a plain value (a string or a tuple) instead.") from None


def _describe(x: Any) -> str:
    if isinstance(x, _LoadedTensor):
        return "tensor"
    return type(x).__name__.lstrip("_")
