"""`Optimizer.load_state_dict` installs new group dicts, as PyTorch's does: a group dict held
from before the load (a user's `group = opt.param_groups[0]`) no longer steers the optimizer.
graphnet refilled the old dicts, so `held["lr"] = ...` after a load changed the step here and
not in PyTorch. Checked eagerly and through a compiled step."""

import numpy as np
import torch

import graphnet


def _resumed_then_held_lr_changed(L, compiled: bool):
    model = L.nn.Linear(3, 2)
    with L.no_grad():
        model.weight.copy_(L.tensor([[0.5, -0.25, 0.125], [-0.5, 0.75, 0.25]]))
        model.bias.copy_(L.tensor([0.1, -0.2]))
    opt = L.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = L.ones(4, 3)

    def step():
        opt.zero_grad()
        model(x).pow(2).sum().backward()
        opt.step()

    if compiled:
        step = graphnet.compile(step)
    step()
    held = opt.param_groups[0]
    opt.load_state_dict(opt.state_dict())
    held["lr"] = 5.0                       # the old dict: no longer the optimizer's
    step()
    return opt.param_groups[0]["lr"], opt.param_groups[0] is held, model.weight.detach().numpy()


def test_a_held_group_dict_does_not_steer_after_a_load():
    lr, same, want = _resumed_then_held_lr_changed(torch, False)
    assert lr == 0.1 and not same
    for compiled in (False, True):
        lr, same, got = _resumed_then_held_lr_changed(graphnet, compiled)
        assert lr == 0.1 and not same
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_loaded_groups_keep_params_and_take_the_saved_options():
    for L in (torch, graphnet):
        w = L.nn.Parameter(L.ones(2))
        opt = L.optim.SGD([w], lr=0.1)
        saved = opt.state_dict()
        saved["param_groups"][0]["lr"] = 0.25
        saved["param_groups"][0]["extra"] = "kept"
        opt.load_state_dict(saved)
        group = opt.param_groups[0]
        assert group["params"][0] is w
        assert group["lr"] == 0.25 and group["extra"] == "kept"
        assert saved["param_groups"][0]["params"] == [0]
