"""lr schedulers against torch 2.13: lr (and momentum/betas) sequences, get_last_lr,
ReduceLROnPlateau on a fixed metric sequence, state_dict, and no recompiles of a compiled
train step when the lr changes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from parity import assert_close, copy_torch_params

import graphnet
from graphnet import nn

torch = pytest.importorskip("torch")

EPOCHS = 30


class Scale:
    """A callable object (not a plain function): LambdaLR saves its __dict__."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


SCHEDULERS = {
    "StepLR": lambda m, opt: m.StepLR(opt, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, opt: m.MultiStepLR(opt, milestones=[5, 12, 12, 20], gamma=0.3),
    "ExponentialLR": lambda m, opt: m.ExponentialLR(opt, gamma=0.9),
    "CosineAnnealingLR": lambda m, opt: m.CosineAnnealingLR(opt, T_max=10, eta_min=0.001),
    "LambdaLR": lambda m, opt: m.LambdaLR(opt, lambda e: 1.0 / (1 + e)),
    "LambdaLR-per-group": lambda m, opt: m.LambdaLR(opt, [Scale(0.9), lambda e: 0.5 ** (e % 4)]),
    "OneCycleLR-cos": lambda m, opt: m.OneCycleLR(opt, max_lr=[1.0, 0.5], total_steps=EPOCHS),
    "OneCycleLR-linear-3phase": lambda m, opt: m.OneCycleLR(
        opt, max_lr=0.8, epochs=3, steps_per_epoch=10, pct_start=0.25,
        anneal_strategy="linear", three_phase=True, base_momentum=0.7, max_momentum=0.9),
}


def two_group_optimizers(name="SGD"):
    """The same two-group optimizer in torch and graphnet (no gradients: steps are no-ops)."""
    t_a, t_b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    g_a, g_b = graphnet.zeros(2, requires_grad=True), graphnet.zeros(3, requires_grad=True)
    kwargs = dict(lr=0.1, momentum=0.9) if name == "SGD" else dict(lr=0.1)
    t_opt = getattr(torch.optim, name)([{"params": [t_a]}, {"params": [t_b], "lr": 0.05}],
                                       **kwargs)
    g_opt = getattr(graphnet.optim, name)([{"params": [g_a]}, {"params": [g_b], "lr": 0.05}],
                                          **kwargs)
    return t_opt, g_opt


def momenta(opt):
    return [g["betas"] if "betas" in g else g["momentum"] for g in opt.param_groups]


# OneCycleLR also runs with Adam, where it cycles betas[0] instead of momentum.
SEQUENCE_CASES = [(kind, "SGD") for kind in SCHEDULERS] + \
    [(kind, "Adam") for kind in SCHEDULERS if kind.startswith("OneCycleLR")]


@pytest.mark.parametrize("kind,optimizer", SEQUENCE_CASES,
                         ids=[f"{k}-{o}" for k, o in SEQUENCE_CASES])
def test_lr_sequence_matches_torch(kind, optimizer):
    t_opt, g_opt = two_group_optimizers(optimizer)
    t_sched = SCHEDULERS[kind](torch.optim.lr_scheduler, t_opt)
    g_sched = SCHEDULERS[kind](graphnet.optim.lr_scheduler, g_opt)
    for epoch in range(EPOCHS):
        t_lrs, g_lrs = t_sched.get_last_lr(), g_sched.get_last_lr()
        np.testing.assert_allclose(g_lrs, t_lrs, rtol=0, atol=1e-12, err_msg=f"epoch {epoch}")
        assert [g["lr"] for g in g_opt.param_groups] == g_lrs
        np.testing.assert_allclose(momenta(g_opt), momenta(t_opt), rtol=0, atol=1e-12)
        assert g_sched.last_epoch == t_sched.last_epoch == epoch
        t_opt.step()
        g_opt.step()
        t_sched.step()
        g_sched.step()
    for g_group, t_group in zip(g_opt.param_groups, t_opt.param_groups, strict=True):
        assert list(g_group) == list(t_group)   # initial_lr, max_lr ... keys, in order
    check_state_dict(g_sched, t_sched)


def check_state_dict(g_sched, t_sched):
    """The public entries of state_dict() equal torch's; loading it into a fresh scheduler
    restores the schedule."""
    ours, theirs = g_sched.state_dict(), t_sched.state_dict()
    public = {k for k in theirs if not k.startswith("_")}
    assert public <= set(ours)
    for key in public - {"lr_lambdas"}:
        assert ours[key] == theirs[key], key
    assert ours["_last_lr"] == theirs["_last_lr"]
    assert ours["_step_count"] == theirs["_step_count"]


def test_cosine_recursive_form_follows_a_hand_changed_lr_like_torch():
    t_opt, g_opt = two_group_optimizers()
    t_sched = torch.optim.lr_scheduler.CosineAnnealingLR(t_opt, T_max=6)
    g_sched = graphnet.optim.lr_scheduler.CosineAnnealingLR(g_opt, T_max=6)
    lrs = []
    for epoch in range(15):
        if epoch == 3:   # the recursive form scales whatever lr the group now has
            t_opt.param_groups[0]["lr"] = g_opt.param_groups[0]["lr"] = 0.3
        t_opt.step()
        t_sched.step()
        g_sched.step()
        assert g_sched.get_last_lr() == pytest.approx(t_sched.get_last_lr(), abs=1e-12)
        lrs.append(g_sched.get_last_lr()[0])
    closed_form = [0.1 * (1 + math.cos(math.pi * e / 6)) / 2 for e in range(1, 16)]
    assert lrs[3] > 2 * closed_form[3]   # carried the hand-set lr along ...
    assert lrs[5] == pytest.approx(0.0, abs=1e-12)   # ... until the bottom of the cycle
    assert lrs[8:] == pytest.approx(closed_form[8:], abs=1e-12)


def test_get_lr_outside_step_warns_and_step_epoch_uses_the_closed_form():
    _, g_opt = two_group_optimizers()
    sched = graphnet.optim.lr_scheduler.StepLR(g_opt, step_size=3, gamma=0.5)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(7)
    assert sched.get_last_lr() == [0.1 * 0.25, 0.05 * 0.25]


def test_state_dict_round_trip_resumes_the_schedule():
    _, g_opt = two_group_optimizers()
    sched = SCHEDULERS["LambdaLR-per-group"](graphnet.optim.lr_scheduler, g_opt)
    for _ in range(4):
        sched.step()
    saved = sched.state_dict()
    assert saved["lr_lambdas"][0] == {"rate": 0.9} and saved["lr_lambdas"][1] is None
    _, fresh_opt = two_group_optimizers()
    fresh = SCHEDULERS["LambdaLR-per-group"](graphnet.optim.lr_scheduler, fresh_opt)
    fresh.load_state_dict(saved)
    assert fresh.last_epoch == 4 and fresh.get_last_lr() == sched.get_last_lr()
    sched.step()
    fresh.step()
    assert fresh_opt.param_groups[1]["lr"] == g_opt.param_groups[1]["lr"] == 0.05 * 0.5 ** 1


def test_resuming_without_initial_lr_raises():
    _, g_opt = two_group_optimizers()
    with pytest.raises(KeyError, match="initial_lr"):
        graphnet.optim.lr_scheduler.StepLR(g_opt, step_size=2, last_epoch=3)


# ---- ReduceLROnPlateau ----------------------------------------------------------------------
METRICS = [1.0, 0.9, 0.95, 0.95, 0.91, 0.92, 0.93, 0.8, 0.85, 0.86, 0.87, 0.88, 0.88, 0.79,
           0.7999, 0.80, 0.81, 0.82, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.4, 0.6]


@pytest.mark.parametrize("kwargs", [
    dict(patience=2),
    dict(mode="max", factor=0.5, patience=1, threshold=0.05, threshold_mode="abs"),
    dict(patience=1, cooldown=2, min_lr=[0.001, 0.002], threshold=0.01),
    dict(mode="min", patience=0, threshold_mode="abs", threshold=0.0, eps=1e-3, min_lr=0.004),
])
def test_reduce_on_plateau_matches_torch(kwargs):
    t_opt, g_opt = two_group_optimizers()
    t_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **kwargs)
    g_sched = graphnet.optim.lr_scheduler.ReduceLROnPlateau(g_opt, **kwargs)
    reductions = 0
    for epoch, metric in enumerate(METRICS):
        before = g_sched.get_last_lr()
        # odd epochs pass a float32 0-d tensor (as `loss` would be), even ones a float
        t_sched.step(torch.tensor(metric) if epoch % 2 else metric)
        g_sched.step(graphnet.tensor(metric) if epoch % 2 else metric)
        reductions += g_sched.get_last_lr() != before
        assert g_sched.get_last_lr() == t_sched.get_last_lr(), f"epoch {epoch}"
        assert (g_sched.best, g_sched.num_bad_epochs, g_sched.cooldown_counter) == \
            (t_sched.best, t_sched.num_bad_epochs, t_sched.cooldown_counter)
    assert reductions >= 2   # the metric sequence really exercises the reductions
    assert g_sched.last_epoch == t_sched.last_epoch == len(METRICS)
    ours, theirs = g_sched.state_dict(), t_sched.state_dict()
    for key in theirs:
        assert ours[key] == theirs[key], key


