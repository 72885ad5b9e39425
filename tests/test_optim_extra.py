"""NAdam, RAdam, Adamax, Adadelta, ASGD, Rprop and Adafactor against torch 2.13: parameter trajectories
with fixed gradients (dynamic mode), a compiled train step (static mode), param groups,
state_dict keys and round trip, defaults, repr and constructor errors."""

from __future__ import annotations

import numpy as np
import pytest
from parity import assert_close, np_of
from test_optim import (assert_params, assert_state_dicts_equal, batches, fixed_grads,
                        make_nets, make_params, set_grads, train_both, train_step_fn)

import graphnet

torch = pytest.importorskip("torch")

CONFIGS = {
    "NAdam": [dict(), dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01, eps=1e-3),
              dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True,
                   betas=(0.8, 0.9))],
    "RAdam": [dict(), dict(lr=0.01, weight_decay=0.1, betas=(0.8, 0.6)),
              dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)],
    "Adamax": [dict(), dict(lr=0.01, weight_decay=0.1, maximize=True, betas=(0.5, 0.8))],
    "Adadelta": [dict(), dict(lr=0.5, rho=0.5, weight_decay=0.1, eps=1e-3, maximize=True)],
    "ASGD": [dict(), dict(lr=0.05, lambd=0.01, alpha=0.5, t0=3, weight_decay=0.1),
             dict(lr=0.05, t0=0, maximize=True)],
    "Rprop": [dict(), dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(0.01, 0.2), maximize=True)],
    "Adafactor": [dict(), dict(lr=0.05, weight_decay=0.1, eps=(1e-4, 1e-2), d=1.5,
                               beta2_decay=-0.5, maximize=True)],
}
CASES = [(name, cfg) for name, cfgs in CONFIGS.items() for cfg in cfgs]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in cfg.items()) or 'default'}"
       for name, cfg in CASES]
STEPS = 8   # RAdam switches to its rectified step after step 5 with the default betas


@pytest.mark.parametrize("name,cfg", CASES, ids=IDS)
def test_fixed_gradients_match_torch_every_step(name, cfg):
    t_params, g_params = make_params()
    t_opt = getattr(torch.optim, name)(t_params, **cfg)
    g_opt = getattr(graphnet.optim, name)(g_params, **cfg)
    for step in range(STEPS):
        set_grads(t_params, g_params, step)
        t_opt.step()
        g_opt.step()
        assert_params(g_params, t_params, f"{name} {cfg} step {step + 1}")
    assert_state_dicts_equal(g_opt.state_dict(), t_opt.state_dict())


def test_rprop_cases_exercise_sign_flips_and_the_clamp():
    """Guard for the test data: some step sizes shrank, some grew, some hit the bounds."""
    t_params, _ = make_params()
    opt = torch.optim.Rprop(t_params, lr=0.05, etas=(0.3, 1.5), step_sizes=(0.01, 0.2))
    for step in range(STEPS):
        for p, g in zip(t_params, fixed_grads(step), strict=True):
            p.grad = torch.from_numpy(g)
        opt.step()
    sizes = torch.cat([opt.state[p]["step_size"].flatten() for p in t_params])
    assert (sizes == 0.01).any() and (sizes == 0.2).any()
    assert ((sizes > 0.01) & (sizes < 0.2)).any()


