"""The safetensors container: named little-endian arrays plus a string->string metadata map.

Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON header (space padded
to a multiple of 8), then the raw tensor bytes. The header maps each tensor name to
``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets into the data section) and
may hold ``"__metadata__"``. We write and check it ourselves so that every way a file can
be damaged gets a precise message, and so tensors stream to disk one at a time.
"""

from __future__ import annotations

import json
import math
import struct
import sys
from dataclasses import dataclass
from typing import BinaryIO

import ml_dtypes
import numpy as np

from ._errors import checkpoint_error

# safetensors dtype code -> numpy dtype. Codes follow the safetensors spec.
DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "U8": np.dtype(np.uint8),
    "I8": np.dtype(np.int8),
    "U16": np.dtype(np.uint16),
    "I16": np.dtype(np.int16),
    "U32": np.dtype(np.uint32),
    "I32": np.dtype(np.int32),
    "U64": np.dtype(np.uint64),
    "I64": np.dtype(np.int64),
    "F16": np.dtype(np.float16),
    "BF16": np.dtype(ml_dtypes.bfloat16),
    "F32": np.dtype(np.float32),
    "F64": np.dtype(np.float64),
}
_CODES = {dtype: code for code, dtype in DTYPES.items()}

# Same cap as the reference implementation: a bigger header means a damaged or hostile file.
MAX_HEADER_BYTES = 100 * 1024 * 1024
_SWAP_BYTES = sys.byteorder == "big"  # the format is little-endian on disk

_DAMAGED = ("The file is damaged (cut off or overwritten?); copy it again or load an earlier "
            "checkpoint.")


@dataclass(frozen=True)
class Entry:
    """Where one tensor lives in the file."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int  # byte offset into the data section
    end: int


@dataclass(frozen=True)
class Header:
    metadata: dict[str, str]
    entries: list[Entry]
    data_start: int  # absolute offset of the data section in the stream


def _write_tensor_bytes(f: BinaryIO, flat_bytes: np.ndarray) -> None:
    """Write one tensor's bytes. A separate function so tests can make a save fail halfway."""
    f.write(memoryview(flat_bytes))


def write(f: BinaryIO, arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write ``arrays`` (in order) and ``metadata`` to the binary stream ``f``."""
    header: dict[str, object] = {"__metadata__": metadata}
    payload: list[np.ndarray] = []
    offset = 0
    for name, array in arrays.items():
        code = _CODES.get(array.dtype)
        if code is None:
            raise TypeError(
                f"graphnet.save: tensor {name!r} has dtype {array.dtype}, which checkpoints cannot "
                f"store. Supported: {', '.join(str(d) for d in DTYPES.values())}; "
                f"cast it with .to(...)."
            )
        flat = np.ascontiguousarray(array).reshape(-1)
        if _SWAP_BYTES:
            flat = flat.byteswap()
        payload.append(flat.view(np.uint8))
        header[name] = {"dtype": code, "shape": list(array.shape),
                        "data_offsets": [offset, offset + flat.nbytes]}
        offset += flat.nbytes
    blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
    blob += b" " * (-len(blob) % 8)  # pad so the data section starts 8-byte aligned
    f.write(struct.pack("<Q", len(blob)))
    f.write(blob)
    for flat_bytes in payload:
        _write_tensor_bytes(f, flat_bytes)


def read_header(f: BinaryIO, where: str) -> Header:
    """Parse and check the header of the stream ``f`` (positioned at the file's start).

    After this returns, every entry is known to lie inside the file with a consistent size.
    """
    start = f.tell()
    size = f.seek(0, 2) - start
    f.seek(start)
    if size < 8:
        raise checkpoint_error(
            where, f"the file has only {size} bytes, too short to be a checkpoint", _DAMAGED
        )
    (header_len,) = struct.unpack("<Q", f.read(8))
    if header_len > MAX_HEADER_BYTES or 8 + header_len > size:
        raise checkpoint_error(
            where,
            f"it is not a graphnet checkpoint or it is truncated: the first 8 bytes announce a "
            f"{header_len}-byte header but the file has {size} bytes in all",
            "Check that the path points at a file written by graphnet.save or torch.save. "
            + _DAMAGED,
        )
    try:
        header = json.loads(f.read(header_len).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        header = None
    if not isinstance(header, dict):
        raise checkpoint_error(
            where, "it is not a graphnet checkpoint (its header is not a JSON object)",
            "Check that the path points at a file written by graphnet.save or torch.save.",
        )
    metadata = header.pop("__metadata__", {})
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise checkpoint_error(
            where, "its __metadata__ is not a map of strings to strings", _DAMAGED
        )
    entries = [_parse_entry(name, spec, where) for name, spec in header.items()]
    data_len = size - 8 - header_len
    needed = max((entry.end for entry in entries), default=0)
    if needed > data_len:
        raise checkpoint_error(
            where,
            f"the file is truncated: its tensors need {needed} bytes of data but only "
            f"{data_len} are there",
            _DAMAGED,
        )
    if needed < data_len:
        raise checkpoint_error(
            where, f"it has {data_len - needed} unexpected bytes after the last tensor", _DAMAGED
        )
    return Header(metadata, entries, start + 8 + header_len)


def _parse_entry(name: str, spec: object, where: str) -> Entry:
    def bad(what: str) -> Exception:
        return checkpoint_error(where, f"tensor {name!r} has {what} in the header", _DAMAGED)

    if not (isinstance(spec, dict) and set(spec) == {"dtype", "shape", "data_offsets"}):
        raise bad("an entry without exactly the keys dtype, shape, data_offsets")
    dtype = DTYPES.get(spec["dtype"]) if isinstance(spec["dtype"], str) else None
    if dtype is None:
        raise checkpoint_error(
            where, f"tensor {name!r} has dtype {spec['dtype']!r}, which graphnet cannot load",
            f"Supported dtypes: {', '.join(DTYPES)}. Convert the tensor before saving it.",
        )
    shape, offsets = spec["shape"], spec["data_offsets"]

    def is_count(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    if not (isinstance(shape, list) and all(is_count(d) for d in shape)):
        raise bad(f"shape {shape!r}, which is not a list of non-negative ints")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(is_count(o) for o in offsets)):
        raise bad(f"data_offsets {offsets!r}, which is not [begin, end]")
    begin, end = offsets
    if end - begin != math.prod(shape) * dtype.itemsize:
        raise bad(f"data_offsets {offsets!r} that do not match shape {shape} of {spec['dtype']}")
    return Entry(name, dtype, tuple(shape), begin, end)


def read_tensor(f: BinaryIO, header: Header, entry: Entry, where: str) -> np.ndarray:
    """Read one tensor into a fresh, writable, native-endian array of its own."""
    array = np.empty(entry.shape, entry.dtype)
    buffer = memoryview(array.reshape(-1).view(np.uint8))
    f.seek(header.data_start + entry.begin)
    filled = 0
    while filled < len(buffer):
        n = f.readinto(buffer[filled:])
        if not n:
            raise checkpoint_error(
                where, f"the file ended inside tensor {entry.name!r}", _DAMAGED
            )
        filled += n
    if _SWAP_BYTES:
        array.byteswap(inplace=True)
    # NOTE: bool bytes other than 0/1 would be silently odd values in numpy; refuse them.
    if entry.dtype == np.bool_ and array.view(np.uint8).max(initial=0) > 1:
        raise checkpoint_error(
            where, f"bool tensor {entry.name!r} holds bytes other than 0 and 1", _DAMAGED
        )
    return array
