"""`p.add_(g, alpha=-group["lr"])` with a 0-d tensor lr, as user-written optimizers do: PyTorch
and eager mode run it; compiled, graphnet raised a misleading "bool() needs the value of a
traced tensor" at `p.add_` (its `alpha == 1` test). Found by the user-optimizer hunt."""

import numpy as np
import pytest
import torch

import graphnet


def _train(L, compiled, steps=3, op="add_"):
    class Plain(L.optim.Optimizer):
        def __init__(self, params, lr):
            super().__init__(params, dict(lr=lr))

        @L.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    getattr(p, op)(p.grad, alpha=-group["lr"] if op == "add_" else group["lr"])

    w = L.nn.Parameter(L.tensor([1.0, -2.0, 0.5]))
    opt = Plain([w], lr=L.tensor(0.1))

    def step():
        opt.zero_grad()
        (w * w * w).sum().backward()
        opt.step()

    step = graphnet.compile(step) if compiled else step
    for _ in range(steps):
        step()
    return w.detach().numpy()


@pytest.mark.parametrize("op", ["add_", "sub_"])
@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
def test_a_tensor_lr_as_alpha(compiled, op):
    np.testing.assert_allclose(_train(graphnet, compiled, op=op), _train(torch, False, op=op),
                               rtol=1e-6)
