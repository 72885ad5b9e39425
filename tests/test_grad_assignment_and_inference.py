"""`p.grad = g` is refused as PyTorch refuses it (another shape or dtype, not a tensor):
before, a float64 gradient silently made the next optimizer step turn a float32 parameter
into float64. A target computed under `inference_mode` may enter a loss through an op that
saves nothing for backward (`x - target`), as in PyTorch; before, graphnet raised."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet

BAD_GRADS = {
    "dtype": lambda lib: lib.ones(4, 3, dtype=lib.float64),
    "shape": lambda lib: lib.ones(3),
    "integer": lambda lib: lib.ones(4, 3, dtype=lib.int64),
    "list": lambda lib: [1.0],
}


@pytest.mark.parametrize("name", list(BAD_GRADS))
def test_assigning_a_mismatched_grad_raises_as_in_torch(name):
    errors = []
    for lib in (torch, graphnet):
        p = lib.nn.Parameter(lib.ones(4, 3))
        with pytest.raises((RuntimeError, TypeError)) as info:
            p.grad = BAD_GRADS[name](lib)
        errors.append(info.type)
        p.grad = lib.full((4, 3), 2.0)   # a matching one is taken
        assert p.grad.sum().item() == 24.0
    assert errors[0] is errors[1]


def test_an_inference_mode_target_enters_a_loss_as_in_torch():
    grads = []
    for lib in (torch, graphnet):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with lib.inference_mode():
            target = x.detach() * 2
        ((x - target) ** 2).sum().backward()
        grads.append(x.grad.numpy().copy())
        with pytest.raises(RuntimeError, match="Inference tensors cannot be saved"):
            (x * target).sum().backward()   # mul saves the target: refused in both
    np.testing.assert_array_equal(grads[1], grads[0])


def test_grad_mode_and_post_accumulate_hooks_refuse_as_in_torch():
    for lib in (torch, graphnet):
        with pytest.raises(TypeError, match="must be bool"):
            lib.set_grad_enabled(lib.tensor(True))
        p = lib.nn.Parameter(lib.ones(2))
        p.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(2))   # returns a tensor
        with pytest.raises(RuntimeError, match="post accumulate grad hooks should return None"):
            (p * p).sum().backward()
    with graphnet.set_grad_enabled(False):
        assert not graphnet.is_grad_enabled()
