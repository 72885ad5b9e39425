"""PyTorch's answers to unusual arguments of bincount, searchsorted, kthvalue, topk, cdist
and quantile: an empty bincount's dtype, each error's type and message, and quantile's check
of a tensor q in eager and compiled calls (where q may be a value the program computes)."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet


def _both(fn):
    out = []
    for lib in (torch, graphnet):
        try:
            out.append(fn(lib))
        except Exception as err:   # noqa: BLE001  (compared below)
            out.append((type(err), str(err)))
    return out


def _same_error(fn):
    theirs, ours = _both(fn)
    assert isinstance(theirs, tuple) and isinstance(ours, tuple), (theirs, ours)
    assert issubclass(ours[0], theirs[0]) and ours[1] == theirs[1], (theirs, ours)


def _same_value(fn):
    theirs, ours = _both(fn)
    assert not isinstance(theirs, tuple), theirs
    got = np.asarray(ours._value)
    assert got.dtype == theirs.numpy().dtype and got.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(got, theirs.numpy())


# ---- bincount ----------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda T: T.bincount(T.tensor([], dtype=T.int64), weights=T.tensor([])),
    lambda T: T.bincount(T.tensor([], dtype=T.int64), weights=T.tensor([], dtype=T.float64)),
    lambda T: T.bincount(T.tensor([], dtype=T.int64), weights=T.tensor([], dtype=T.int32)),
    lambda T: T.bincount(T.tensor([], dtype=T.int64), weights=T.tensor([]), minlength=3),
    lambda T: T.bincount(T.tensor([], dtype=T.int64), weights=T.ones(3)),   # not compared
    lambda T: T.bincount(T.tensor([], dtype=T.int32)),
    lambda T: T.bincount(T.tensor([1, 3]), weights=T.tensor([2.0, 0.5], dtype=T.float16)),
    lambda T: T.bincount(T.tensor([1]), minlength=np.int64(3)),
])
def test_bincount_results_as_pytorch(call):
    _same_value(call)


@pytest.mark.parametrize("call", [
    lambda T: T.bincount(T.tensor([1, 2]), minlength=2.0),
    lambda T: T.tensor([1, 2]).bincount(minlength=2.5),
    lambda T: T.bincount(T.tensor([1]), minlength=True),
    lambda T: T.bincount(T.tensor([1]), minlength=None),
    lambda T: T.bincount(T.tensor([1.0, 2.0])),
    lambda T: T.bincount(T.tensor([True])),
    lambda T: T.bincount(T.tensor([], dtype=T.float32)),
    lambda T: T.bincount(T.tensor([[1]])),
    lambda T: T.bincount(T.zeros(0, 2, dtype=T.int64)),
    lambda T: T.bincount(T.tensor([], dtype=T.int64), minlength=-1),
    lambda T: T.bincount(T.tensor([-1]), minlength=-1),
    lambda T: T.bincount(T.tensor([-1])),
    lambda T: T.bincount(T.tensor([1]), weights=T.ones(2)),
])
def test_bincount_errors_as_pytorch(call):
    theirs, ours = _both(call)
    assert isinstance(theirs, tuple) and isinstance(ours, tuple), (theirs, ours)
    assert ours[0] is theirs[0]
    if ours[0] is not TypeError:   # PyTorch's TypeError lists the argument's position
        assert ours == theirs
    else:
        assert "'minlength' must be int, not" in ours[1]


# ---- searchsorted, kthvalue, topk ----------------------------------------------------------

@pytest.mark.parametrize("sorter", [
    lambda T: T.tensor([0, 1]),                       # wrong shape
    lambda T: T.tensor([0.0, 1.0, 2.0]),              # not int64
    lambda T: T.tensor([0, 1, 2], dtype=T.int32),
    lambda T: T.tensor([1, 2, 5]),                    # an index past the end
    lambda T: T.tensor([1, -1, 0]),
])
def test_searchsorted_checks_the_sorter_as_pytorch(sorter):
    _same_error(lambda T: T.searchsorted(T.tensor([3.0, 1.0, 2.0]), T.tensor([2.0]),
                                         sorter=sorter(T)))


def test_searchsorted_with_a_valid_sorter_as_pytorch():
    _same_value(lambda T: T.searchsorted(T.tensor([3.0, 1.0, 2.0]), T.tensor([2.0, 0.5, 9.0]),
                                         sorter=T.tensor([1, 2, 0]), side="right"))


@pytest.mark.parametrize("call", [
    lambda T: T.kthvalue(T.tensor([True, False]), 1),
    lambda T: T.tensor([[True], [False]]).kthvalue(1, dim=0),
    lambda T: T.kthvalue(T.tensor([True]), 2),                 # k first: RuntimeError
    lambda T: T.kthvalue(T.tensor([], dtype=T.bool), 1),       # empty dim first: IndexError
    lambda T: T.topk(T.tensor([True, False]), 1),
    lambda T: T.tensor([True]).topk(0),
    lambda T: T.topk(T.tensor(True), 1),
])
def test_kthvalue_and_topk_of_bool_raise_as_pytorch(call):
    theirs, ours = _both(call)
    assert isinstance(theirs, tuple) and isinstance(ours, tuple), (theirs, ours)
    assert issubclass(ours[0], theirs[0])
    if "out of range" not in theirs[1]:   # graphnet's says more about k and the shape
        assert ours[1] == theirs[1]


# ---- cdist -------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda T: T.cdist(T.ones(2, 3, dtype=T.float16), T.ones(2, 3, dtype=T.float16)),
    lambda T: T.cdist(T.ones(2, 3, dtype=T.bfloat16), T.ones(2, 3, dtype=T.bfloat16)),
    lambda T: T.cdist(T.ones(2, 3, dtype=T.float16), T.ones(2, 3, dtype=T.float16), p=1.0),
    lambda T: T.cdist(T.ones(2, 3, dtype=T.float16), T.ones(30, 3, dtype=T.float16), p=3.0),
    lambda T: T.cdist(T.ones(2, 3, dtype=T.float16), T.ones(2, 3)),
    lambda T: T.cdist(T.ones(2, 3), T.ones(2, 3, dtype=T.float16)),
    lambda T: T.cdist(T.ones(2, 3), T.ones(2, 3, dtype=T.float64)),
    lambda T: T.cdist(T.ones(2, 3), T.ones(2, 3, dtype=T.float64),
                      compute_mode="use_mm_for_euclid_dist"),
])
def test_cdist_dtypes_without_a_kernel_raise_as_pytorch(call):
    _same_error(call)


@pytest.mark.parametrize("call", [
    # the matmul form has a half-precision kernel: used always, or past 25 rows
    lambda T: T.cdist(T.ones(2, 3, dtype=T.float16), T.ones(2, 3, dtype=T.float16),
                      compute_mode="use_mm_for_euclid_dist"),
    lambda T: T.cdist(T.ones(2, 3, dtype=T.float16), T.ones(30, 3, dtype=T.float16)),
    lambda T: T.cdist(T.ones(0, 3, dtype=T.float16), T.ones(2, 3, dtype=T.float16)),
    lambda T: T.cdist(T.ones(0, 3), T.ones(2, 3, dtype=T.float64)),   # x1's dtype
])
def test_cdist_half_where_pytorch_has_a_kernel(call):
    _same_value(call)


def test_cdist_of_half_inputs_under_autocast_runs_in_float32():
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    with torch.autocast("cpu"):
        want = torch.cdist(torch.tensor(a).bfloat16(), torch.tensor(a).bfloat16())
    with graphnet.autocast("cpu"):
        got = graphnet.cdist(graphnet.tensor(a).bfloat16(), graphnet.tensor(a).bfloat16())
    assert got.dtype == graphnet.float32 and want.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-5)


# ---- quantile ----------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda T: T.quantile(T.tensor([1.0, 2.0, 3.0]), T.tensor([0.5, 1.5])),
    lambda T: T.nanquantile(T.tensor([1.0, 2.0, 3.0]), T.tensor([-0.1, 0.5])),
    lambda T: T.quantile(T.tensor([1.0, 2.0, 3.0]), T.tensor([0.5, float("nan")])),
    lambda T: T.quantile(T.tensor([1.0, 2.0]), T.tensor(1.5)),
    lambda T: T.tensor([[1.0, 2.0]]).quantile(T.tensor([2.0]), dim=1, keepdim=True),
    lambda T: T.nanquantile(T.tensor([1.0, 2.0]), 1.5),
    lambda T: T.nanquantile(T.tensor([1.0, 2.0]), float("nan")),
    lambda T: T.quantile(T.tensor([1.0]), 2.0),
    lambda T: T.nanquantile(T.tensor([]), 0.5),
    lambda T: T.nanquantile(T.tensor([1.0]), T.tensor([[0.5]])),
    lambda T: T.nanquantile(T.tensor([1]), 0.5),
    lambda T: T.nanquantile(T.tensor([1.0]), T.tensor([0.5], dtype=T.float64)),
    lambda T: T.quantile(T.tensor([1.0]), 0.5, interpolation="x"),
    lambda T: T.quantile(T.tensor([]), 1.5, interpolation="x"),
    lambda T: T.quantile(T.tensor([1.0]), T.tensor([1.5]), interpolation="x"),
    lambda T: T.quantile(T.tensor([1.0]), T.tensor([1.5]), dim=4),
])
def test_quantile_errors_as_pytorch(call):
    _same_error(call)


def test_quantile_of_an_empty_q_tensor_as_pytorch():
    _same_value(lambda T: T.quantile(T.tensor([1.0, 2.0]), T.tensor([])))


def test_compiled_quantile_checks_q_given_and_computed():
    given = graphnet.compile(lambda x, q: graphnet.quantile(x, q))
    computed = graphnet.compile(lambda x, q: graphnet.nanquantile(x, q * 2))
    x = graphnet.tensor([1.0, 2.0, 3.0])
    np.testing.assert_allclose(given(x, graphnet.tensor([0.25, 1.0])).numpy(), [1.5, 3.0])
    np.testing.assert_allclose(computed(x, graphnet.tensor([0.25])).numpy(), [2.0])
    message = r"quantile\(\) q values must be in the range \[0, 1\]"
    with pytest.raises(RuntimeError, match=message):
        given(x, graphnet.tensor([0.5, 1.5]))
    with pytest.raises(RuntimeError, match=message):
        computed(x, graphnet.tensor([0.75]))
