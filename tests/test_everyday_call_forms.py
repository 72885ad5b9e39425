"""Call forms everyday PyTorch code writes, checked against PyTorch: size arguments of tensor
methods given one by one or by keyword, typed datasets (`Dataset[T]`), Python ints past int64
in `tensor(...)` and default_collate, and the small data-loading and printing rules."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import graphnet
import graphnet.utils.data as gdata
from parity import assert_close, torch

tdata = pytest.importorskip("torch.utils.data")

METHOD_FORMS = [
    "x.tile(2, 1)", "x.tile((2, 1))", "x.tile(dims=(2, 1))", "x.tile(2)", "x.tile(())",
    "x.broadcast_to(2, 3)", "x.broadcast_to((2, 3))", "x.broadcast_to(size=(2, 3))",
    "x.permute(1, 0)", "x.permute((1, 0))", "x.permute(dims=(1, 0))", "x.permute(dims=[1, 0])",
    "x.new_ones(size=(2,))", "x.new_ones(2, 3)", "x.new_ones([])", "x.new_zeros(size=(2, 3))",
    "x.new_zeros(2, dtype=L.int32)", "x.new_empty(size=(2,)).fill_(4)", "x.new_empty(2, 1).zero_()",
    "x.new_full(size=(2,), fill_value=3.0)", "x.new_full((2,), 3.0)",
]


def _run(form: str, lib, x):
    return eval(form, {"L": lib, "x": x})


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("form", METHOD_FORMS)
def test_method_size_forms_match_torch(form, compiled):
    data = np.array([[1.0, 2.0, 3.0]], np.float32)
    expected = _run(form, torch, torch.tensor(data))
    step = (lambda x: _run(form, graphnet, x))
    got = (graphnet.compile(step) if compiled else step)(graphnet.tensor(data))
    assert tuple(got.shape) == tuple(expected.shape)
    assert got.dtype.name == str(expected.dtype).removeprefix("torch.")
    assert_close(got, expected, what=form)


BAD_FORMS = [
    "x.tile()", "x.permute()", "x.new_ones()", "x.broadcast_to()", "x.tile(2, foo=1)",
    "x.tile(dims=(2, 1), foo=1)", "x.permute(dims=(1, 0), foo=1)", "x.broadcast_to(size=3)",
    "x.tile((2,), (1,))", "x.new_zeros((2,), (3,))",
]


@pytest.mark.parametrize("form", BAD_FORMS)
def test_wrong_method_size_forms_raise_torchs_type_error(form):
    with pytest.raises(TypeError) as expected:
        _run(form, torch, torch.ones(1, 3))
    with pytest.raises(TypeError) as got:
        _run(form, graphnet, graphnet.ones(1, 3))
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("form", ["x.tile(2.5)", "x.tile(True)", "x.permute(1, 0.0)"])
def test_non_integer_sizes_raise_type_error(form):
    with pytest.raises(TypeError):
        _run(form, torch, torch.ones(1, 3))
    with pytest.raises(TypeError, match="tuple of ints"):
        _run(form, graphnet, graphnet.ones(1, 3))


def test_the_functions_keep_one_sequence():
    # torch.tile(x, 2, 1) is refused by PyTorch: only the methods take sizes one by one
    x = graphnet.ones(1, 3)
    assert tuple(graphnet.tile(x, (2, 1)).shape) == (2, 3)
    assert tuple(graphnet.broadcast_to(x, (2, 3)).shape) == (2, 3)


GENERIC_NAMES = ["Dataset", "IterableDataset", "Sampler", "DataLoader", "Subset",
                 "ConcatDataset", "ChainDataset", "StackDataset", "DistributedSampler",
                 "TensorDataset", "SequentialSampler", "RandomSampler", "BatchSampler",
                 "SubsetRandomSampler", "WeightedRandomSampler"]


def _subscriptable(cls) -> bool:
    try:
        cls[int]
    except TypeError:
        return False
    return True


@pytest.mark.parametrize("name", GENERIC_NAMES)
def test_data_classes_are_generic_where_torchs_are(name):
    assert _subscriptable(getattr(gdata, name)) == _subscriptable(getattr(tdata, name))


def test_typed_dataset_subclass_loads_like_torch():
    def batches(data):
        class Pairs(data.Dataset[tuple]):
            def __len__(self):
                return 3

            def __getitem__(self, i):
                return float(i), i

        return list(data.DataLoader[tuple](Pairs(), batch_size=2))

    got, expected = batches(gdata), batches(tdata)
    assert len(got) == len(expected) == 2
    for g_batch, t_batch in zip(got, expected):
        for g, t in zip(g_batch, t_batch):
            assert g.dtype.name == str(t.dtype).removeprefix("torch.")
            assert_close(g, t)
    assert list(gdata.Subset[int](gdata.TensorDataset(graphnet.arange(3)), [2])[0]) == [2]


OVERFLOWING = [[2 ** 63, 1], [1, 2 ** 64], [[2 ** 63, 1], [1, 2]], [True, 2 ** 63],
               [-(2 ** 63) - 1, 1], [2 ** 200, 1]]


@pytest.mark.parametrize("data", OVERFLOWING, ids=str)
def test_ints_past_int64_raise_like_torch(data):
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        torch.tensor(data)
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        graphnet.tensor(data)


@pytest.mark.parametrize("data,dtype", [([2 ** 63, 1], "int64"), ([2 ** 70, 1.5], "int64"),
                                        ([2 ** 63, 1], "int32")], ids=str)
def test_ints_past_int64_raise_for_integer_dtypes(data, dtype):
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        torch.tensor(data, dtype=getattr(torch, dtype))
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        graphnet.tensor(data, dtype=getattr(graphnet, dtype))


@pytest.mark.parametrize("data,dtype", [
    ([1.5, 2 ** 63], None), ([[1.0], [2 ** 70]], None), ([1, 2 ** 63, 1.0], None),
    ([2 ** 63, 1], "float32"), ([2 ** 63, 1], "float64"), ([2 ** 70, 1.5], "float32"),
    ([2 ** 63 - 1, -(2 ** 63)], None), ([float("inf"), 2], None)], ids=str)
def test_big_ints_beside_floats_or_for_float_dtypes_are_kept(data, dtype):
    expected = torch.tensor(data, dtype=dtype and getattr(torch, dtype))
    got = graphnet.tensor(data, dtype=dtype and getattr(graphnet, dtype))
    assert got.dtype.name == str(expected.dtype).removeprefix("torch.")
    assert got.tolist() == expected.tolist()


def test_default_collate_of_ints_past_int64_raises_like_torch():
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        tdata.default_collate([2 ** 63, 1])
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        gdata.default_collate([2 ** 63, 1])


@pytest.mark.parametrize("named", [False, True])
def test_stack_dataset_getitems_matches_torch(named):
    class Batched(list):   # a dataset with its own batched fetch: asked once per batch
        calls = 0

        def __getitems__(self, indices):
            Batched.calls += 1
            return [self[i] * 10 for i in indices]

    def items(data):
        a, b = [1, 2, 3], Batched([4, 5, 6])
        stack = data.StackDataset(x=a, y=b) if named else data.StackDataset(a, b)
        return stack.__getitems__([2, 0])

    assert items(gdata) == items(tdata) == ([{"x": 3, "y": 60}, {"x": 1, "y": 40}] if named
                                            else [(3, 60), (1, 40)])
    assert Batched.calls == 2


def test_stack_dataset_getitems_refuses_a_short_batch_like_torch():
    class Short(list):
        def __getitems__(self, indices):
            return [self[0]]

    for data in (tdata, gdata):
        with pytest.raises(ValueError, match="Nested dataset's output size mismatch"):
            data.StackDataset([1, 2], Short([3, 4])).__getitems__([0, 1])


def test_unknown_print_profile_is_ignored_like_torch():
    from graphnet._format import get_printoptions

    before = get_printoptions()
    try:
        assert graphnet.set_printoptions(profile="bogus", precision=2) is None
        torch.set_printoptions(profile="bogus", precision=2)
        assert repr(graphnet.tensor([1.23456])) == "tensor([1.23])"
        assert repr(torch.tensor([1.23456])) == "tensor([1.23])"
    finally:
        graphnet.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert get_printoptions() == before


class MyList(list):
    pass


class Frozen(collections.abc.Sequence):   # immutable, rebuilt from its items
    def __init__(self, items):
        self.items = list(items)

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


def test_containers_keep_their_types_like_torch():
    for data in (tdata, gdata):
        converted = data.default_convert(collections.defaultdict(int, a=1))
        assert type(converted) is collections.defaultdict and converted["missing"] == 0
        assert type(data.default_convert(MyList([1, 2]))) is MyList
        assert type(data.default_collate([MyList([1]), MyList([2])])) is MyList
        assert type(data.default_collate([Frozen([1]), Frozen([2])])) is Frozen
        assert type(data.default_collate([(1,), (2,)])) is list
    batch = gdata.default_collate([MyList([1.0, 2]), MyList([3.0, 4])])
    assert [t.tolist() for t in batch] == [[1.0, 3.0], [2, 4]]


def test_collating_a_tensor_with_a_number_raises_torchs_type_error():
    with pytest.raises(TypeError) as expected:
        tdata.default_collate([torch.tensor(1.0), 2])
    with pytest.raises(TypeError) as got:
        gdata.default_collate([graphnet.tensor(1.0), 2])
    assert str(got.value) == str(expected.value)


def test_tensor_dataset_with_a_bool_sampler_indexes_like_torch():
    def load(lib, data, sampler):
        return list(data.DataLoader(data.TensorDataset(lib.arange(3)), sampler=sampler,
                                    batch_size=2))

    with pytest.raises(RuntimeError):
        load(torch, tdata, [True, False])
    with pytest.raises(RuntimeError, match=r"shape \[1, 3\] but sample 1 has shape \[0, 3\]"):
        load(graphnet, gdata, [True, False])
    expected = load(torch, tdata, [True, True])
    got = load(graphnet, gdata, [True, True])
    assert tuple(got[0][0].shape) == tuple(expected[0][0].shape) == (2, 1, 3)
    assert_close(got[0][0], expected[0][0])
    # NumPy ints still take the one-gather path, with torch's rows
    assert load(graphnet, gdata, [np.int64(2), np.int64(0)])[0][0].tolist() == [2, 0]
