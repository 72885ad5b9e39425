"""The dynamic tape against PyTorch's autograd semantics."""

import numpy as np
import pytest
from parity import np_of

import graphnet


def test_seed_graph_y_equals_x1_plus_w_times_x2_plus_w():
    # seed 001: dy/dw sums the two paths: (x2 + w) + (x1 + w)
    x1, x2 = graphnet.tensor(2.0), graphnet.tensor(3.0)
    w = graphnet.tensor(1.0, requires_grad=True)
    y = (x1 + w) * (x2 + w)
    y.backward()
    assert y.item() == 12.0 and w.grad.item() == 7.0
    assert w.is_leaf and not y.is_leaf and y.grad_fn is not None


def test_gradients_accumulate_until_zeroed():
    x = graphnet.ones(2, 2, requires_grad=True)
    for _ in range(3):
        (x * 2).sum().backward()
    assert x.grad.tolist() == [[6.0, 6.0], [6.0, 6.0]]
    x.grad.zero_()
    (x * x).sum().backward()
    assert x.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]]


def test_no_grad_detach_and_requires_grad_flags():
    x = graphnet.ones(3, requires_grad=True)
    with graphnet.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    z = (x * 2).detach()
    assert not z.requires_grad and z.is_leaf
    with graphnet.set_grad_enabled(False):
        assert not graphnet.is_grad_enabled()
        with graphnet.enable_grad():
            assert (x * 1).requires_grad

    @graphnet.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad


def test_backward_with_gradient_argument_and_errors():
    x = graphnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(gradient=graphnet.tensor([1.0, 0.1, 0.01]))
    np.testing.assert_allclose(np_of(x.grad), [2.0, 0.4, 0.06], rtol=1e-6)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        graphnet.ones(2).sum().backward()
    y = (x * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_inplace_on_leaf_requiring_grad_is_refused_but_data_works():
    w = graphnet.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1)
    w.data.mul_(3)  # the seed's `.data` update path
    assert w.tolist() == [3.0, 3.0] and w.requires_grad
    with graphnet.no_grad():
        w -= 1
    assert w.tolist() == [2.0, 2.0] and w.is_leaf


def test_inplace_after_use_raises_as_in_torch():
    """`h * h` saved h; changing it in place before backward() is torch's version error
    (until the fourteenth session graphnet used the saved old values without a word)."""
    import torch

    for lib in (torch, graphnet):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        y = h * h
        h.add_(100)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
    x = graphnet.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = h + h       # an add saves nothing: the change does not matter
    h.add_(100)
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
