"""The torch.save reader against hostile files: views bigger than their storage, negative
strides, stand-in objects hidden in sets and dict keys, code in the pickle."""

from __future__ import annotations

import tracemalloc
from collections import OrderedDict

import numpy as np
import pytest
from test_serialization import assert_same, p_global, p_int, p_str, p_tensor, p_tuple, torch_zip

import graphnet
from graphnet._serialization import CheckpointError

STORAGE = {"0": np.arange(6, dtype=np.float32).tobytes()}


def p_long(i: int) -> bytes:
    """Any int, as pickle's LONG1 opcode (p_int only holds 32 bits)."""
    raw = i.to_bytes((i.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def p_view(numel: int, offset: int, size: tuple, stride: tuple, storage: str = "FloatStorage",
           key: str = "0") -> bytes:
    """_rebuild_tensor_v2 with any ints (LONG1), unlike test_serialization.p_tensor."""
    ref = p_tuple(p_str("storage"), p_global("torch", storage), p_str(key), p_str("cpu"),
                  p_long(numel)) + b"Q"
    hooks = p_global("collections", "OrderedDict") + b")R"
    args = p_tuple(ref, p_long(offset), p_tuple(*map(p_long, size)),
                   p_tuple(*map(p_long, stride)), b"\x89", hooks)
    return p_global("torch._utils", "_rebuild_tensor_v2") + args + b"R"


def in_dict(value: bytes) -> bytes:
    return b"}" + p_str("w") + value + b"s"


def load(path):
    return graphnet.load(path)


def test_a_tiny_file_cannot_expand_into_a_huge_tensor(tmp_path):
    # One float of storage viewed as 2**27 floats with stride 0: 512 MiB from a few hundred bytes.
    torch_zip(tmp_path / "bomb.pt", in_dict(p_view(1, 0, (2**27,), (0,))),
              {"0": np.ones(1, np.float32).tobytes()})
    assert (tmp_path / "bomb.pt").stat().st_size < 1024
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match=f"cannot load '{tmp_path / 'bomb.pt'}'.*"
                                                  "has 134217728 elements, more than the 1 its storage"):
            load(tmp_path / "bomb.pt")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


@pytest.mark.parametrize(("offset", "size", "stride", "message"), [
    (3, (2, 2), (1, 1), "has 4 elements, more than the 3 its storage holds from offset 3"),
    (1, (3, 2), (0, 1), "has 6 elements, more than the 5"),  # rows repeat: stride 0
    (0, (6,), (-1,), "are not matching tuples of ints >= 0"),
    (5, (2,), (-1,), "are not matching tuples of ints >= 0"),
    (0, (-2,), (1,), "are not matching tuples of ints >= 0"),
    (-1, (2,), (1,), "storage offset -1 is not a non-negative int"),
    (0, (2,) * 65, (0,) * 65, "65 dimensions"),
    (0, (2**64, 2**64), (1, 1), "has 340282366920938463463374607431768211456 elements"),
    (5, (2,), (1,), "has 2 elements, more than the 1 its storage holds from offset 5"),
    (9, (2,), (1,), "more than the 0 its storage holds from offset 9"),
])
def test_views_needing_more_than_their_storage_are_refused(tmp_path, offset, size, stride,
                                                            message):
    torch_zip(tmp_path / "v.pt", in_dict(p_view(6, offset, size, stride)), STORAGE)
    with pytest.raises(CheckpointError, match=message):
        load(tmp_path / "v.pt")


def test_size_one_dimensions_may_have_any_stride(tmp_path):
    # torch leaves arbitrary strides on size-1 dimensions; they must not reach numpy's arithmetic.
    torch_zip(tmp_path / "s.pt", in_dict(p_view(6, 2, (1, 3), (2**70, 1))), STORAGE)
    assert_same(load(tmp_path / "s.pt")["w"], np.array([[2, 3, 4]], np.float32))


def test_real_expanded_tensors_load_if_they_fit_and_are_refused_otherwise(tmp_path):
    torch = pytest.importorskip("torch")
    # Like the position_ids buffer of older transformer checkpoints: (1, n) over n elements.
    torch.save({"ids": torch.arange(5).expand(1, -1)}, tmp_path / "ids.pt")
    assert_same(load(tmp_path / "ids.pt")["ids"], np.arange(5, dtype=np.int64)[None])
    torch.save({"w": torch.zeros(1).expand(4)}, tmp_path / "expanded.pt")
    with pytest.raises(CheckpointError, match=r"call \.contiguous\(\)"):
        load(tmp_path / "expanded.pt")


TENSOR = p_tensor(6, 0, (2,), (1,))
EMPTY_SET, ADDITEMS, FROZENSET, MARK, BUILD = b"\x8f", b"\x90", b"\x91", b"(", b"b"


@pytest.mark.parametrize(("pickled", "message"), [
    (EMPTY_SET + MARK + TENSOR + ADDITEMS, "uses a tensor as a dict key or set member"),
    (MARK + TENSOR + p_int(1) + FROZENSET, "uses a tensor as a dict key or set member"),
    (b"}" + TENSOR + p_int(1) + b"s", "uses a tensor as a dict key or set member"),
    (b"}" + p_tuple(p_str("k"), TENSOR) + p_int(1) + b"s", "uses a tensor as a dict key"),
    (EMPTY_SET + MARK + p_global("torch", "float32") + ADDITEMS, "uses a Dtype as a dict key"),
    (b"}" + p_global("torch", "FloatStorage") + p_int(1) + b"s", "uses a StorageType as a dict"),
    (p_global("torch", "FloatStorage"), "holds a bare StorageType"),
    (p_tuple(p_str("storage"), p_global("torch", "FloatStorage"), p_str("0"), p_str("cpu"),
             p_int(6)) + b"Q", "holds a bare Storage"),
    # BUILD sets attributes on an OrderedDict (torch's _metadata); they are checked too
    (p_global("collections", "OrderedDict") + b")R" + b"}" + p_str("hidden")
     + p_global("torch", "FloatStorage") + b"s" + BUILD, "holds a bare StorageType"),
], ids=["tensor_in_set", "tensor_in_frozenset", "tensor_key", "tensor_in_tuple_key", "dtype_in_set",
        "storage_type_key", "bare_storage_type", "bare_storage",
        "storage_type_in_ordered_dict_attribute"])
def test_stand_ins_never_reach_the_user(tmp_path, pickled, message):
    torch_zip(tmp_path / "p.pt", in_dict(pickled), STORAGE)
    with pytest.raises(CheckpointError, match=f"cannot load '{tmp_path / 'p.pt'}'.*{message}"):
        load(tmp_path / "p.pt")


def test_plain_sets_and_hashable_keys_load_as_they_are(tmp_path):
    pickled = (b"}" + p_str("ids") + EMPTY_SET + MARK + p_int(3) + p_str("x") + ADDITEMS + b"s"
               + p_tuple(p_int(0), p_str("k")) + MARK + p_str("a") + FROZENSET + b"s"
               + p_str("w") + TENSOR + b"s")
    torch_zip(tmp_path / "sets.pt", pickled, STORAGE)
    loaded = load(tmp_path / "sets.pt")
    assert loaded["ids"] == {3, "x"} and loaded[(0, "k")] == frozenset({"a"})
    assert_same(loaded["w"], np.array([0, 1], np.float32))


def test_attributes_on_ordered_dicts_are_converted_too(tmp_path):
    pickled = (p_global("collections", "OrderedDict") + b")R" + b"}" + p_str("_metadata")
               + b"}" + p_str("hidden") + TENSOR + b"s" + b"s" + BUILD)
    torch_zip(tmp_path / "attrs.pt", in_dict(pickled), STORAGE)
    loaded = load(tmp_path / "attrs.pt")["w"]
    assert type(loaded) is OrderedDict
    assert_same(loaded._metadata["hidden"], np.array([0, 1], np.float32))


def test_shared_objects_and_ordered_dicts_survive(tmp_path):
    torch = pytest.importorskip("torch")
    shared = [torch.ones(2)]
    torch.save(OrderedDict(a=shared, b=shared), tmp_path / "shared.pt")
    loaded = load(tmp_path / "shared.pt")
    assert type(loaded) is OrderedDict and loaded["a"] is loaded["b"]
    assert isinstance(loaded["a"][0], graphnet.Tensor)


@pytest.mark.parametrize("opcode", ["GLOBAL", "STACK_GLOBAL"])
def test_os_system_is_refused_without_running(tmp_path, opcode):
    marker = tmp_path / "pwned"
    if opcode == "GLOBAL":
        callee = p_global("os", "system")
    else:  # protocol 4: module and name come from the stack, not the opcode's argument
        callee = p_str("os") + p_str("system") + b"\x93"
    torch_zip(tmp_path / "evil.pt", callee + p_tuple(p_str(f"touch {marker}")) + b"R")
    with pytest.raises(CheckpointError, match="refers to os.system, which is not on graphnet's "
                                              "allow-list"):
        load(tmp_path / "evil.pt")
    assert not marker.exists()


def test_torch_unsigned_tensors_load_with_their_dtypes(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"u16": torch.tensor([1, 65535], dtype=torch.uint16),
                "u64": torch.tensor([1, 2**63 + 5], dtype=torch.uint64)}, tmp_path / "u.pt")
    loaded = load(tmp_path / "u.pt")
    assert loaded["u16"].dtype == graphnet.uint16 and loaded["u16"].tolist() == [1, 65535]
    assert loaded["u64"].dtype == graphnet.uint64 and loaded["u64"].tolist() == [1, 2**63 + 5]
