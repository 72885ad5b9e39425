"""`p.grad = t` inside a compiled function, where `t` already exists (another parameter's
grad from an eager backward, as A3C's shared model takes a worker's; a global; a literal):
refused before ("assigned a concrete tensor"), now the program reads t's values each call."""
import pytest
import torch

import graphnet as G


def _a3c(lib, compiled):
    shared = lib.nn.Parameter(lib.tensor([1.0, 1.0, 1.0]))
    local = lib.nn.Parameter(lib.tensor([1.0, 2.0, 3.0]))
    opt = lib.optim.SGD([shared], lr=0.1)

    def push():
        shared.grad = local.grad
        opt.step()

    push = G.compile(push) if compiled else push
    for k in range(3):
        local.grad = None
        (local * (k + 1)).sum().backward()       # an eager backward: a new grad each time
        push()
    return shared.detach().tolist()


@pytest.mark.parametrize("compiled", [False, True])
def test_shared_grad_from_a_local_grad(compiled):
    lib = G
    assert _a3c(lib, compiled) == pytest.approx(_a3c(torch, False))


def test_grad_from_a_global_tensor_follows_its_values():
    w = G.nn.Parameter(G.zeros(2))
    g = G.tensor([1.0, 2.0])

    def set_grad():
        w.grad = g
        return w.grad * 1

    fn = G.compile(set_grad)
    assert fn().tolist() == [1.0, 2.0]
    g.mul_(3)
    assert fn().tolist() == [3.0, 6.0] and w.grad.tolist() == [3.0, 6.0]
