"""`detach_()` of a view raises PyTorch's error (a view cannot leave its base's graph in
place); of a tensor or a `detach()` alias it detaches; `zero_grad(set_to_none=False)`
detaches a .grad only when it has a history, as PyTorch's does."""

import pytest
import torch

import graphnet


@pytest.mark.parametrize("lib", [torch, graphnet], ids=["torch", "graphnet"])
@pytest.mark.parametrize("make", [lambda y: y[1:], lambda y: y.view(3), lambda y: y[None]],
                         ids=["slice", "view", "unsqueeze"])
def test_a_view_cannot_be_detached_in_place(lib, make):
    y = lib.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="Can't detach views in-place. Use detach"):
        make(y).detach_()


@pytest.mark.parametrize("lib", [torch, graphnet], ids=["torch", "graphnet"])
def test_a_tensor_and_a_detached_alias_detach_in_place(lib):
    y = lib.ones(3, requires_grad=True) * 2
    assert y.detach().detach_().requires_grad is False
    assert y.detach_() is y and y.grad_fn is None and not y.requires_grad
    w = lib.nn.Parameter(lib.ones(2))
    (w * 2).sum().backward()
    held = w.grad
    lib.optim.SGD([w], lr=0.1).zero_grad(set_to_none=False)
    assert w.grad is held and w.grad.tolist() == [0.0, 0.0]