# ---- static mode: schedules change inputs, not graphs ---------------------------------------
def train_step_fn(model, opt):
    def train_step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return train_step


@pytest.mark.parametrize("name,make", [
    ("SGD", lambda m, opt: m.OneCycleLR(opt, max_lr=0.5, total_steps=8)),
    ("Adam", lambda m, opt: m.OneCycleLR(opt, max_lr=0.05, total_steps=8,
                                         anneal_strategy="linear")),
    ("RMSprop", lambda m, opt: m.StepLR(opt, step_size=2, gamma=0.3)),
])
def test_scheduler_does_not_recompile_the_compiled_step(name, make):
    torch.manual_seed(0)
    t_model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    g_model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
    copy_torch_params(t_model, g_model)
    kwargs = dict(lr=0.1, momentum=0.9) if name != "Adam" else dict(lr=0.1)
    t_opt = getattr(torch.optim, name)(t_model.parameters(), **kwargs)
    g_opt = getattr(graphnet.optim, name)(g_model.parameters(), **kwargs)
    t_sched = make(torch.optim.lr_scheduler, t_opt)
    g_sched = make(graphnet.optim.lr_scheduler, g_opt)
    t_step, fast = train_step_fn(t_model, t_opt), graphnet.compile(train_step_fn(g_model, g_opt))
    rng = np.random.default_rng(0)
    graphs_after_warmup = None
    for i in range(8):
        x = rng.standard_normal((8, 4)).astype(np.float32)
        y = rng.standard_normal((8, 3)).astype(np.float32)
        t_step(torch.from_numpy(x), torch.from_numpy(y))
        fast(graphnet.from_numpy(x), graphnet.from_numpy(y))
        for gp, tp in zip(g_model.parameters(), t_model.parameters(), strict=True):
            assert_close(gp, tp, atol=1e-5, rtol=1e-5, what=f"{name} step {i + 1}")
        if i == 1:   # SGD's first traced step creates its momentum buffers: one retrace
            graphs_after_warmup = fast.explain()["graphs"]
        t_sched.step()
        g_sched.step()
        assert g_sched.get_last_lr() == pytest.approx(t_sched.get_last_lr(), abs=1e-12)
    assert len(set(g_sched.get_last_lr() + [0.1])) > 1
    info = fast.explain()
    assert info["graphs"] == graphs_after_warmup, info["recompile_reasons"]
    assert info["per_graph"][-1]["calls"] >= 6


@pytest.mark.parametrize("make", [
    lambda opt: graphnet.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
    lambda opt: graphnet.optim.lr_scheduler.ReduceLROnPlateau(opt),
], ids=["StepLR", "ReduceLROnPlateau"])
def test_scheduler_step_inside_a_compiled_function_is_refused_with_the_fix(make):
    # Its Python bookkeeping would run once, while tracing: the lr would silently freeze.
    graphnet.manual_seed(0)
    model = graphnet.nn.Linear(4, 2)
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1)
    scheduler = make(opt)

    def step(x):
        opt.zero_grad()
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        if isinstance(scheduler, graphnet.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(1.0)
        else:
            scheduler.step()
        return loss

    with pytest.raises(graphnet.TraceError, match=r"step\(\) was called inside a function "
                                                  r"being compiled.*outside the compiled"):
        graphnet.compile(step)(graphnet.randn(3, 4))
    assert opt.param_groups[0]["lr"] == 0.1
