"""Copying one parameter into another inside a compiled step (thirty-third session's
meta-learning hunt): `fast.copy_(meta)` under no_grad then a backward was refused as "two
leaves on one graph value", and `fast.load_state_dict(meta.state_dict())` raised "a tensor
from another trace"; PyTorch runs both (Reptile, target networks)."""

import pytest
import torch

import graphnet as gn


@pytest.mark.parametrize("through_data", [False, True])
@pytest.mark.parametrize("compiled", [False, True])
def test_copy_of_a_parameter_then_backward(compiled, through_data):
    def run(lib, compiled):
        fast = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        meta = lib.nn.Parameter(lib.tensor([5.0, 7.0]))

        def step():
            with lib.no_grad():
                (fast.data.copy_(meta.data) if through_data else fast.copy_(meta))
            (fast * fast).sum().backward()
            return fast.grad.clone()

        step = gn.compile(step) if compiled else step
        out = [step().tolist()]
        with lib.no_grad():
            meta.add_(1.0)
        fast.grad = None
        out.append(step().tolist())
        return out, meta.grad

    assert run(gn, compiled) == run(torch, False)


@pytest.mark.parametrize("compiled", [False, True])
def test_load_state_dict_inside_a_step(compiled):
    def run(lib, compiled):
        lib.manual_seed(0)
        fast, meta = lib.nn.Linear(2, 1), lib.nn.Linear(2, 1)
        with lib.no_grad():
            meta.weight.fill_(3.0)
            meta.bias.fill_(1.0)

        def step(x):
            fast.load_state_dict(meta.state_dict())
            return fast(x)

        step = gn.compile(step) if compiled else step
        out = [step(lib.ones(1, 2)).tolist()]
        with lib.no_grad():
            meta.weight.mul_(2.0)
        out.append(step(lib.ones(1, 2)).tolist())
        return out, fast.weight.tolist()

    assert run(gn, compiled) == run(torch, False)
