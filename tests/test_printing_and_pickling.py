"""Text and round trips that differed from PyTorch: empty tensors' repr, the named tuples
ops return (`graphnet.return_types`), pickling int64/float64 tensors (JAX unpickled them as
int32/float32), and a few edge calls that crashed or computed where PyTorch answers:
median of nothing, diff with a negative order, a matrix norm name on a vector."""

import copy
import pickle

import numpy as np
import pytest
import torch

import graphnet


def _text(lib, make):
    return repr(make(lib)).replace("torch.", "graphnet.").replace("graphnet.return_types",
                                                                  "return_types")


EMPTY = {
    "2x0": lambda t: t.zeros(2, 0),
    "2x0x3": lambda t: t.zeros(2, 0, 3),
    "0x3 int64": lambda t: t.zeros(0, 3, dtype=t.int64),
    "0 bool": lambda t: t.zeros(0, dtype=t.bool),
    "0": lambda t: t.zeros(0),
    "0 int64": lambda t: t.zeros(0, dtype=t.int64),
    "0 float64": lambda t: t.zeros(0, dtype=t.float64),
    "0x2 requires grad": lambda t: t.zeros(0, 2, requires_grad=True),
    "3x0 int32": lambda t: t.zeros(3, 0, dtype=t.int32),
    "bincount of nothing": lambda t: t.bincount(t.zeros(0, dtype=t.int64)),
}


@pytest.mark.parametrize("case", EMPTY)
def test_empty_tensors_print_as_in_torch(case):
    assert _text(graphnet, EMPTY[case]) == _text(torch, EMPTY[case])


RESULTS = {
    "sort": lambda t: t.tensor([3.0, 1.0, 2.0]).sort(),
    "max over a dim": lambda t: t.tensor([[1.0, 5.0], [4.0, 2.0]]).max(1),
    "topk": lambda t: t.tensor([1.0, 3.0, 2.0]).topk(2),
    "median over a dim": lambda t: t.tensor([[1.0, 5.0, 3.0]]).median(1),
    "slogdet": lambda t: t.linalg.slogdet(t.eye(2) * 2),
    "aminmax": lambda t: t.aminmax(t.tensor([1.0, -2.0])),
}


@pytest.mark.parametrize("case", RESULTS)
def test_named_results_print_and_unpack_as_in_torch(case):
    assert _text(graphnet, RESULTS[case]) == _text(torch, RESULTS[case])
    got = RESULTS[case](graphnet)
    assert type(got).__module__ == "graphnet.return_types"
    assert len(got) == len(RESULTS[case](torch))
    again = pickle.loads(pickle.dumps(got))
    assert type(again) is type(got)
    for a, b in zip(again, got):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("dtype", ["int64", "float64", "int32", "bool", "float32"])
def test_pickle_and_deepcopy_keep_the_dtype(dtype):
    t = graphnet.tensor([1, 0, 3]).to(getattr(graphnet, dtype))
    for copied in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert copied.dtype == t.dtype
        np.testing.assert_array_equal(copied.numpy(), t.numpy())
    w = graphnet.tensor([1.5], dtype=graphnet.float64, requires_grad=True)
    back = pickle.loads(pickle.dumps(w))
    assert back.dtype == graphnet.float64 and back.requires_grad


EDGES = {
    "median of nothing": lambda t: t.tensor([]).median(),
    "nanmedian of nothing": lambda t: t.tensor([]).nanmedian(),
    "median of no integers": lambda t: t.tensor([], dtype=t.int64).median(),
    "diff of negative order": lambda t: t.diff(t.arange(3.0), n=-1),
    "diff of order 0": lambda t: t.diff(t.arange(3.0), n=0),
    "frobenius norm of a vector": lambda t: t.linalg.norm(t.tensor([3.0, -4.0]), "fro"),
    "frobenius norm of 3-d": lambda t: t.linalg.norm(t.ones(2, 2, 2), "fro"),
}


@pytest.mark.parametrize("case", EDGES)
def test_edge_calls_answer_as_torch(case):
    def outcome(lib):
        try:
            return "value", EDGES[case](lib).numpy().tolist()
        except RuntimeError as err:
            return "error", str(err)
    want, got = outcome(torch), outcome(graphnet)
    assert got[0] == want[0]
    if want[0] == "value":
        np.testing.assert_array_equal(np.array(got[1]), np.array(want[1]))
    else:
        assert got[1] == want[1]
