"""Malformed safetensors headers: every one is refused with CheckpointError naming the file
and the tensor, never a bare ValueError / KeyError / OverflowError from the parser or numpy."""

from __future__ import annotations

import io
import json
import re
import struct

import numpy as np
import pytest

import graphnet
from graphnet._serialization import CheckpointError, _format


def raw_file(path, header: str | bytes, data: bytes = b"", length: int | None = None) -> None:
    """Write a safetensors file from a header given as JSON text, bytes kept as they are."""
    blob = header.encode() if isinstance(header, str) else header
    path.write_bytes(struct.pack("<Q", len(blob) if length is None else length) + blob + data)


def entry(dtype="F32", shape=(2,), offsets=(0, 8)) -> dict:
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def refused(path, *fragments: str) -> str:
    """Load ``path``; it must raise CheckpointError whose message holds the path and fragments."""
    with pytest.raises(CheckpointError) as info:
        graphnet.load(path)
    message = str(info.value)
    assert f"cannot load '{path}'" in message
    for fragment in fragments:
        assert re.search(fragment, message), (fragment, message)
    return message


# (header as a dict, data bytes, fragments the message must contain)
BAD_ENTRIES = {
    "overlap": ({"a": entry(offsets=(0, 8)), "b": entry(offsets=(4, 12))}, 12,
                [r"tensors 'a' and 'b' share bytes", r"\[0, 8\] and \[4, 12\]"]),
    "alias": ({"a": entry(), "b": entry()}, 8, ["tensors 'a' and 'b' share bytes"]),
    "alias_reversed_order": ({"b": entry(), "a": entry(offsets=(0, 8))}, 8, ["share bytes"]),
    "empty_inside_other": ({"a": entry(), "z": entry(shape=(0,), offsets=(4, 4))}, 8,
                           ["tensors 'a' and 'z' share bytes"]),
    "gap": ({"a": entry(shape=(1,), offsets=(0, 4)), "b": entry(shape=(1,), offsets=(8, 12))},
            12, ["4 unused bytes between tensor 'a' and tensor 'b'"]),
    "gap_at_start": ({"a": entry(offsets=(4, 12))}, 12, ["4 unused bytes before tensor 'a'"]),
    "trailing": ({"a": entry()}, 12, ["4 unexpected bytes after the last tensor"]),
    "past_end": ({"a": entry()}, 4, ["truncated: tensor 'a' needs data bytes up to 8 but only 4"]),
    "reversed": ({"a": entry(offsets=(8, 0))}, 8, [r"tensor 'a' has data_offsets \[8, 0\] that end "
                                                   "before they begin"]),
    "size_mismatch": ({"a": entry(shape=(3,))}, 8, [r"tensor 'a'.*\(8 bytes\).*\(12 bytes\)"]),
    "offsets_str": ({"a": entry(offsets=("0", "8"))}, 8, ["tensor 'a' has data_offsets"]),
    "offsets_float": ({"a": entry(offsets=(0.0, 8.0))}, 8, ["tensor 'a' has data_offsets"]),
    "offsets_bool": ({"a": entry(shape=(1,), offsets=(False, True))}, 1, ["tensor 'a' has data_off"]),
    "offsets_three": ({"a": entry(offsets=(0, 4, 8))}, 8, ["tensor 'a' has data_offsets"]),
    "offsets_negative": ({"a": entry(offsets=(-8, 0))}, 8, ["tensor 'a' has data_offsets"]),
    "shape_negative": ({"a": entry(shape=(-2,))}, 8, [r"tensor 'a' has shape \[-2\]"]),
    "shape_float": ({"a": entry(shape=(2.0,))}, 8, [r"tensor 'a' has shape \[2.0\]"]),
    "shape_bool": ({"a": entry(shape=(True, 2))}, 8, [r"tensor 'a' has shape \[True, 2\]"]),
    "shape_nested": ({"a": entry(shape=([2],))}, 8, ["tensor 'a' has shape"]),
    "shape_not_list": ({"a": {**entry(), "shape": 2}}, 8, ["tensor 'a' has shape 2"]),
    "shape_too_many_dims": ({"a": entry(shape=(1,) * 65, offsets=(0, 4))}, 4,
                            ["tensor 'a' has a shape with 65 dimensions"]),
    # numpy itself would raise a bare ValueError for these: their byte count overflows int64
    "shape_overflow_with_zero": ({"a": entry(shape=(2**62, 2**62, 0), offsets=(0, 0))}, 0,
                                 ["tensor 'a' has shape.*overflows an int64"]),
    "shape_huge_dim_with_zero": ({"a": entry(shape=(2**63, 0), offsets=(0, 0))}, 0,
                                 ["tensor 'a'.*overflows"]),
    "shape_overflow": ({"a": entry(shape=(2**40, 2**40), offsets=(0, 2**82))}, 8,
                       ["tensor 'a'.*overflows"]),
    "dtype_unknown": ({"a": entry(dtype="F8")}, 8, ["tensor 'a' has dtype 'F8'", "Supported"]),
    "dtype_not_str": ({"a": entry(dtype=["F32"])}, 8, ["tensor 'a' has dtype"]),
    "dtype_missing": ({"a": {"shape": [2], "data_offsets": [0, 8]}}, 8, ["tensor 'a' has an entry"]),
    "extra_key": ({"a": {**entry(), "strides": [1]}}, 8, ["tensor 'a' has an entry without"]),
    "entry_not_object": ({"a": [0, 8]}, 8, ["tensor 'a' has an entry"]),
    "metadata_int_value": ({"__metadata__": {"format": 1}}, 0, ["__metadata__ is not a map"]),
    "metadata_list": ({"__metadata__": ["format"]}, 0, ["__metadata__ is not a map"]),
    "metadata_nested": ({"__metadata__": {"x": {"y": "z"}}}, 0, ["__metadata__ is not a map"]),
}


