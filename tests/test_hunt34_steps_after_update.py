"""Several forward/backward passes after an optimizer step inside one compiled step
(thirty-fourth session's domain-adaptation hunt: MCD's training step). The update node
made no gradient but the walk counted it as taped, so the third backward raised "Trying to
backward through the graph a second time" where torch and eager graphnet run."""

import numpy as np
import pytest
import torch

import graphnet as gn

_W = np.array([[0.2, -0.4, 0.6], [0.5, 0.1, -0.3]], np.float32)
_X = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)


def _train(L, compile_, optimizer):
    lin = L.nn.Linear(3, 2)
    with L.no_grad():
        lin.weight.copy_(L.tensor(_W))
        lin.bias.copy_(L.tensor([0.1, -0.2]))
    opt = optimizer(L, lin.parameters())

    def step(x):
        opt.zero_grad()
        lin(x).pow(2).mean().backward()
        opt.step()
        for _ in range(3):      # passes after the update, each its own graph
            opt.zero_grad()
            lin(x).tanh().sum().backward()
        grad = lin.weight.grad.sum()
        opt.step()
        return grad

    step = compile_(step)
    out = [float(step(L.tensor(_X))) for _ in range(2)]
    return out, lin.weight.detach().numpy().copy()


@pytest.mark.parametrize("optimizer", [lambda L, p: L.optim.SGD(p, lr=0.1, momentum=0.9),
                                       lambda L, p: L.optim.Adam(p, lr=0.05)],
                         ids=["sgd", "adam"])
@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile], ids=["dynamic", "static"])
def test_backward_passes_after_an_update_in_one_step(optimizer, compile_):
    expected, weight0 = _train(torch, lambda f: f, optimizer)
    got, weight = _train(gn, compile_, optimizer)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weight, weight0, rtol=1e-5, atol=1e-6)


def test_a_second_backward_through_one_graph_still_raises():
    lin = gn.nn.Linear(3, 2)

    def step(x):
        loss = lin(x).sum()
        loss.backward()
        loss.backward()

    with pytest.raises(RuntimeError, match="second time"):
        gn.compile(step)(gn.tensor(_X))
