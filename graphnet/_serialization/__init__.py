"""graphnet.save / graphnet.load: checkpoints as single safetensors files, no pickle.

``save`` writes nested dicts/lists/tuples of tensors and plain Python values; ``load``
reads them back, and also reads ``torch.save`` state dicts through an allow-listed
unpickler. The format is described in docs/serialization.md.
"""

from __future__ import annotations

import json
import os
from typing import Any, BinaryIO, Union

import numpy as np

from . import _atomic, _format, _locations, _sharing, _strict_json, _torch_reader, _tree
from ._errors import CheckpointError, checkpoint_error

__all__ = ["FORMAT_VERSION", "CheckpointError", "load", "save"]

FORMAT_TAG = "graphnet"
FORMAT_VERSION = 2   # the newest this reads; save writes 1 unless the file has views (2)

PathOrFile = Union[str, "os.PathLike[str]", BinaryIO]


# --- The bridge to graphnet tensors. The core may rebind these; tests may monkeypatch them. ---
# graphnet is imported lazily because graphnet/__init__.py imports this package.


def _to_numpy(t: Any) -> np.ndarray:
    """Host copy of a graphnet.Tensor, keeping its dtype."""
    # NOTE: detach first: numpy() refuses tensors that require grad, but saving a
    # Parameter directly is as legitimate as saving its state_dict copy.
    value = getattr(t, "_value", None)
    if getattr(value, "is_fully_addressable", True) is False:
        # sharded over several processes' devices: every process gathers the whole value
        # (an XLA all-gather), so each writes the same file as one device would
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(value, tiled=True))
    return t.detach().numpy()


def _from_numpy(a: np.ndarray) -> Any:
    """A graphnet.Tensor holding ``a`` with the same dtype."""
    import graphnet

    return graphnet.from_numpy(a)


def _from_torch_value(kind: str, value: Any) -> Any:
    """graphnet's Size, device or dtype for one a torch file holds as plain data (a tuple of
    ints, a (type, index) pair, a numpy dtype); KeyError/RuntimeError where it has none."""
    import graphnet
    from graphnet import _dtype

    if kind == "Size":
        return graphnet.Size(value)
    if kind == "device":
        return graphnet.device(*value)
    return _dtype.from_np(value)


def _holds_dtype(dtype: np.dtype) -> bool:
    """Whether graphnet tensors come in ``dtype`` (safetensors and torch also have uint16...)."""
    from graphnet import _dtype

    try:
        _dtype.from_np(dtype)
    except KeyError:
        return False
    return True


def _is_tensor(x: Any) -> bool:
    import graphnet

    return isinstance(x, graphnet.Tensor)


# --- Public API ---


