"""A view taken of a buffer before the buffer is written with a gradient-carrying value
shares the buffer's new history, as in PyTorch (a DP table whose rows are read through views
taken up front gave every input a zero gradient, in both modes); a view PyTorch refuses to
rebase (made under no_grad, or one of unbind's views) refuses a backward instead."""

import numpy as np
import pytest
import torch

import graphnet


def _table(T, x):
    n = x.shape[0]
    R = T.zeros(n, 3)
    rows = [R[i] for i in range(n)]      # views taken before the rows are written
    R[0] = x[0]
    for i in range(1, n):
        R[i] = rows[i - 1] * 0.5 + x[i]
    return rows[-1].sum() + x.sum() * 0


X = np.arange(12, dtype=np.float32).reshape(4, 3)


@pytest.mark.parametrize("mode", ["dynamic", "static"])
def test_rows_read_through_early_views_carry_the_gradient(mode):
    xt = torch.tensor(X, requires_grad=True)
    _table(torch, xt).backward()
    fn = (lambda x: _table(graphnet, x))
    if mode == "static":
        fn = graphnet.compile(fn)
    xg = graphnet.tensor(X, requires_grad=True)
    out = fn(xg)
    out.backward()
    assert out.item() == pytest.approx(43.875)
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-6)
    assert xg.grad.numpy()[:, 0].tolist() == [0.125, 0.25, 0.5, 1.0]


def test_view_of_a_buffer_written_with_grad_requires_grad():
    x = graphnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    R = graphnet.zeros(3)
    a = R[0]
    R[0] = x[0] * 3
    assert a.requires_grad and a.grad_fn is not None
    a.backward()
    assert x.grad.tolist() == [3.0, 0.0, 0.0]


def test_write_under_no_grad_leaves_the_view_without_history():
    x = graphnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    R = graphnet.zeros(3)
    a = R[0]
    with graphnet.no_grad():
        R[0] = x[0]
    assert not a.requires_grad and a.item() == 1.0


def test_no_grad_view_of_a_base_written_with_grad_refuses_backward():
    x = graphnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    R = graphnet.zeros(3)
    with graphnet.no_grad():
        b = R[1]
    R[1] = x[1] * 2
    assert b.item() == 4.0
    with pytest.raises(RuntimeError, match="created in no_grad mode and its base"):
        (b * 2).backward()


def test_unbind_views_of_a_base_written_with_grad_refuse_backward():
    x = graphnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    R = graphnet.zeros(3, 2)
    rows = R.unbind(0)
    R[0] = x[:2] * 2
    with pytest.raises(RuntimeError, match="returns multiple views"):
        (rows[0].sum() + rows[1].sum()).backward()


def test_unbind_view_of_a_buffer_without_grad_refuses_a_recorded_write():
    for T in (torch, graphnet):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        rows = T.zeros(3, 2).unbind(0)
        with pytest.raises(RuntimeError, match="multiple views"):
            rows[0].copy_(x * 2)
        rows[1].copy_(T.ones(2))     # a write autograd does not record stays allowed
