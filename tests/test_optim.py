"""Optimizers against torch 2.13: parameter trajectories step by step (fixed gradients,
dynamic mode; a compiled train step, static mode), param groups, state_dict."""

from __future__ import annotations

import numpy as np
import pytest
from parity import assert_close, copy_torch_params, np_of

import graphnet
from graphnet import nn

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (2, 1, 3)]
# Gradient scales that shrink and grow, so amsgrad's running maximum matters.
SCALES = [1.0, 0.1, 2.0, 0.05, 0.5]

CONFIGS = {
    "SGD": [dict(lr=0.1), dict(lr=0.1, momentum=0.9),
            dict(lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.01),
            dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
            dict(lr=0.1, momentum=0.5, maximize=True)],
    "Adam": [dict(), dict(lr=0.01, weight_decay=0.1, eps=1e-3),
             dict(lr=0.01, amsgrad=True, betas=(0.8, 0.5)),
             dict(lr=0.01, maximize=True, weight_decay=0.1),
             dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)],
    "AdamW": [dict(lr=0.01),
              dict(lr=0.01, weight_decay=0.5, amsgrad=True, maximize=True, betas=(0.9, 0.5))],
    "RMSprop": [dict(), dict(lr=0.01, momentum=0.9), dict(lr=0.01, centered=True),
                dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1, alpha=0.9),
                dict(lr=0.01, maximize=True, eps=1e-4)],
    "Adagrad": [dict(), dict(lr=0.1, lr_decay=0.1),
                dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5),
                dict(lr=0.1, eps=1e-3, maximize=True)],
}
CASES = [(name, cfg) for name, cfgs in CONFIGS.items() for cfg in cfgs]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in cfg.items()) or 'default'}"
       for name, cfg in CASES]


def make_params(seed=0):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    t_params = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values]
    g_params = [graphnet.tensor(v.copy(), requires_grad=True) for v in values]
    return t_params, g_params


def fixed_grads(step, seed=1):
    rng = np.random.default_rng(seed + step)
    return [(SCALES[step % len(SCALES)] * rng.standard_normal(s)).astype(np.float32)
            for s in SHAPES]


def set_grads(t_params, g_params, step):
    for tp, gp, g in zip(t_params, g_params, fixed_grads(step), strict=True):
        tp.grad = torch.from_numpy(g.copy())
        gp.grad = graphnet.tensor(g.copy())


def assert_params(g_params, t_params, what):
    for i, (gp, tp) in enumerate(zip(g_params, t_params, strict=True)):
        assert_close(gp, tp, atol=1e-5, rtol=1e-5, what=f"{what}: param {i}")


@pytest.mark.parametrize("name,cfg", CASES, ids=IDS)
def test_fixed_gradients_match_torch_every_step(name, cfg):
    t_params, g_params = make_params()
    t_opt = getattr(torch.optim, name)(t_params, **cfg)
    g_opt = getattr(graphnet.optim, name)(g_params, **cfg)
    for step in range(5):
        set_grads(t_params, g_params, step)
        t_opt.step()
        g_opt.step()
        assert_params(g_params, t_params, f"{name} {cfg} step {step + 1}")
    assert_state_dicts_equal(g_opt.state_dict(), t_opt.state_dict())


def assert_state_dicts_equal(ours, theirs):
    assert ours["param_groups"] == theirs["param_groups"]
    for group in ours["param_groups"]:   # same keys in the same order, not only equal
        assert list(group) == list(theirs["param_groups"][ours["param_groups"].index(group)])
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for index, t_state in theirs["state"].items():
        g_state = ours["state"][index]
        assert list(g_state) == list(t_state), index
        for key, t_value in t_state.items():
            g_value = g_state[key]
            if key == "step":
                assert g_value.dtype == graphnet.float32 and tuple(g_value.shape) == ()
            assert_close(g_value, t_value, atol=1e-5, rtol=1e-5, what=f"state {index}.{key}")


def test_amsgrad_cases_exercise_the_running_maximum():
    """Guard for the test data: with SCALES the max differs from the current exp_avg_sq."""
    t_params, _ = make_params()
    opt = torch.optim.Adam(t_params, lr=0.01, amsgrad=True, betas=(0.8, 0.5))
    for step in range(5):
        for p, g in zip(t_params, fixed_grads(step), strict=True):
            p.grad = torch.from_numpy(g)
        opt.step()
    state = opt.state[t_params[0]]
    assert (state["max_exp_avg_sq"] > state["exp_avg_sq"] * 1.5).any()


# ---- a small two-layer model, the same in torch and graphnet ------------------------------
# NOTE: every model test uses this one network, so the eager kernels and their XLA compiles
# are shared across tests (compiles dominate this file's run time).
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(4, 5), nn.Linear(5, 3)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = torch.nn.Linear(4, 5), torch.nn.Linear(5, 3)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