def save(obj: Any, f: PathOrFile, pickle_module: Any = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Write ``obj`` (nested dict / list / tuple of Tensors, ints, floats, bools, strs, None)
    to ``f``.

    ``f`` is a path (the file is replaced atomically: readers see the old or the new
    checkpoint, never a partial one) or a binary file object opened for writing.
    Dict keys must be str or int; their type and order are kept, as is tuple vs list.
    ``torch.save``'s other arguments are accepted so that its callers run unchanged; they
    choose how torch pickles, and graphnet's format holds no pickle (they change nothing).

    Example::

        graphnet.save({"model": model.state_dict(), "optim": opt.state_dict(), "step": 100},
                      "ckpt.safetensors")
    """
    structure, tensors, dict_metadata = _tree.encode(obj, _is_tensor)
    # tensors sharing storage (`[t, t[1:3]]`, tied weights) are written once, as views
    arrays, views = _sharing.plan(tensors, _to_numpy)
    metadata = {
        "format": FORMAT_TAG,
        "version": "2" if views else "1",
        "structure": json.dumps(structure, separators=(",", ":"), allow_nan=False),
    }
    if views:
        metadata["views"] = json.dumps(views, separators=(",", ":"))
    if dict_metadata:   # NOTE: a key older readers ignore: they load the same, without it
        metadata["dict_metadata"] = json.dumps(dict_metadata, separators=(",", ":"),
                                               allow_nan=False)
    if _is_file_object(f):
        _format.write(f, arrays, metadata)
    else:
        _atomic.write_atomically(os.fspath(f), lambda out: _format.write(out, arrays, metadata))


def load(f: PathOrFile, map_location: Any = None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None,
         **pickle_load_args: Any) -> Any:
    """Read a checkpoint written by ``graphnet.save`` or a state dict written by ``torch.save``.

    ``f`` is a path or a seekable binary file object. Torch files are read without
    importing torch and without running code from the file: only tensors, containers and
    plain values are accepted. Anything else raises CheckpointError saying why.

    ``map_location`` says where tensors go, with ``torch.load``'s rules (see _locations.py):
    a device or its name puts every tensor there; a dict maps the location a storage was
    saved from (``{"cuda:0": "cpu"}``); a function ``fn(storage, location)`` returns the
    storage, moved or not, or None. graphnet's own files are saved from ``"cpu"``. Without
    it, a storage torch saved on a GPU needs one, as in torch. ``weights_only`` and ``mmap``
    are accepted as ``torch.load`` takes them, and ``pickle_module`` and pickle's own
    arguments (``encoding=``) too; a load never runs code from the file either way
    (``weights_only=False`` and a ``pickle_module`` do not let a pickled object through;
    ``weights_only=True`` with a ``pickle_module`` is refused, as in torch). Tensors that shared
    a storage when saved share it again (an in-place change of one shows in the others).

    Example::

        state = graphnet.load("ckpt.safetensors", map_location="cpu")
        model.load_state_dict(state["model"])
    """
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                           "specified")
    restore = _locations.restorer(map_location)
    if _is_file_object(f):
        return _load_stream(f, str(getattr(f, "name", None) or f"<{type(f).__name__}>"), restore)
    path = os.fspath(f)
    with open(path, "rb") as stream:
        return _load_stream(stream, path, restore)


def _is_file_object(f: object) -> bool:
    # Paths (str, os.PathLike) have neither method; open files and BytesIO have both.
    return hasattr(f, "read") or hasattr(f, "write")


def _load_stream(f: BinaryIO, where: str, restore: _locations.Restore) -> Any:
    start = f.tell()
    head = f.read(16)
    f.seek(start)
    if head.startswith(b"PK\x03\x04"):
        return _torch_reader.load_torch_zip(f, where, lambda a: _from_numpy(_held(a, where)),
                                            restore, _from_torch_value)
    if _torch_reader.is_legacy_torch(head):
        raise checkpoint_error(
            where,
            "it was written in torch's legacy (pre-1.6, non-zip) format, "
            "which graphnet does not read",
            "Re-save it with a current torch: torch.save(torch.load(path), path).",
        )
    header = _format.read_header(f, where)
    structure = _checked_structure(header.metadata, where)
    for entry in header.entries:
        if not _holds_dtype(entry.dtype):
            raise checkpoint_error(
                where, f"tensor {entry.name!r} has dtype {entry.dtype}, which graphnet tensors "
                       f"do not support", _UNSUPPORTED_DTYPE_FIX,
            )
    views = _sharing.parse_views(header.metadata["views"], {e.name: e.shape for e in
                                                           header.entries}, where) \
        if "views" in header.metadata and header.metadata.get("version") == "2" else {}
    arrays = {}
    for e in header.entries:   # each entry is a storage saved from the host
        device = restore(e.end - e.begin, "cpu")
        tensor = _from_numpy(_format.read_tensor(f, header, e, where))
        arrays[e.name] = tensor if device is None else tensor.to(device)
    tensors = {name: t for name, t in arrays.items() if name not in
               {storage for storage, *_ in views.values()}}
    for storage in dict.fromkeys(storage for storage, *_ in views.values()):
        names = [name for name, view in views.items() if view[0] == storage]
        places = [views[name][1:] for name in names]
        tensors.update(zip(names, _sharing.views_of(arrays[storage], places)))
    obj, used = _tree.decode(structure, tensors, where,
                             _checked_json(header.metadata, "dict_metadata", [], where))
    unused = sorted(set(tensors) - used)
    if unused:
        raise checkpoint_error(
            where, f"it holds tensors its structure never refers to: {unused[:5]}",
            "The file is corrupted or was edited by hand; load an earlier checkpoint.",
        )
    return obj


_UNSUPPORTED_DTYPE_FIX = ("Read the raw array with safetensors.numpy.load_file or torch.load and "
                          "convert it (e.g. to int32) before saving.")


def _held(array: np.ndarray, where: str) -> np.ndarray:
    """``array`` itself if graphnet tensors have its dtype; else CheckpointError."""
    if not _holds_dtype(array.dtype):
        raise checkpoint_error(
            where, f"it holds a {array.dtype} tensor, which graphnet tensors do not support",
            _UNSUPPORTED_DTYPE_FIX,
        )
    return array


def _checked_structure(metadata: dict[str, str], where: str) -> Any:
    """The decoded structure JSON, after checking the format tag and version."""
    if metadata.get("format") != FORMAT_TAG:
        raise checkpoint_error(
            where,
            'it is a safetensors file but not a graphnet checkpoint (no "format": "graphnet" '
            "in its metadata)",
            "To read its raw tensors use safetensors.numpy.load_file(path) and "
            "graphnet.from_numpy.",
        )
    version = metadata.get("version")
    if version not in ("1", str(FORMAT_VERSION)):
        raise checkpoint_error(
            where,
            f"it uses checkpoint format version {version!r}; "
            f"this graphnet reads versions 1 to {FORMAT_VERSION}",
            "Load it with the graphnet version that wrote it, or upgrade graphnet.",
        )
    return _checked_json(metadata, "structure", None, where)


def _checked_json(metadata: dict[str, str], key: str, absent: Any, where: str) -> Any:
    """The JSON under ``key`` of the header's metadata, parsed (``absent`` without one)."""
    if absent is not None and key not in metadata:
        return absent
    try:
        return _strict_json.loads(metadata.get(key, ""))
    except (ValueError, RecursionError) as e:
        raise checkpoint_error(
            where, f"the {key} in its metadata is not valid JSON ({str(e)[:120]})",
            "The file is corrupted or was edited by hand; load an earlier checkpoint.",
        ) from None
