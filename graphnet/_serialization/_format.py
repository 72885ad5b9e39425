"""The safetensors container: named little-endian arrays plus a string->string metadata map.

Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON header (space padded
to a multiple of 8), then the raw tensor bytes. The header maps each tensor name to
``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets into the data section) and
may hold ``"__metadata__"``. We write and check it ourselves so that every way a file can
be damaged gets a precise message, and so tensors stream to disk one at a time.
"""

from __future__ import annotations

import json
import struct
import sys
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from . import _checksum, _strict_json
from ._entries import DAMAGED, DTYPES, Entry, check_layout, parse_entry
from ._errors import checkpoint_error

_CODES = {dtype: code for code, dtype in DTYPES.items()}

# Same cap as the reference implementation: a bigger header means a damaged or hostile file.
MAX_HEADER_BYTES = 100 * 1024 * 1024
_SWAP_BYTES = sys.byteorder == "big"  # the format is little-endian on disk


@dataclass(frozen=True)
class Header:
    metadata: dict[str, str]
    entries: list[Entry]
    data_start: int  # absolute offset of the data section in the stream
    checksums: dict[str, str] | None  # tensor name -> hex digest; None in files without them


def _write_tensor_bytes(f: BinaryIO, flat_bytes: np.ndarray) -> None:
    """Write one tensor's bytes. A separate function so tests can make a save fail halfway."""
    f.write(memoryview(flat_bytes))


def write(f: BinaryIO, arrays: dict[str, np.ndarray], metadata: dict[str, str],
          checksums: bool = True) -> None:
    """Write ``arrays`` (in order) and ``metadata`` to the binary stream ``f``.

    With ``checksums`` (what graphnet.save does) the metadata also gets the digests that
    ``read_header`` and ``read_tensor`` check; without, the file is what older graphnet wrote.
    """
    header: dict[str, Any] = {"__metadata__": dict(metadata)}
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
    if checksums:
        digests = {_checksum.HEADER_ENTRY: _checksum.header_digest(header)}
        for name, flat_bytes in zip(arrays, payload):
            digests[name] = _checksum.tensor_digest(memoryview(flat_bytes))
        header["__metadata__"][_checksum.METADATA_KEY] = json.dumps(digests,
                                                                    separators=(",", ":"))
    blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
    blob += b" " * (-len(blob) % 8)  # pad so the data section starts 8-byte aligned
    f.write(struct.pack("<Q", len(blob)))
    f.write(blob)
    for flat_bytes in payload:
        _write_tensor_bytes(f, flat_bytes)


def read_header(f: BinaryIO, where: str) -> Header:
    """Parse and check the header of the stream ``f`` (positioned at the file's start).

    After this returns, the entries tile the data section exactly, each with a size that
    matches its shape and dtype, and the header matches its checksum if it has one.
    """
    start = f.tell()
    size = f.seek(0, 2) - start
    f.seek(start)
    if size < 8:
        raise checkpoint_error(
            where, f"the file has only {size} bytes, too short to be a checkpoint", DAMAGED
        )
    (header_len,) = struct.unpack("<Q", f.read(8))
    if header_len > MAX_HEADER_BYTES or 8 + header_len > size:
        raise checkpoint_error(
            where,
            f"it is not a graphnet checkpoint or it is truncated: the first 8 bytes announce a "
            f"{header_len}-byte header but the file has {size} bytes in all",
            "Check that the path points at a file written by graphnet.save or torch.save. "
            + DAMAGED,
        )
    header = _parse_json(f.read(header_len), where)
    metadata = header.get("__metadata__", {})
    if metadata is None:  # the reference reader allows null for "no metadata"
        metadata = header["__metadata__"] = {}
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise checkpoint_error(
            where, "its __metadata__ is not a map of strings to strings", DAMAGED
        )
    entries = [parse_entry(name, spec, where) for name, spec in header.items()
               if name != "__metadata__"]
    check_layout(entries, size - 8 - header_len, where)
    checksums = _checksum.recorded_digests(header, [e.name for e in entries], where)
    return Header(metadata, entries, start + 8 + header_len, checksums)


def _parse_json(raw: bytes, where: str) -> dict[str, Any]:
    try:
        header = _strict_json.loads(raw.decode("utf-8"))
    except _strict_json.StrictJSONError as e:
        raise checkpoint_error(where, f"its header is malformed: {e}", DAMAGED) from None
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        header = None
    if not isinstance(header, dict):
        raise checkpoint_error(
            where, "it is not a graphnet checkpoint (its header is not a JSON object)",
            "Check that the path points at a file written by graphnet.save or torch.save.",
        )
    return header


def read_tensor(f: BinaryIO, header: Header, entry: Entry, where: str) -> np.ndarray:
    """Read one tensor into a fresh, writable, native-endian array of its own.

    Refuses the tensor if its bytes do not match the checksum recorded in the header.
    """
    array = np.empty(entry.shape, entry.dtype)
    buffer = memoryview(array.reshape(-1).view(np.uint8))
    f.seek(header.data_start + entry.begin)
    filled = 0
    while filled < len(buffer):
        n = f.readinto(buffer[filled:])
        if not n:
            raise checkpoint_error(
                where, f"the file ended inside tensor {entry.name!r}", DAMAGED
            )
        filled += n
    if header.checksums is not None:
        _checksum.check_tensor(buffer, header.checksums[entry.name], entry.name, where)
    if _SWAP_BYTES:
        array.byteswap(inplace=True)
    # NOTE: bool bytes other than 0/1 would be silently odd values in numpy; refuse them.
    if entry.dtype == np.bool_ and array.view(np.uint8).max(initial=0) > 1:
        raise checkpoint_error(
            where, f"bool tensor {entry.name!r} holds bytes other than 0 and 1", DAMAGED
        )
    return array
