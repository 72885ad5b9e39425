"""Checkpoint fuzzer: damaged files are refused with CheckpointError or load identical.

Real checkpoints (a small model's state_dict, Adam's state, nested metadata) written by
graphnet.save, and a state_dict written by torch.save, get one mutation each: a bit flip, a
truncation, or an edit of the header (offsets, shapes, dtypes, duplicate or deleted keys,
garbage, the length prefix, metadata values). Every outcome must be "refused" (CheckpointError)
or "identical"; "different" (loaded other values) or "other" (another exception, a large
allocation) fails the test, listing the mutations that caused it. Run with -s for the figures.
"""

from __future__ import annotations

import collections
import io
import json
import struct
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import graphnet
from graphnet import _serialization as ser
from graphnet._serialization import CheckpointError

MEMORY_LIMIT = 64 * 2**20  # the files are a few KB; no load may allocate more than this


# --- the original files --------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint() -> bytes:
    model = graphnet.nn.Sequential(graphnet.nn.Linear(8, 16), graphnet.nn.BatchNorm1d(16),
                                   graphnet.nn.Linear(16, 4))
    opt = graphnet.optim.Adam(model.parameters(), lr=1e-3)
    model(graphnet.ones(5, 8)).sum().backward()
    opt.step()
    meta = {"epoch": 3, "tags": ("a", "b/c"), "empty": graphnet.zeros(0, 3), "history": [0.5, float("nan"), -float("inf")],
            "nested": {0: {"ok": True, "note": None}, "0": [1, [2, (3,)]]}, "big": 2**70}
    buffer = io.BytesIO()
    graphnet.save({"model": model.state_dict(), "optim": opt.state_dict(), "meta": meta}, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def torch_checkpoint() -> bytes:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.BatchNorm1d(16),
                                torch.nn.Linear(16, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(5, 8)).sum().backward()
    opt.step()
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}, buffer)
    return buffer.getvalue()


# --- comparing what loads --------------------------------------------------------------------