@pytest.mark.parametrize("case", list(BAD_ENTRIES))
def test_malformed_entries_are_refused_naming_file_and_tensor(tmp_path, case):
    header, data_len, fragments = BAD_ENTRIES[case]
    header = {"__metadata__": {"format": "graphnet", "version": "1", "structure": "null"},
              **header}
    raw_file(tmp_path / f"{case}.safetensors", json.dumps(header), bytes(data_len))
    refused(tmp_path / f"{case}.safetensors", *fragments)


# (header text, announced length or None, fragments) for damage json.loads would let through
BAD_TEXT = {
    "duplicate_tensor": ('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                         '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
                         ["the key 'a' appears twice"]),
    "duplicate_in_entry": ('{"a":{"dtype":"I32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
                           ["the key 'dtype' appears twice"]),
    "duplicate_in_metadata": ('{"__metadata__":{"format":"graphnet","format":"other"}}',
                              ["the key 'format' appears twice"]),
    "duplicate_metadata": ('{"__metadata__":{},"__metadata__":{"format":"graphnet"}}',
                           ["the key '__metadata__' appears twice"]),
    "nan_in_shape": ('{"a":{"dtype":"F32","shape":[NaN],"data_offsets":[0,4]}}',
                     ["NaN is not standard JSON"]),
    "float_overflow_in_shape": ('{"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}',
                                ["tensor 'a' has shape \\[inf\\]"]),
    "not_an_object": ("[1, 2]", ["header is not a JSON object"]),
    "not_json": ("{'a': 1}", ["header is not a JSON object"]),
    "int_too_long": ('{"a":{"dtype":"F32","shape":[' + "9" * 5000 + '],"data_offsets":[0,4]}}',
                     ["header is not a JSON object"]),
    "deep_nesting": ("[" * 100_000 + "]" * 100_000, ["header is not a JSON object"]),
    "empty": ("", ["header is not a JSON object"]),
}


@pytest.mark.parametrize("case", list(BAD_TEXT))
def test_header_text_damage_is_refused(tmp_path, case):
    text, fragments = BAD_TEXT[case]
    raw_file(tmp_path / "t.safetensors", text, bytes(4))
    refused(tmp_path / "t.safetensors", *fragments)


def test_non_utf8_header_is_refused(tmp_path):
    raw_file(tmp_path / "u.safetensors", b'{"\xff\xfe":{}}')
    refused(tmp_path / "u.safetensors", "header is not a JSON object")


@pytest.mark.parametrize(("length", "fragment"), [
    (2**64 - 1, "announce a 18446744073709551615-byte header"),
    (2**63, "announce a 9223372036854775808-byte header"),
    (200 * 1024 * 1024, "announce a 209715200-byte header"),
    (100, "announce a 100-byte header but the file has 10"),
])
def test_absurd_header_length_is_refused(tmp_path, length, fragment):
    raw_file(tmp_path / "l.safetensors", b"{}", length=length)
    refused(tmp_path / "l.safetensors", fragment)


def test_file_objects_are_named_by_their_name_or_type(tmp_path):
    raw_file(tmp_path / "f.safetensors", '{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}',
             bytes(4))
    with open(tmp_path / "f.safetensors", "rb") as f:
        with pytest.raises(CheckpointError, match=f"cannot load '{tmp_path / 'f.safetensors'}'.*"
                                                  "tensor 'a' has shape"):
            graphnet.load(f)
    stream = io.BytesIO((tmp_path / "f.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="cannot load '<BytesIO>'.*tensor 'a'"):
        graphnet.load(stream)


def test_zero_size_tensors_may_share_an_offset(tmp_path):
    # Like the reference reader: empty tensors take no bytes, so they overlap nothing.
    arrays = {"empty": np.zeros((0, 3), np.float32), "w": np.arange(2, dtype=np.float32),
              "also_empty": np.zeros(0, np.int8)}
    with open(tmp_path / "e.safetensors", "wb") as f:
        _format.write(f, arrays, {})
    with open(tmp_path / "e.safetensors", "rb") as f:
        header = _format.read_header(f, "e")
        assert [(e.name, e.begin, e.end) for e in header.entries] == [
            ("empty", 0, 0), ("w", 0, 8), ("also_empty", 8, 8)]
        np.testing.assert_array_equal(_format.read_tensor(f, header, header.entries[1], "e"),
                                      arrays["w"])


@pytest.mark.parametrize("case", ["overlap", "alias", "gap", "gap_at_start", "empty_inside_other"])
def test_reference_reader_refuses_the_same_layouts(tmp_path, case):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    header, data_len, _ = BAD_ENTRIES[case]
    raw_file(tmp_path / "r.safetensors", json.dumps(header), bytes(data_len))
    with pytest.raises(Exception, match="invalid offset"):
        safetensors_numpy.load_file(tmp_path / "r.safetensors")
