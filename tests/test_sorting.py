"""sort, argsort, msort, topk, kthvalue, searchsorted and bucketize against PyTorch: values,
int64 indices, gradients to the selected positions, negative dims, keepdim, the named
tuples, and the same calls compiled (static mode)."""

from __future__ import annotations

import numpy as np
import pytest
from parity import assert_close, np_of, to_gn, to_torch, torch

import graphnet
from graphnet import nn


def tie_free(*shape, seed=0):
    """Distinct values (a shuffled range, scaled): every order and top-k is unique."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.25 - 3.0).astype(np.float32)


def with_ties(*shape, seed=0):
    return np.random.default_rng(seed).integers(0, 3, shape).astype(np.float32)


# Each config: fn(T, x) -> a (values, indices) pair. Run eagerly and compiled.
SELECTIONS = {
    "sort": lambda T, x: T.sort(x),
    "sort_dim0_desc": lambda T, x: T.sort(x, 0, descending=True),
    "sort_neg_dim": lambda T, x: x.sort(dim=-2),
    "topk": lambda T, x: T.topk(x, 2),
    "topk_smallest_dim0": lambda T, x: x.topk(3, dim=0, largest=False),
    "topk_neg_dim": lambda T, x: T.topk(x, 1, dim=-3),
    "kthvalue": lambda T, x: T.kthvalue(x, 2),
    "kthvalue_keepdim": lambda T, x: x.kthvalue(3, dim=1, keepdim=True),
    "kthvalue_neg_dim": lambda T, x: T.kthvalue(x, 1, dim=-3, keepdim=False),
}


def _compare_pair(ours, theirs, what):
    values, indices = ours
    assert_close(values, theirs.values, what=f"{what} values")
    assert indices.dtype == graphnet.int64, what
    np.testing.assert_array_equal(np_of(indices), theirs.indices.numpy(), err_msg=what)


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_values_indices_and_gradients_match_torch(name):
    fn = SELECTIONS[name]
    x = tie_free(3, 4, 5)
    weights = np.random.default_rng(1).standard_normal(fn(torch, to_torch(x)).values.shape)
    t_x, g_x = to_torch(x, requires_grad=True), to_gn(x, requires_grad=True)
    theirs, ours = fn(torch, t_x), fn(graphnet, g_x)
    _compare_pair(ours, theirs, name)
    assert ours.indices is ours[1] and not ours.indices.requires_grad
    (theirs.values * to_torch(weights.astype(np.float32))).sum().backward()
    (ours.values * to_gn(weights.astype(np.float32))).sum().backward()
    assert_close(g_x.grad, t_x.grad, what=f"{name} grad")
    assert np.count_nonzero(np_of(g_x.grad)) == weights.size   # only the selected positions


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_compiled_matches_torch(name):
    fn = SELECTIONS[name]
    x = tie_free(3, 4, 5, seed=2)
    values, indices = graphnet.compile(lambda t: tuple(fn(graphnet, t)))(to_gn(x))
    _compare_pair((values, indices), fn(torch, to_torch(x)), f"compiled {name}")


def test_compiled_training_step_sends_gradient_through_topk():
    """The gradient of a top-k loss reaches the weights inside one compiled step."""
    x = tie_free(6, 4, seed=3)
    t_model = torch.nn.Linear(4, 8)
    model = nn.Linear(4, 8)
    model.weight.data = to_gn(t_model.weight.detach().numpy())
    model.bias.data = to_gn(t_model.bias.detach().numpy())

    def step(inp):
        model.zero_grad()
        loss = graphnet.topk(model(inp), 3, dim=-1).values.square().sum()
        loss.backward()
        return loss

    loss = graphnet.compile(step)(to_gn(x))
    t_loss = torch.topk(t_model(to_torch(x)), 3, dim=-1).values.square().sum()
    t_loss.backward()
    assert_close(loss, t_loss, atol=1e-4)
    assert_close(model.weight.grad, t_model.weight.grad, atol=1e-4, what="weight grad")


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, -1])
def test_stable_sort_keeps_ties_in_input_order_like_torch(descending, dim):
    x = with_ties(6, 7)
    theirs = torch.sort(to_torch(x), dim=dim, descending=descending, stable=True)
    _compare_pair(graphnet.sort(to_gn(x), dim=dim, descending=descending, stable=True),
                  theirs, "eager")
    compiled = graphnet.compile(
        lambda t: tuple(graphnet.sort(t, dim=dim, descending=descending, stable=True)))
    _compare_pair(compiled(to_gn(x)), theirs, "compiled")
    expected = torch.argsort(to_torch(x), dim=dim, descending=descending, stable=True)
    np.testing.assert_array_equal(
        np_of(to_gn(x).argsort(dim=dim, descending=descending, stable=True)), expected.numpy())


def test_nan_sorts_as_the_largest_value_like_torch():
    x = np.array([[1.0, np.nan, -2.0, 0.5], [np.nan, 3.0, 2.0, -1.0]], np.float32)
    for descending in (False, True):
        theirs = torch.sort(to_torch(x), descending=descending, stable=True)
        _compare_pair(graphnet.sort(to_gn(x), descending=descending), theirs, "nan")
    _compare_pair(graphnet.topk(to_gn(x), 2), torch.topk(to_torch(x), 2), "nan topk")


def test_named_tuples_msort_argsort_and_integer_inputs():
    x = tie_free(4, 3, seed=4)
    result = graphnet.topk(to_gn(x), 2, sorted=False)
    assert type(result).__name__ == "topk" and result._fields == ("values", "indices")
    assert type(graphnet.sort(to_gn(x))).__name__ == "sort"
    assert type(to_gn(x).kthvalue(1)).__name__ == "kthvalue"
    assert_close(to_gn(x).msort(), torch.msort(to_torch(x)))
    assert_close(graphnet.msort(to_gn(x)), torch.msort(to_torch(x)))
    np.testing.assert_array_equal(np_of(graphnet.argsort(to_gn(x), dim=0, descending=True)),
                                  torch.argsort(to_torch(x), dim=0, descending=True).numpy())
    ints = np.random.default_rng(5).permutation(20).reshape(4, 5).astype(np.int64)
    ours, theirs = graphnet.topk(to_gn(ints), 2), torch.topk(to_torch(ints), 2)
    assert ours.values.dtype == graphnet.int64
    _compare_pair(ours, theirs, "int64 topk")


def test_zero_dim_input_and_k_zero_match_torch():
    s = np.array(1.5, np.float32)
    for T_call in (lambda T, t: T.sort(t), lambda T, t: T.topk(t, 1),
                   lambda T, t: T.kthvalue(t, 1, keepdim=True)):
        ours, theirs = T_call(graphnet, to_gn(s)), T_call(torch, to_torch(s))
        assert tuple(ours.values.shape) == tuple(theirs.values.shape) == ()
        _compare_pair(ours, theirs, "0-d")
    empty = graphnet.topk(to_gn(tie_free(3, 4)), 0)
    assert tuple(empty.values.shape) == tuple(empty.indices.shape) == (3, 0)


def test_bad_k_and_dim_raise_like_torch():
    x = to_gn(tie_free(3, 4))
    with pytest.raises(RuntimeError, match="k out of range"):
        graphnet.topk(x, 5)
    with pytest.raises(RuntimeError, match="k out of range"):
        x.kthvalue(0)
    with pytest.raises(IndexError, match=r"Dimension out of range .*\[-2, 1\], but got 2"):
        x.sort(dim=2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        graphnet.topk(x, 1, dim=-3)


SEARCHES = {
    "searchsorted_1d": lambda T, s, v: T.searchsorted(s[0], v),
    "searchsorted_right": lambda T, s, v: T.searchsorted(s[0], v, right=True),
    "searchsorted_side_int32": lambda T, s, v: T.searchsorted(s[0], v, side="right",
                                                              out_int32=True),
    "searchsorted_rows": lambda T, s, v: T.searchsorted(s, v),
    "searchsorted_sorter": lambda T, s, v: T.searchsorted(
        s[0].flip(0), v, sorter=T.argsort(s[0].flip(0))),
    "bucketize": lambda T, s, v: T.bucketize(v, s[0]),
    "bucketize_right": lambda T, s, v: T.bucketize(v, s[1], right=True),
}


@pytest.mark.parametrize("name", sorted(SEARCHES))
def test_searchsorted_and_bucketize_match_torch(name):
    fn = SEARCHES[name]
    sequence = np.sort(with_ties(3, 6, seed=6) + np.arange(6, dtype=np.float32), axis=-1)
    values = np.array([[-1.0, 0.0, 1.0, 2.5], [3.0, 4.0, 5.0, 9.0], [6.0, 2.0, 1.0, 0.5]],
                      np.float32)
    expected = fn(torch, to_torch(sequence), to_torch(values))
    eager = fn(graphnet, to_gn(sequence), to_gn(values))
    compiled = graphnet.compile(lambda s, v: fn(graphnet, s, v))(to_gn(sequence), to_gn(values))
    for what, ours in [("eager", eager), ("compiled", compiled)]:
        assert np_of(ours).dtype == expected.numpy().dtype, what
        np.testing.assert_array_equal(np_of(ours), expected.numpy(), err_msg=f"{name} {what}")


def test_searchsorted_refuses_mismatched_rows_and_opposite_sides():
    sequence, values = to_gn(np.zeros((2, 3), np.float32)), to_gn(np.zeros((3, 4), np.float32))
    with pytest.raises(RuntimeError, match="first N-1 dimensions"):
        graphnet.searchsorted(sequence, values)
    with pytest.raises(RuntimeError, match="opposites"):
        graphnet.searchsorted(sequence[0], values, right=True, side="left")
    with pytest.raises(RuntimeError, match="1 dimension"):
        graphnet.bucketize(values, sequence)