def canonical(x: Any) -> Any:
    """A comparable value: types, order, dtypes and bytes of every tensor (NaN equal to NaN)."""
    if isinstance(x, graphnet.Tensor):
        array = np.ascontiguousarray(ser._to_numpy(x))
        return ("tensor", str(array.dtype), array.shape, array.tobytes())
    if isinstance(x, dict):
        return (type(x).__name__, [(canonical(k), canonical(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [canonical(v) for v in x])
    if isinstance(x, float):
        return ("float", repr(x))
    return (type(x).__name__, x)


def outcome(data: bytes, expected: Any) -> str:
    tracemalloc.reset_peak()
    try:
        loaded = graphnet.load(io.BytesIO(data))
    except CheckpointError:
        result = "refused"
    except Exception as e:  # noqa: BLE001 - any other exception is the failure we look for
        result = f"raised {type(e).__name__}: {str(e)[:200]}"
    else:
        result = "identical" if canonical(loaded) == expected else "different"
    peak = tracemalloc.get_traced_memory()[1]
    return result if peak < MEMORY_LIMIT else f"allocated {peak} bytes ({result})"


# --- mutations ---------------------------------------------------------------------------------


def split(data: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def join(header: dict | str, body: bytes, rng: np.random.Generator, old: bytes) -> bytes:
    """Serialize an edited header; usually with a correct length prefix, sometimes the old one."""
    blob = (header if isinstance(header, str) else json.dumps(header)).encode("utf-8", "replace")
    blob += b" " * (-len(blob) % 8)
    prefix = struct.pack("<Q", len(blob)) if rng.random() < 0.85 else old[:8]
    return prefix + blob + body


def pick(rng: np.random.Generator, items: list) -> Any:
    return items[int(rng.integers(len(items)))]


def tensor_names(header: dict) -> list[str]:
    return [k for k in header if k != "__metadata__"]


ODD_INTS = [0, 1, -1, 7, 2**31, 2**32 + 4, 2**63 - 1, 2**63, 2**64, -(2**63)]
ODD_VALUES = [None, True, False, "8", 1.5, float("nan"), [], {}, [1, 2], "F32", 10**30]


def odd_value(rng: np.random.Generator) -> Any:
    return pick(rng, ODD_INTS + ODD_VALUES)


def bit_flip(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    out[int(rng.integers(len(out)))] ^= 1 << int(rng.integers(8))
    return bytes(out)


def truncate(data: bytes, rng: np.random.Generator) -> bytes:
    return data[: int(rng.integers(len(data)))]


def edit_offsets(data: bytes, rng: np.random.Generator) -> bytes:
    header, body = split(data)
    names = tensor_names(header)
    offsets = header[pick(rng, names)]["data_offsets"]
    choice = int(rng.integers(5))
    if choice == 0:  # shift the range
        delta = int(pick(rng, [-8, -4, -2, -1, 1, 2, 4, 8]))
        offsets[:] = [offsets[0] + delta, offsets[1] + delta]
    elif choice == 1:  # alias another tensor's bytes
        offsets[:] = list(header[pick(rng, names)]["data_offsets"])
    elif choice == 2:  # swap begin and end
        offsets.reverse()
    elif choice == 3:  # one end moves
        offsets[int(rng.integers(2))] += int(pick(rng, [-4, -1, 1, 4, len(body)]))
    else:
        offsets[int(rng.integers(2))] = odd_value(rng)
    return join(header, body, rng, data)


def edit_shape(data: bytes, rng: np.random.Generator) -> bytes:
    header, body = split(data)
    entry = header[pick(rng, tensor_names(header))]
    shape = entry["shape"]
    choice = int(rng.integers(6))
    if choice == 0 and shape:
        shape[int(rng.integers(len(shape)))] += int(pick(rng, [-1, 1, 2**62]))
    elif choice == 5:  # keeps an empty tensor empty (0 bytes) while its size overflows int64
        entry["shape"] = [n * 2**62 for n in shape]
    elif choice == 1 and shape:
        shape[int(rng.integers(len(shape)))] = odd_value(rng)
    elif choice == 2:
        shape.append(int(pick(rng, [0, 1, 2])))
    elif choice == 3:
        entry["shape"] = shape[::-1] if len(shape) > 1 else [*shape, 1] * 40
    else:
        entry["shape"] = odd_value(rng)
    return join(header, body, rng, data)


def edit_dtype(data: bytes, rng: np.random.Generator) -> bytes:
    header, body = split(data)
    header[pick(rng, tensor_names(header))]["dtype"] = pick(
        rng, ["BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64", "F16", "BF16", "F32",
              "F64", "F8_E4M3", "f32", "C64", None, 4, ["F32"]])
    return join(header, body, rng, data)


def random_object(header: dict, rng: np.random.Generator) -> dict:
    """The top level, the metadata, or one tensor's entry."""
    return pick(rng, [header, header["__metadata__"], header[pick(rng, tensor_names(header))]])


def duplicate_key(data: bytes, rng: np.random.Generator) -> bytes:
    header, body = split(data)
    target = random_object(header, rng)
    key = pick(rng, list(target))
    target["\x00duplicate"] = target[key] if rng.random() < 0.5 else odd_value(rng)
    text = json.dumps(header).replace(json.dumps("\x00duplicate"), json.dumps(key))
    return join(text, body, rng, data)


def delete_key(data: bytes, rng: np.random.Generator) -> bytes:
    header, body = split(data)
    target = random_object(header, rng)
    del target[pick(rng, list(target))]
    return join(header, body, rng, data)


def insert_garbage(data: bytes, rng: np.random.Generator) -> bytes:
    (n,) = struct.unpack("<Q", data[:8])
    at = 8 + int(rng.integers(n + 1))
    garbage = rng.bytes(int(rng.integers(1, 17)))
    if rng.random() < 0.5:  # printable garbage gets past the UTF-8 check
        garbage = bytes(32 + b % 95 for b in garbage)
    out = data[:at] + garbage + data[at:]
    if rng.random() < 0.7:
        out = struct.pack("<Q", n + len(garbage)) + out[8:]
    return out


def edit_length_prefix(data: bytes, rng: np.random.Generator) -> bytes:
    (n,) = struct.unpack("<Q", data[:8])
    new = pick(rng, [n + int(rng.integers(-16, 17)), int(rng.integers(2**63)) * 2 + 1, 0,
                     len(data), len(data) - 8, 100 * 2**20 + 1])
    return struct.pack("<Q", max(new, 0) % 2**64) + data[8:]


def edit_metadata(data: bytes, rng: np.random.Generator) -> bytes:
    header, body = split(data)
    metadata = header["__metadata__"]
    key = pick(rng, list(metadata))
    text = metadata[key]
    at = int(rng.integers(len(text))) if text else 0
    choice = int(rng.integers(3))
    if choice == 0:  # change one character: a digit of a number, a letter of a name or digest
        metadata[key] = text[:at] + pick(rng, list("0123456789abcdef\"{}[],:-. x")) + text[at + 1:]
    elif choice == 1:  # cut the value short
        metadata[key] = text[:at]
    else:
        metadata[key] = json.dumps(odd_value(rng))
    return join(header, body, rng, data)


MUTATIONS: dict[str, Callable[[bytes, np.random.Generator], bytes]] = {
    "bit_flip": bit_flip, "truncate": truncate, "offsets": edit_offsets, "shape": edit_shape,
    "dtype": edit_dtype, "duplicate_key": duplicate_key, "delete_key": delete_key,
    "garbage": insert_garbage, "length_prefix": edit_length_prefix, "metadata": edit_metadata,
}
# Bit flips and truncations are what real damage looks like; they get half the runs.
WEIGHTS = np.array([5, 2, 1, 1, 1, 1, 1, 1, 1, 1], float)


def fuzz(data: bytes, count: int, seed: int, kinds: dict = MUTATIONS,
         weights: np.ndarray = WEIGHTS) -> tuple[collections.Counter, list[str]]:
    """Mutate ``data`` ``count`` times; the outcome counts per kind, and the unexpected ones."""
    rng = np.random.default_rng(seed)
    expected = canonical(graphnet.load(io.BytesIO(data)))
    counts: collections.Counter = collections.Counter()
    failures = []
    names = list(kinds)
    tracemalloc.start()
    try:
        for i in range(count):
            kind = names[int(rng.choice(len(names), p=weights / weights.sum()))]
            mutated = kinds[kind](data, rng)
            result = outcome(mutated, expected) if mutated != data else "identical"
            category = result if result in ("refused", "identical", "different") else "other"
            counts[kind, category] += 1
            if category not in ("refused", "identical"):
                failures.append(f"#{i} {kind}: {result}")
    finally:
        tracemalloc.stop()
    return counts, failures


def report(title: str, counts: collections.Counter) -> str:
    lines = [f"{title}: {sum(counts.values())} files mutated"]
    for kind in sorted({k for k, _ in counts}):
        lines.append(f"  {kind:14}" + row({r: counts[kind, r] for r in CATEGORIES}))
    total = collections.Counter()
    for (_, category), n in counts.items():
        total[category] += n
    lines.append(f"  {'total':14}" + row(total))
    return "\n".join(lines)


CATEGORIES = ("refused", "identical", "different", "other")


def row(counts: dict) -> str:
    return "".join(f"  {category} {counts[category]:5}" for category in CATEGORIES)


def check(title: str, counts: collections.Counter, failures: list[str],
          record_property: Callable) -> None:
    text = report(title, counts)
    print("\n" + text)
    record_property(title, text)
    assert not failures, text + "\nunexpected outcomes:\n" + "\n".join(failures[:20])
    for kind in {k for k, _ in counts}:  # every kind of damage was actually seen and refused
        assert counts[kind, "refused"] > 0, text


# --- the tests ---------------------------------------------------------------------------------


def test_fuzz_graphnet_checkpoint(checkpoint, record_property):
    check("graphnet.save checkpoint", *fuzz(checkpoint, 400, seed=0), record_property)


@pytest.mark.slow
def test_fuzz_graphnet_checkpoint_long(checkpoint, record_property):
    check("graphnet.save checkpoint (long)", *fuzz(checkpoint, 5000, seed=1), record_property)


def test_fuzz_torch_state_dict(torch_checkpoint, record_property):
    kinds = {"bit_flip": bit_flip, "truncate": truncate}
    check("torch.save state_dict", *fuzz(torch_checkpoint, 150, seed=2, kinds=kinds,
                                          weights=np.array([4.0, 1.0])), record_property)


@pytest.mark.slow
def test_fuzz_torch_state_dict_long(torch_checkpoint, record_property):
    kinds = {"bit_flip": bit_flip, "truncate": truncate}
    check("torch.save state_dict (long)", *fuzz(torch_checkpoint, 3000, seed=3, kinds=kinds,
                                                 weights=np.array([4.0, 1.0])), record_property)


def test_fuzz_checkpoint_without_checksums_never_crashes(checkpoint):
    # Older files have no checksums, so damage to tensor bytes loads; it must still never
    # raise anything but CheckpointError, nor allocate more than the file warrants.
    header, body = split(checkpoint)
    del header["__metadata__"]["checksums"]
    old_style = join(header, body, np.random.default_rng(0), checkpoint)
    assert canonical(graphnet.load(io.BytesIO(old_style))) == canonical(
        graphnet.load(io.BytesIO(checkpoint)))
    counts, failures = fuzz(old_style, 150, seed=4)
    print("\n" + report("graphnet checkpoint without checksums", counts))
    unexpected = [f for f in failures if not f.endswith(": different")]
    assert not unexpected, report("no checksums", counts) + "\n" + "\n".join(unexpected[:20])
