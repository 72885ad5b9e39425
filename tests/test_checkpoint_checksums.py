"""Per-tensor SHA-256 checksums: written by graphnet.save, checked by graphnet.load, optional
for files that predate them or come from other safetensors writers."""

from __future__ import annotations

import hashlib
import io
import json
import struct

import numpy as np
import pytest

import graphnet
from graphnet import _serialization as ser
from graphnet._serialization import CheckpointError, _checksum, _format

W = np.array([[1.5, -2.0, 0.25]], np.float32)
STEPS = np.arange(4, dtype=np.int64)


def saved(tmp_path, name="c.safetensors") -> tuple:
    path = tmp_path / name
    graphnet.save({"w": ser._from_numpy(W), "opt": {"steps": ser._from_numpy(STEPS), "lr": 0.1}},
                  path)
    return path, bytearray(path.read_bytes())


def split(data: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), bytes(data[8 + n:])


def join(header: dict, body: bytes) -> bytes:
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    return struct.pack("<Q", len(blob)) + blob + body


def test_save_records_sha256_of_each_tensor_and_of_the_header(tmp_path):
    _, data = saved(tmp_path)
    header, body = split(data)
    digests = json.loads(header["__metadata__"]["checksums"])
    assert digests["w"] == hashlib.sha256(W.astype("<f4").tobytes()).hexdigest()
    assert digests["opt/steps"] == hashlib.sha256(STEPS.astype("<i8").tobytes()).hexdigest()
    # The header digest: canonical JSON of the header without the checksums entry.
    del header["__metadata__"]["checksums"]
    canonical = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    assert digests["__metadata__"] == hashlib.sha256(canonical).hexdigest()
    assert sorted(digests) == ["__metadata__", "opt/steps", "w"]


def test_reference_reader_opens_a_file_with_checksums(tmp_path):
    safetensors = pytest.importorskip("safetensors")
    path, _ = saved(tmp_path)
    with safetensors.safe_open(path, "np") as f:
        assert set(json.loads(f.metadata()["checksums"])) == {"__metadata__", "w", "opt/steps"}
        np.testing.assert_array_equal(f.get_tensor("w"), W)


def test_a_flipped_bit_in_tensor_bytes_is_refused_naming_the_tensor(tmp_path):
    path, data = saved(tmp_path)
    data[len(data) - 1] ^= 0x01  # the last byte of opt/steps, the last tensor
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=f"cannot load '{path}': the bytes of tensor "
                                              "'opt/steps' do not match their checksum"):
        graphnet.load(path)


def test_an_edited_value_in_the_structure_is_refused(tmp_path):
    path, data = saved(tmp_path)
    header, body = split(data)
    header["__metadata__"]["structure"] = header["__metadata__"]["structure"].replace("0.1", "0.3")
    path.write_bytes(join(header, body))
    with pytest.raises(CheckpointError, match="header .* does not match the checksum"):
        graphnet.load(path)


def test_swapped_dtype_or_shape_is_refused(tmp_path):
    path, data = saved(tmp_path)
    header, body = split(data)
    header["w"]["shape"] = [3, 1]  # same byte count, so only the checksum can tell
    path.write_bytes(join(header, body))
    with pytest.raises(CheckpointError, match="header .* does not match the checksum"):
        graphnet.load(path)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.pop("w"), "tensor 'w' has no checksum"),
    (lambda d: d.pop("__metadata__"), "no '__metadata__' entry for the header"),
    (lambda d: d.update(ghost="0" * 64), "checksum for tensor 'ghost', which it does not contain"),
    (lambda d: d.update(w="ABC"), "not a map of names to SHA-256 hex digests"),
    (lambda d: d.update(w=None), "not a map of names to SHA-256 hex digests"),
])
def test_malformed_checksum_maps_are_refused(tmp_path, edit, message):
    path, data = saved(tmp_path)
    header, body = split(data)
    digests = json.loads(header["__metadata__"]["checksums"])
    edit(digests)
    header["__metadata__"]["checksums"] = json.dumps(digests)
    path.write_bytes(join(header, body))
    with pytest.raises(CheckpointError, match=f"cannot load '{path}'.*{message}"):
        graphnet.load(path)


@pytest.mark.parametrize("text", ["{not json", "[]", '{"w": "a", "w": "b"}'])
def test_checksums_that_are_not_a_json_map_are_refused(tmp_path, text):
    path, data = saved(tmp_path)
    header, body = split(data)
    header["__metadata__"]["checksums"] = text
    path.write_bytes(join(header, body))
    with pytest.raises(CheckpointError, match="checksums are not"):
        graphnet.load(path)


# Written by graphnet.save before checksums existed (commit cd5bdb9); it must keep loading.
OLD_CHECKPOINT = (
    b'\x08\x01\x00\x00\x00\x00\x00\x00{"__metadata__":{"format":"graphnet","version":"1",'
    b'"structure":"{\\"dict\\":[[\\"w\\",{\\"tensor\\":\\"w\\"}],[\\"step\\",7],[\\"groups\\",'
    b'{\\"list\\":[{\\"dict\\":[[\\"lr\\",0.1],[\\"betas\\",{\\"tuple\\":[0.9,0.999]}]]}]}]]}"},'
    b'"w":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}  \x00\x00\xc0?\x00\x00\x00\xc0'
)


def test_checkpoints_from_before_checksums_still_load():
    loaded = graphnet.load(io.BytesIO(OLD_CHECKPOINT))
    assert loaded["step"] == 7
    assert loaded["groups"] == [{"lr": 0.1, "betas": (0.9, 0.999)}]
    np.testing.assert_array_equal(ser._to_numpy(loaded["w"]), np.array([[1.5, -2.0]], np.float32))


def test_files_from_other_safetensors_writers_read_without_checksums(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    safetensors_numpy.save_file({"a": W, "b": STEPS}, tmp_path / "hf.safetensors")
    with open(tmp_path / "hf.safetensors", "rb") as f:
        header = _format.read_header(f, "hf")
        assert header.checksums is None
        arrays = {e.name: _format.read_tensor(f, header, e, "hf") for e in header.entries}
    np.testing.assert_array_equal(arrays["a"], W)
    np.testing.assert_array_equal(arrays["b"], STEPS)


def test_a_flipped_bit_goes_unnoticed_without_checksums_but_not_with_them():
    # Why the checksums exist: the same damage, with and without them.
    buffers = {}
    for with_checksums in (False, True):
        buffers[with_checksums] = io.BytesIO()
        _format.write(buffers[with_checksums], {"w": W}, {}, checksums=with_checksums)
        buffers[with_checksums].getbuffer()[-1] ^= 0x80  # sign bit of the last float
        buffers[with_checksums].seek(0)
    header = _format.read_header(buffers[False], "plain")
    assert _format.read_tensor(buffers[False], header, header.entries[0], "plain")[0, 2] == -0.25
    header = _format.read_header(buffers[True], "summed")
    with pytest.raises(CheckpointError, match="'summed': the bytes of tensor 'w'"):
        _format.read_tensor(buffers[True], header, header.entries[0], "summed")


def test_header_digest_ignores_the_checksums_entry_only():
    header = {"__metadata__": {"a": "1", "checksums": "x"}, "t": {"dtype": "F32"}}
    assert _checksum.header_digest(header) == _checksum.header_digest(
        {"t": {"dtype": "F32"}, "__metadata__": {"a": "1", "checksums": "y"}})
    assert _checksum.header_digest(header) != _checksum.header_digest(
        {"__metadata__": {"a": "2", "checksums": "x"}, "t": {"dtype": "F32"}})
