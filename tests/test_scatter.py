"""index_select / index_add / index_fill / index_copy / scatter / scatter_add / scatter_reduce
/ take_along_dim against PyTorch: values and gradients eagerly and compiled, negative dims,
repeated indices, the in-place forms under graphnet.compile, and PyTorch's exception (type
and message) for an out-of-range index in both modes."""

import numpy as np
import pytest
from parity import assert_close, np_of, torch

import graphnet

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4)).astype(np.float32)
S = RNG.standard_normal((3, 2)).astype(np.float32)
ROWS = np.array([3, 0])                        # a 1-D index into dim 1 of X
REPEATED = np.array([1, 1])                    # repeats accumulate in index_add
ELEMS = np.array([[0, 3], [1, 1], [2, 0]])     # scatter's index: one target per element
DISTINCT = np.array([[0, 3], [1, 2], [2, 0]])  # no repeats within a row (scatter's set)

# name: fn(lib, x, s, index) with x [3, 4] and s [3, 2] differentiable, and the index.
CALLS = {
    "index_select": (lambda T, x, s, i: T.index_select(x, 1, i) * s, ROWS),
    "index_select_method": (lambda T, x, s, i: x.index_select(-1, i) * s, ROWS),
    "index_add": (lambda T, x, s, i: T.index_add(x, 1, i, s, alpha=2.5), ROWS),
    "index_add_repeated": (lambda T, x, s, i: x.index_add(-1, i, s), REPEATED),
    "index_fill": (lambda T, x, s, i: x.index_fill(1, i, -1.5) * 2, ROWS),
    "index_fill_negative": (lambda T, x, s, i: x.index_fill(-1, -i - 1, 3.0), ROWS),
    "index_copy": (lambda T, x, s, i: x.index_copy(1, i, s), ROWS),
    "scatter": (lambda T, x, s, i: T.scatter(x, 1, i, s), DISTINCT),
    "scatter_value": (lambda T, x, s, i: x.scatter(-1, i, 7.0) * s.sum(), DISTINCT),
    "scatter_add": (lambda T, x, s, i: T.scatter_add(x, 1, i, s), ELEMS),
    "scatter_add_dim0": (lambda T, x, s, i: x.T.scatter_add(0, i.T, s.T), ELEMS),
    "take_along_dim": (lambda T, x, s, i: T.take_along_dim(x, i, -1) * s, ELEMS),
    "take_along_dim_flat": (lambda T, x, s, i: T.take_along_dim(x, i + 4) * s.sum(), ELEMS),
    "take_along_dim_broadcast": (lambda T, x, s, i: x.take_along_dim(i[:1], 1), ELEMS),
}
for _r in ("sum", "prod", "mean", "amax", "amin"):
    for _inc in (True, False):
        CALLS[f"scatter_reduce_{_r}_{_inc}"] = (
            lambda T, x, s, i, r=_r, inc=_inc: x.scatter_reduce(1, i, s, r, include_self=inc),
            ELEMS)


def _run(lib, name, compiled=False):
    fn, index = CALLS[name]
    x = lib.tensor(X, requires_grad=True)
    s = lib.tensor(S, requires_grad=True)
    if compiled:
        fn = graphnet.compile(lambda x, s, i, fn=fn: fn(graphnet, x, s, i))
        out = fn(x, s, lib.tensor(index))
    else:
        out = fn(lib, x, s, lib.tensor(index))
    (out * lib.tensor(np.arange(out.numel(), dtype=np.float32).reshape(out.shape))).sum() \
        .backward()
    return out, x.grad, s.grad


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", list(CALLS))
def test_values_and_gradients_match_torch(name, compiled):
    expected = _run(torch, name)
    actual = _run(graphnet, name, compiled)
    for what, a, e in zip(("value", "grad self", "grad src"), actual, expected):
        if e is None:
            assert a is None or not np_of(a).any(), f"{name}: {what}"
        else:
            assert_close(a, e, what=f"{name} {what}")


def _inplace(T, x, s, i, j):
    y = x * 1
    y.index_add_(1, i, s).index_copy_(1, i, s * 2)
    y.scatter_add_(1, j, s).scatter_(1, j, 0.5).index_fill_(0, i[1:], 9.0)
    return y.scatter_(1, j, s * 3).scatter_reduce_(1, j, s, "amax", include_self=False)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_inplace_forms_update_self_and_carry_gradients(compiled):
    def run(lib, fn):
        x, s = lib.tensor(X, requires_grad=True), lib.tensor(S, requires_grad=True)
        out = fn(lib, x, s, lib.tensor(ROWS), lib.tensor(DISTINCT))
        (out * out).sum().backward()
        return out, x.grad, s.grad

    step = graphnet.compile(lambda *a: _inplace(graphnet, *a)) if compiled else None
    actual = run(graphnet, (lambda T, *a: step(*a)) if compiled else _inplace)
    for what, a, e in zip(("value", "grad x", "grad s"), actual, run(torch, _inplace)):
        assert_close(a, e, what=what)


