"""What hand-written optimizers import from `torch.optim.optimizer` (`ParamsT`,
`_use_grad_for_differentiable`, `_get_value`, `_get_scalar_dtype` ...) and the per-optimizer
modules (`torch.optim.adamw`, `nadam`, `radam`, `adamax`, `adadelta`, `asgd`, `rprop`): a Lion
or LAMB implementation stopped at its imports. A Lion written PyTorch's way trains alike."""

import importlib

import numpy as np
import pytest
import torch

import graphnet as gn

HELPERS = ["ParamsT", "StateDict", "_use_grad_for_differentiable", "_get_value",
           "_get_scalar_dtype", "_default_to_fused_or_foreach", "_to_scalar",
           "_stack_if_compiling", "_maximize_doc", "_params_doc", "_foreach_doc",
           "_differentiable_doc", "_capturable_doc", "_fused_doc"]
MODULES = {"adamw": "AdamW", "nadam": "NAdam", "radam": "RAdam", "adamax": "Adamax",
           "adadelta": "Adadelta", "asgd": "ASGD", "rprop": "Rprop", "adam": "Adam",
           "sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop"}


@pytest.mark.parametrize("name", HELPERS)
def test_optimizer_module_helpers_exist(name):
    assert hasattr(importlib.import_module("torch.optim.optimizer"), name)
    assert hasattr(importlib.import_module("graphnet.optim.optimizer"), name)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_optimizer_has_its_module(module):
    cls = getattr(importlib.import_module(f"graphnet.optim.{module}"), MODULES[module])
    assert cls is getattr(gn.optim, MODULES[module])


def test_helpers_answer_as_pytorchs_on_cpu():
    from graphnet.optim import optimizer as G
    from torch.optim import optimizer as T

    for use_fused in (False, True):
        assert G._default_to_fused_or_foreach([gn.ones(2)], False, use_fused) == \
            T._default_to_fused_or_foreach([torch.ones(2)], False, use_fused)
    assert G._default_to_fused_or_foreach([gn.ones(2)], True, True) == (False, False)
    assert G._get_value(gn.tensor(3.0)) == T._get_value(torch.tensor(3.0)) == 3.0
    assert str(G._get_scalar_dtype()).split(".")[1] == str(T._get_scalar_dtype()).split(".")[1]
    assert tuple(G._to_scalar(gn.ones(1, 1)).shape) == tuple(T._to_scalar(torch.ones(1, 1)).shape)


def _lion(lib):
    module = importlib.import_module(f"{lib.__name__}.optim.optimizer")

    class Lion(lib.optim.Optimizer):
        def __init__(self, params: module.ParamsT, lr=1e-3, betas=(0.9, 0.99),
                     weight_decay=0.0):
            super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay,
                                          differentiable=False))

        @module._use_grad_for_differentiable
        def step(self, closure=None):
            assert not lib.is_grad_enabled()
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["exp_avg"] = lib.zeros_like(p)
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                    update = state["exp_avg"].lerp(p.grad, 1 - beta1)
                    p.add_(update.sign(), alpha=-group["lr"])
                    state["exp_avg"].lerp_(p.grad, 1 - beta2)

    return Lion


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
def test_a_lion_written_pytorchs_way_trains_alike(static):
    x = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)

    def train(lib, compiled):
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 2)
        if lib is gn:
            copy = gn.nn.Linear(3, 2)
            copy.load_state_dict({k: gn.tensor(v.detach().numpy())
                                  for k, v in model.state_dict().items()})
            model = copy
        opt = _lion(lib)(model.parameters(), lr=0.01, weight_decay=0.1)

        def step(inputs):
            opt.zero_grad()
            loss = model(inputs).square().mean()
            loss.backward()
            opt.step()
            return loss

        fn = gn.compile(step) if compiled else step
        losses = [float(fn(lib.tensor(x))) for _ in range(4)]
        return losses, [p.detach().numpy() for p in model.parameters()]

    want, got = train(torch, False), train(gn, static)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
    for a, b in zip(got[1], want[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
