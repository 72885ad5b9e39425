"""The tensor entries of a safetensors header: each one checked alone, then their layout.

Every check raises CheckpointError naming the file and the tensor, so a damaged header never
reaches numpy (whose own errors would be a bare ValueError without the file's name).
"""

from __future__ import annotations

from dataclasses import dataclass

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

MAX_NDIM = 64  # numpy's limit on dimensions
# numpy (like safetensors' reader) refuses arrays whose byte count does not fit an int64,
# even when another dimension is 0; checking it here keeps that refusal ours.
_MAX_BYTES = 2**63 - 1

DAMAGED = ("The file is damaged (cut off or overwritten?); copy it again or load an earlier "
           "checkpoint.")


@dataclass(frozen=True)
class Entry:
    """Where one tensor lives in the file."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int  # byte offset into the data section
    end: int


def _is_count(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _fits(shape: list[int], itemsize: int) -> bool:
    """True if the non-zero dimensions times the item size stay within an int64."""
    total = itemsize
    for n in shape:
        total *= n or 1
        if total > _MAX_BYTES:  # stop early: a hostile shape may have huge dimensions
            return False
    return True


def parse_entry(name: str, spec: object, where: str) -> Entry:
    """Check one ``name: {"dtype", "shape", "data_offsets"}`` header entry."""
    def bad(what: str) -> Exception:
        return checkpoint_error(where, f"tensor {name!r} has {what} in the header", DAMAGED)

    if not (isinstance(spec, dict) and set(spec) == {"dtype", "shape", "data_offsets"}):
        raise bad("an entry without exactly the keys dtype, shape, data_offsets")
    code = spec["dtype"]
    dtype = DTYPES.get(code) if isinstance(code, str) else None
    if dtype is None:
        raise checkpoint_error(
            where, f"tensor {name!r} has dtype {str(code)[:40]!r}, which graphnet cannot load",
            f"Supported dtypes: {', '.join(DTYPES)}. Convert the tensor before saving it.",
        )
    shape, offsets = spec["shape"], spec["data_offsets"]
    if not (isinstance(shape, list) and all(_is_count(d) for d in shape)):
        raise bad(f"shape {str(shape)[:80]}, which is not a list of non-negative ints")
    if len(shape) > MAX_NDIM:
        raise bad(f"a shape with {len(shape)} dimensions (at most {MAX_NDIM} are supported)")
    if not _fits(shape, dtype.itemsize):
        raise bad(f"shape {str(shape)[:80]}, whose size overflows an int64")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)):
        raise bad(f"data_offsets {str(offsets)[:80]}, which is not [begin, end] of "
                  f"non-negative ints")
    begin, end = offsets
    if end < begin:
        raise bad(f"data_offsets {offsets} that end before they begin")
    expected = dtype.itemsize
    for n in shape:
        expected *= n
    if end - begin != expected:
        raise bad(f"data_offsets {offsets} ({end - begin} bytes) that do not match shape "
                  f"{shape} of {code} ({expected} bytes)")
    return Entry(name, dtype, tuple(shape), begin, end)


def check_layout(entries: list[Entry], data_len: int, where: str) -> None:
    """Refuse overlapping tensors, gaps between them and bytes missing or left over.

    Like the reference safetensors reader: sorted by offset, the tensors must tile the data
    section exactly. Two tensors sharing bytes would let one write show up in the other.
    """
    position, previous = 0, None
    for entry in sorted(entries, key=lambda e: (e.begin, e.end)):
        if entry.begin < position:
            raise checkpoint_error(
                where, f"tensors {previous.name!r} and {entry.name!r} share bytes (data_offsets "
                       f"[{previous.begin}, {previous.end}] and [{entry.begin}, {entry.end}])",
                DAMAGED,
            )
        if entry.begin > position:
            before = f"between tensor {previous.name!r} and" if previous else "before"
            raise checkpoint_error(
                where, f"it has {entry.begin - position} unused bytes {before} tensor "
                       f"{entry.name!r}", DAMAGED,
            )
        if entry.end > data_len:
            raise checkpoint_error(
                where, f"the file is truncated: tensor {entry.name!r} needs data bytes up to "
                       f"{entry.end} but only {data_len} are there", DAMAGED,
            )
        position = entry.end
        if entry.end > entry.begin:
            previous = entry
    if position < data_len:
        raise checkpoint_error(
            where, f"it has {data_len - position} unexpected bytes after the last tensor", DAMAGED
        )