def test_inplace_on_a_plain_tensor_changes_it_and_returns_it():
    x = graphnet.zeros(2, 3)
    out = x.scatter_add_(1, graphnet.tensor([[0, 0], [2, 1]]), graphnet.ones(2, 2))
    assert out is x
    assert np_of(x).tolist() == [[2.0, 0.0, 0.0], [0.0, 1.0, 1.0]]


# name: fn(lib, x, index) on X [3, 4], and an out-of-range index (every message is PyTorch's).
BAD = {
    "index_select_past": (lambda T, x, i: T.index_select(x, 1, i), [0, 4]),
    "index_select_negative": (lambda T, x, i: x.index_select(1, i), [-1]),
    "index_add": (lambda T, x, i: x.index_add(1, i, x[:, :2]), [1, 5]),
    "index_add_negative": (lambda T, x, i: x.index_add(-1, i, x[:, :1]), [-1]),
    "index_fill": (lambda T, x, i: x.index_fill(0, i, 1.0), [3]),
    "index_fill_negative": (lambda T, x, i: x.index_fill(0, i, 1.0), [-4]),
    "index_copy": (lambda T, x, i: x.index_copy(1, i, x[:, :1]), [4]),
    "index_copy_negative": (lambda T, x, i: x.index_copy(1, i, x[:, :1]), [-2]),
    "scatter": (lambda T, x, i: x.scatter(1, i, x), [[0], [4], [1]]),
    "scatter_value": (lambda T, x, i: x.scatter(1, i, 2.0), [[0], [-1], [1]]),
    "scatter_add": (lambda T, x, i: x.scatter_add(0, i, x), [[0, 3]]),
    "scatter_reduce": (lambda T, x, i: x.scatter_reduce(1, i, x, "mean"), [[0], [1], [9]]),
    "take_along_dim_flat": (lambda T, x, i: T.take_along_dim(x, i), [1, 12]),
}


def _torch_error(name):
    fn, index = BAD[name]
    with pytest.raises((IndexError, RuntimeError)) as info:
        fn(torch, torch.from_numpy(X), torch.tensor(index))
    return info.type, str(info.value).splitlines()[0]


@pytest.mark.parametrize("name", list(BAD))
def test_bad_index_raises_torchs_error_eagerly(name):
    kind, message = _torch_error(name)
    fn, index = BAD[name]
    with pytest.raises(kind) as info:
        fn(graphnet, graphnet.tensor(X), graphnet.tensor(index))
    assert str(info.value) == message


@pytest.mark.parametrize("where", ["input", "computed"])
@pytest.mark.parametrize("name", list(BAD))
def test_bad_index_raises_torchs_error_compiled(name, where):
    kind, message = _torch_error(name)
    fn, index = BAD[name]
    if where == "computed":   # an index the program makes itself is checked inside it
        step = graphnet.compile(lambda x, i: fn(graphnet, x, i.clone()))
    else:
        step = graphnet.compile(lambda x, i: fn(graphnet, x, i))
    with pytest.raises(kind) as info:
        step(graphnet.tensor(X), graphnet.tensor(index))
    assert message in str(info.value)


def test_scatter_refuses_src_and_value_together_and_unknown_reductions():
    x, i = graphnet.zeros(2, 2), graphnet.tensor([[0], [1]])
    with pytest.raises(TypeError, match="either src"):
        graphnet.scatter(x, 1, i, x, value=1.0)
    with pytest.raises(RuntimeError, match="got median"):
        x.scatter_reduce(1, i, x, "median")
    assert np_of(x.scatter(1, i, graphnet.ones(2, 1), reduce="add")).tolist() == \
        torch.zeros(2, 2).scatter(1, torch.tensor([[0], [1]]), torch.ones(2, 1),
                                  reduce="add").tolist()


def test_take_along_dim_refuses_indices_of_another_rank_like_torch():
    with pytest.raises(RuntimeError) as expected:
        torch.take_along_dim(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), 1)
    with pytest.raises(RuntimeError) as info:
        graphnet.take_along_dim(graphnet.zeros(2, 3), graphnet.zeros(2, dtype=graphnet.long), 1)
    assert str(info.value) == str(expected.value)