def make_nets():
    torch.manual_seed(0)
    t_net, g_net = TorchNet(), Net()
    copy_torch_params(t_net, g_net)
    return t_net, g_net


def batches(n, seed=2):
    rng = np.random.default_rng(seed)
    return [((SCALES[i % 5] * rng.standard_normal((8, 4))).astype(np.float32),
             rng.standard_normal((8, 3)).astype(np.float32)) for i in range(n)]


def train_step_fn(model, opt):
    def train_step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return train_step


def train_both(t_net, g_net, t_opt, g_opt, steps, compiled=False, seed=2):
    """Run the same train step in torch and graphnet (compiled: static mode), comparing loss
    and every parameter after every step. Returns graphnet's step function."""
    g_step = train_step_fn(g_net, g_opt)
    g_step = graphnet.compile(g_step) if compiled else g_step
    t_step = train_step_fn(t_net, t_opt)
    for i, (x, y) in enumerate(batches(steps, seed)):
        t_loss = t_step(torch.from_numpy(x), torch.from_numpy(y))
        g_loss = g_step(graphnet.from_numpy(x), graphnet.from_numpy(y))
        assert_close(g_loss, t_loss, atol=1e-5, rtol=1e-5, what=f"loss {i}")
        for (pname, gp), tp in zip(g_net.named_parameters(), t_net.parameters(), strict=True):
            assert_close(gp, tp, atol=1e-5, rtol=1e-5, what=f"step {i + 1} {pname}")
    return g_step


# ---- static mode: a compiled train step ---------------------------------------------------
STATIC_CASES = [("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
                ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
                ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True, betas=(0.9, 0.5))),
                ("AdamW", dict(lr=0.05, betas=(0.8, 0.9), maximize=True)),
                ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
                ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                 initial_accumulator_value=0.1))]


@pytest.mark.parametrize("name,cfg", STATIC_CASES,
                         ids=[f"{n}-{'-'.join(cfg)}" for n, cfg in STATIC_CASES])
def test_compiled_train_step_matches_torch(name, cfg):
    t_net, g_net = make_nets()
    t_opt = getattr(torch.optim, name)(t_net.parameters(), **cfg)
    g_opt = getattr(graphnet.optim, name)(g_net.parameters(), **cfg)
    fast = train_both(t_net, g_net, t_opt, g_opt, 5, compiled=True)
    info = fast.explain()
    # SGD creates its momentum buffers inside the first traced step (one retrace); the
    # adaptive optimizers create zero state before the update, so they compile once.
    assert info["graphs"] == (2 if name == "SGD" else 1), info["recompile_reasons"]
    assert_state_dicts_equal(g_opt.state_dict(), t_opt.state_dict())


def test_uncompiled_train_step_matches_torch():
    t_net, g_net = make_nets()
    cfg = dict(lr=0.05, amsgrad=True, weight_decay=0.1, betas=(0.9, 0.5))
    train_both(t_net, g_net, torch.optim.Adam(t_net.parameters(), **cfg),
               graphnet.optim.Adam(g_net.parameters(), **cfg), 5)


# ---- param groups, add_param_group, state_dict --------------------------------------------
@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
def test_per_group_lr_and_momentum_like_the_tutorial(compiled):
    t_net, g_net = make_nets()
    t_opt = torch.optim.SGD([{"params": t_net.fc1.parameters(), "lr": 0.1},
                             {"params": t_net.fc2.parameters()}], lr=0.01, momentum=0.9)
    g_opt = graphnet.optim.SGD([{"params": g_net.fc1.parameters(), "lr": 0.1},
                                {"params": g_net.fc2.parameters()}], lr=0.01, momentum=0.9)
    assert [g["lr"] for g in g_opt.param_groups] == [0.1, 0.01]
    train_both(t_net, g_net, t_opt, g_opt, 4, compiled)
    assert_state_dicts_equal(g_opt.state_dict(), t_opt.state_dict())


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
def test_adam_groups_with_their_own_betas(compiled):
    t_net, g_net = make_nets()
    t_opt = torch.optim.Adam([{"params": t_net.fc1.parameters(), "betas": (0.5, 0.9)},
                              {"params": t_net.fc2.parameters(), "amsgrad": True}], lr=0.05)
    g_opt = graphnet.optim.Adam([{"params": g_net.fc1.parameters(), "betas": (0.5, 0.9)},
                                 {"params": g_net.fc2.parameters(), "amsgrad": True}], lr=0.05)
    train_both(t_net, g_net, t_opt, g_opt, 4, compiled)
    assert_state_dicts_equal(g_opt.state_dict(), t_opt.state_dict())


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_add_param_group_then_train(name):
    t_net, g_net = make_nets()
    cfg = dict(lr=0.05, momentum=0.9) if name != "Adam" else dict(lr=0.05)
    t_opt = getattr(torch.optim, name)(t_net.fc1.parameters(), **cfg)
    g_opt = getattr(graphnet.optim, name)(g_net.fc1.parameters(), **cfg)
    train_both(t_net, g_net, t_opt, g_opt, 2)
    t_opt.add_param_group({"params": t_net.fc2.parameters(), "lr": 0.01})
    g_opt.add_param_group({"params": g_net.fc2.parameters(), "lr": 0.01})
    train_both(t_net, g_net, t_opt, g_opt, 3, seed=4)
    assert_state_dicts_equal(g_opt.state_dict(), t_opt.state_dict())


