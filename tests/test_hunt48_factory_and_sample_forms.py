"""PyTorch's forms and values where graphnet differed: `arange`'s three call forms by
position or name (`arange(end=5)` was a TypeError, `arange(5, step=2)` ran), `logspace`'s
one point on an integer dtype (the exponent was truncated first: 10 where PyTorch gives 12),
a `TensorDataset` sample as a view of the dataset (it was a copy: an in-place edit of a
sample was lost), and `graphnet.cond` on a Python predicate when compiled (`cond(1, ...)`
ran the false branch on an uninitialised `Tensor(1)`)."""

import numpy as np
import pytest
import torch

import graphnet as gn
from graphnet.utils.data import DataLoader, TensorDataset


@pytest.mark.parametrize("args, kwargs", [
    ((), {"end": 5}), ((0,), {"end": 5}), ((1, 9), {"step": 2}),
    ((), {"start": 1, "end": 9, "step": 3}), ((4.5,), {}), ((2, 7), {})])
def test_arange_forms_match_torch(args, kwargs):
    want = torch.arange(*args, **kwargs)
    got = gn.arange(*args, **kwargs)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("args, kwargs", [
    ((5,), {"step": 2}), ((), {"start": 5}), ((), {"start": 1, "step": 2}),
    ((5, None), {}), ((1, 5, None), {}), ((1, 2, 3, 4), {})])
def test_arange_forms_torch_refuses_are_refused(args, kwargs):
    with pytest.raises(TypeError):
        torch.arange(*args, **kwargs)
    with pytest.raises(TypeError, match="arange"):
        gn.arange(*args, **kwargs)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int8"])
@pytest.mark.parametrize("start, end, base", [
    (1.1, 3.0, 10.0), (2.5, 0.0, 10.0), (-0.5, 2.0, 10.0), (0.5, 0.5, 10.0), (1, 3, -2.0),
    (-2.5, 0, 10.0), (0.5, 3, -2.0), (40, 3, 10.0)])
def test_logspace_one_point_on_integer_dtypes(dtype, start, end, base):
    def make(lib):
        return lib.logspace(start, end, 1, base=base, dtype=getattr(lib, dtype))

    try:
        want = make(torch).tolist()
    except RuntimeError as error:
        with pytest.raises(RuntimeError, match="without overflow"):
            make(gn)
        assert "overflow" in str(error)
        return
    assert make(gn).tolist() == want


def test_tensor_dataset_sample_is_a_view():
    x, y = gn.zeros(3, 2), gn.tensor([0, 1, 2])
    data = TensorDataset(x, y)
    row, label = data[1]
    row.add_(5.0)
    label.fill_(7)
    assert x.tolist() == [[0.0, 0.0], [5.0, 5.0], [0.0, 0.0]]
    assert y.tolist() == [0, 7, 2]
    w = gn.ones(3, 2, requires_grad=True)
    assert type(TensorDataset(w)[-1][0].grad_fn).__name__ == "SelectBackward0"
    for (sample,) in DataLoader(TensorDataset(x), batch_size=None):
        sample.mul_(2)
    assert x.tolist() == [[0.0, 0.0], [10.0, 10.0], [0.0, 0.0]]
    with pytest.raises(IndexError, match="out of bounds"):
        data[3]


@pytest.mark.parametrize("pred", [1, True, 1.0, 2, 0, False, 0.0])
def test_cond_on_a_python_predicate_compiled(pred):
    x = [1.0, -2.0, 3.0]
    want = torch.cond(pred, lambda a: a * 2, lambda a: a - 1, (torch.tensor(x),)).tolist()

    def step(a):
        return gn.cond(pred, lambda t: t * 2, lambda t: t - 1, (a,))

    assert step(gn.tensor(x)).tolist() == want
    assert gn.compile(step)(gn.tensor(x)).tolist() == want


@pytest.mark.parametrize("pred", [np.bool_(True), "yes", None])
def test_cond_refuses_what_torch_refuses(pred):
    for mode in (lambda f: f, gn.compile):
        with pytest.raises(RuntimeError, match="Expected pred to be bool or tensor"):
            mode(lambda a: gn.cond(pred, lambda t: t, lambda t: -t, (a,)))(gn.ones(2))


def test_cond_python_predicate_argument_retraces():
    f = gn.compile(lambda a, flag: gn.cond(flag, lambda t: t * 2, lambda t: t - 1, (a,)))
    x = gn.tensor([1.0, 2.0])
    assert f(x, True).tolist() == [2.0, 4.0]
    assert f(x, False).tolist() == [0.0, 1.0]
    assert f(x, True).tolist() == [2.0, 4.0]


@pytest.mark.parametrize("body", [lambda i: i + 0.5, lambda v: gn.cat([v, v])],
                         ids=["dtype", "shape"])
def test_while_loop_body_must_keep_the_carry_dynamically_too(body):
    start = gn.tensor(0) if body.__code__.co_varnames == ("i",) else gn.ones(2)

    def loop(x):
        return gn.while_loop(lambda c: c.sum() < 3.5, body, x)

    with pytest.raises(RuntimeError, match="shapes and dtypes"):
        loop(start)
    with pytest.raises(RuntimeError):
        gn.compile(loop)(start)


def test_while_loop_keeping_the_carry_runs():
    got = gn.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s * 2), (gn.tensor(0), gn.ones(2)))
    assert got[0].item() == 4 and got[1].tolist() == [16.0, 16.0]
