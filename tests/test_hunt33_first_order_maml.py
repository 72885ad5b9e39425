"""First-order MAML compiled (thirty-third session's meta-learning hunt): `autograd.grad(
loss, [fast])` frees only the graph between the loss and `fast`, as in PyTorch; the traced
step also counted `fast`'s own history as freed, so the outer `backward()` raised "backward
through the graph a second time" on a valid program."""

import pytest
import torch

import graphnet as gn


def _first_order(lib, compiled):
    w = lib.nn.Parameter(lib.tensor([1.0, 2.0]))

    def step():
        fast = w * w
        g, = lib.autograd.grad((fast ** 2).sum(), [fast])
        (fast - 0.1 * g).sum().backward()
        return w.grad

    return (gn.compile(step) if compiled else step)().tolist()


@pytest.mark.parametrize("compiled", [False, True])
def test_grad_to_a_non_leaf_leaves_its_history_usable(compiled):
    assert _first_order(gn, compiled) == _first_order(torch, False) == [2.0, 4.0]


@pytest.mark.parametrize("compiled", [False, True])
def test_the_freed_part_still_refuses_a_second_pass(compiled):
    w = gn.nn.Parameter(gn.tensor([1.0, 2.0]))

    def step():
        fast = w * w
        loss = (fast ** 2).sum()
        gn.autograd.grad(loss, [fast])
        gn.autograd.grad(loss, [fast])

    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        (gn.compile(step) if compiled else step)()