@pytest.mark.parametrize("name,cfg", [
    ("Adam", dict(lr=0.1, amsgrad=True)), ("RMSprop", dict(momentum=0.9, centered=True)),
    ("Adagrad", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
])
def test_param_without_grad_on_the_first_step_gets_state_later(name, cfg):
    t_params, g_params = make_params()
    t_opt = getattr(torch.optim, name)(t_params, **cfg)
    g_opt = getattr(graphnet.optim, name)(g_params, **cfg)
    for step in range(4):
        set_grads(t_params, g_params, step)
        if step == 0:   # only the first parameter has a gradient on the first step
            t_params[1].grad = g_params[1].grad = None
        t_opt.step()
        g_opt.step()
        assert_params(g_params, t_params, f"{name} step {step + 1}")
    assert_state_dicts_equal(g_opt.state_dict(), t_opt.state_dict())


def test_adagrad_state_exists_before_the_first_step_like_torch():
    t_params, g_params = make_params()
    t_opt = torch.optim.Adagrad(t_params, initial_accumulator_value=0.3)
    g_opt = graphnet.optim.Adagrad(g_params, initial_accumulator_value=0.3)
    assert_state_dicts_equal(g_opt.state_dict(), t_opt.state_dict())
    np.testing.assert_allclose(np_of(g_opt.state[g_params[1]]["sum"]),
                               np.full((2, 1, 3), 0.3, np.float32))


@pytest.mark.parametrize("name,cfg", [("Adam", dict(lr=0.01, amsgrad=True)),
                                      ("RMSprop", dict(momentum=0.9, centered=True)),
                                      ("Adagrad", dict(lr_decay=0.1)),
                                      ("SGD", dict(lr=0.1, momentum=0.9))])
def test_state_dict_round_trip_continues_the_same_trajectory(name, cfg):
    t_params, g_params = make_params()
    t_opt = getattr(torch.optim, name)(t_params, **cfg)
    g_opt = getattr(graphnet.optim, name)(g_params, **cfg)
    for step in range(3):
        set_grads(t_params, g_params, step)
        t_opt.step()
        g_opt.step()
    saved = g_opt.state_dict()
    # a fresh optimizer over fresh copies of the parameters, loaded from the saved state
    copies = [graphnet.tensor(np_of(p).copy(), requires_grad=True) for p in g_params]
    restored = getattr(graphnet.optim, name)(copies, lr=123.0)
    restored.load_state_dict(saved)
    assert restored.param_groups[0]["lr"] == g_opt.param_groups[0]["lr"]
    for step in range(3, 5):
        set_grads(t_params, copies, step)
        t_opt.step()
        restored.step()
        assert_params(copies, t_params, f"restored {name} step {step + 1}")
    assert_state_dicts_equal(restored.state_dict(), t_opt.state_dict())


def test_param_group_defaults_and_repr_match_torch():
    t_params, g_params = make_params()
    for name in ("Adam", "AdamW", "RMSprop", "Adagrad"):
        t_opt = getattr(torch.optim, name)(t_params)
        g_opt = getattr(graphnet.optim, name)(g_params)
        assert g_opt.state_dict()["param_groups"] == t_opt.state_dict()["param_groups"]
        assert list(g_opt.defaults) == list(t_opt.defaults), name
        assert repr(g_opt) == repr(t_opt)


@pytest.mark.parametrize("make,message", [
    (lambda p: graphnet.optim.Adam(p, betas=(1.0, 0.999)), "beta parameter at index 0"),
    (lambda p: graphnet.optim.Adam(p, lr=-1.0), "Invalid learning rate"),
    (lambda p: graphnet.optim.RMSprop(p, alpha=-0.1), "Invalid alpha"),
    (lambda p: graphnet.optim.Adagrad(p, lr_decay=-1.0), "Invalid lr_decay"),
])
def test_invalid_hyper_parameters_raise_like_torch(make, message):
    with pytest.raises(ValueError, match=message):
        make([graphnet.zeros(2, requires_grad=True)])


def test_differentiable_true_is_refused_with_a_fix():
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        graphnet.optim.AdamW([graphnet.zeros(2, requires_grad=True)], differentiable=True)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_and_foreach_together_are_refused_as_in_torch(name):
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        getattr(graphnet.optim, name)([graphnet.nn.Parameter(graphnet.ones(1))], lr=0.1,
                                      foreach=True, fused=True)