STATIC_CASES = [("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
                ("RAdam", dict(lr=0.05, weight_decay=0.1, betas=(0.9, 0.6))),
                ("Adamax", dict(lr=0.05, weight_decay=0.1)),
                ("Adadelta", dict(lr=1.0, weight_decay=0.1)),
                ("ASGD", dict(lr=0.05, t0=2, lambd=0.01)),
                ("Rprop", dict(lr=0.01)),
                ("Adafactor", dict(lr=0.05, weight_decay=0.1))]


@pytest.mark.parametrize("name,cfg", STATIC_CASES, ids=[n for n, _ in STATIC_CASES])
def test_compiled_train_step_matches_torch(name, cfg):
    t_net, g_net = make_nets()
    t_opt = getattr(torch.optim, name)(t_net.parameters(), **cfg)
    g_opt = getattr(graphnet.optim, name)(g_net.parameters(), **cfg)
    fast = train_both(t_net, g_net, t_opt, g_opt, 7, compiled=True)
    info = fast.explain()
    assert info["graphs"] == 1, info["recompile_reasons"]   # state exists before the update
    assert_state_dicts_equal(g_opt.state_dict(), t_opt.state_dict())


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
def test_param_groups_with_their_own_options(compiled):
    t_net, g_net = make_nets()
    t_opt = torch.optim.NAdam([{"params": t_net.fc1.parameters(), "betas": (0.5, 0.9),
                                "weight_decay": 0.1},
                               {"params": t_net.fc2.parameters(), "momentum_decay": 0.1}],
                              lr=0.05)
    g_opt = graphnet.optim.NAdam([{"params": g_net.fc1.parameters(), "betas": (0.5, 0.9),
                                   "weight_decay": 0.1},
                                  {"params": g_net.fc2.parameters(), "momentum_decay": 0.1}],
                                 lr=0.05)
    train_both(t_net, g_net, t_opt, g_opt, 4, compiled)
    assert_state_dicts_equal(g_opt.state_dict(), t_opt.state_dict())


@pytest.mark.parametrize("name", ["RAdam", "Adadelta", "Rprop", "ASGD"])
def test_add_param_group_then_train(name):
    t_net, g_net = make_nets()
    t_opt = getattr(torch.optim, name)(t_net.fc1.parameters(), lr=0.05)
    g_opt = getattr(graphnet.optim, name)(g_net.fc1.parameters(), lr=0.05)
    train_both(t_net, g_net, t_opt, g_opt, 2)
    t_opt.add_param_group({"params": t_net.fc2.parameters(), "lr": 0.01})
    g_opt.add_param_group({"params": g_net.fc2.parameters(), "lr": 0.01})
    train_both(t_net, g_net, t_opt, g_opt, 3, seed=4)
    assert_state_dicts_equal(g_opt.state_dict(), t_opt.state_dict())


@pytest.mark.parametrize("name,cfg", [("NAdam", dict(lr=0.01)), ("ASGD", dict(t0=1)),
                                      ("Adafactor", dict()),
                                      ("Rprop", dict()), ("Adamax", dict()),
                                      ("RAdam", dict()), ("Adadelta", dict())])
def test_state_dict_round_trip_continues_the_same_trajectory(name, cfg):
    t_params, g_params = make_params()
    t_opt = getattr(torch.optim, name)(t_params, **cfg)
    g_opt = getattr(graphnet.optim, name)(g_params, **cfg)
    for step in range(3):
        set_grads(t_params, g_params, step)
        t_opt.step()
        g_opt.step()
    saved = g_opt.state_dict()
    copies = [graphnet.tensor(np_of(p).copy(), requires_grad=True) for p in g_params]
    restored = getattr(graphnet.optim, name)(copies, lr=123.0)
    restored.load_state_dict(saved)
    for step in range(3, 7):
        set_grads(t_params, copies, step)
        t_opt.step()
        restored.step()
        assert_params(copies, t_params, f"restored {name} step {step + 1}")
    assert_state_dicts_equal(restored.state_dict(), t_opt.state_dict())


NAMES = ["NAdam", "RAdam", "Adamax", "Adadelta", "ASGD", "Rprop", "Adafactor"]


@pytest.mark.parametrize("name", NAMES)
def test_defaults_param_groups_and_repr_match_torch(name):
    t_params, g_params = make_params()
    t_opt = getattr(torch.optim, name)(t_params)
    g_opt = getattr(graphnet.optim, name)(g_params)
    assert g_opt.state_dict()["param_groups"] == t_opt.state_dict()["param_groups"]
    assert list(g_opt.defaults) == list(t_opt.defaults)
    assert repr(g_opt) == repr(t_opt)


@pytest.mark.parametrize("make,message", [
    (lambda m, p: m.NAdam(p, momentum_decay=-1.0), "Invalid momentum_decay value"),
    (lambda m, p: m.NAdam(p, betas=(0.9, 1.0)), "beta parameter at index 1"),
    (lambda m, p: m.RAdam(p, eps=-1.0), "Invalid epsilon value"),
    (lambda m, p: m.Adamax(p, weight_decay=-1.0), "Invalid weight_decay value"),
    (lambda m, p: m.Adadelta(p, rho=1.5), "Invalid rho value"),
    (lambda m, p: m.ASGD(p, lr=-0.1), "Invalid learning rate"),
    (lambda m, p: m.Rprop(p, etas=(1.2, 0.5)), "Invalid eta values"),
    (lambda m, p: m.Adafactor(p, beta2_decay=0.5), "beta2_decay should be <= 0"),
    (lambda m, p: m.Adafactor(p, d=0.5), "Clipping threshold d should be >= 1"),
])
def test_invalid_hyper_parameters_raise_like_torch(make, message):
    with pytest.raises(ValueError, match=message):
        make(torch.optim, [torch.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match=message):
        make(graphnet.optim, [graphnet.zeros(2, requires_grad=True)])


def test_lr_changed_between_compiled_calls_reaches_the_step():
    """Changing lr and betas by hand between calls of a compiled step: the next call uses
    them (as torch does), and the program is not recompiled."""
    t_net, g_net = make_nets()
    t_opt = torch.optim.RAdam(t_net.parameters(), lr=0.05)
    g_opt = graphnet.optim.RAdam(g_net.parameters(), lr=0.05)
    t_step, fast = train_step_fn(t_net, t_opt), graphnet.compile(train_step_fn(g_net, g_opt))
    for i, (x, y) in enumerate(batches(9)):
        if i % 3 == 0:
            for opt in (t_opt, g_opt):
                opt.param_groups[0]["lr"] = (0.05, 0.2, 0.01)[i // 3]
                opt.param_groups[0]["betas"] = ((0.9, 0.999), (0.5, 0.9), (0.8, 0.99))[i // 3]
        t_step(torch.from_numpy(x), torch.from_numpy(y))
        fast(graphnet.from_numpy(x), graphnet.from_numpy(y))
        for gp, tp in zip(g_net.parameters(), t_net.parameters(), strict=True):
            assert_close(gp, tp, atol=1e-5, rtol=1e-5, what=f"step {i + 1}")
    assert fast.explain()["graphs"] == 1, fast.explain()["recompile_reasons"]


def test_float64_parameters_keep_float64_state():
    t_p = torch.nn.Parameter(torch.from_numpy(np.linspace(-1, 1, 6)))
    g_p = graphnet.tensor(np.linspace(-1, 1, 6), requires_grad=True)
    t_opt, g_opt = torch.optim.NAdam([t_p], lr=0.1), graphnet.optim.NAdam([g_p], lr=0.1)
    for step in range(3):
        g = np.cos(np.arange(6.0) + step)
        t_p.grad, g_p.grad = torch.from_numpy(g), graphnet.tensor(g)
        t_opt.step()
        g_opt.step()
    assert g_p.dtype == graphnet.float64
    assert g_opt.state[g_p]["exp_avg"].dtype == graphnet.float64
    assert_close(g_p, t_p, atol=1e-12, rtol=1e-12, what="float64 NAdam")
