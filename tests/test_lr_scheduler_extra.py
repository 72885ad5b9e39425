"""The rest of torch 2.13's lr schedulers against torch: MultiplicativeLR, ConstantLR,
LinearLR, PolynomialLR, CyclicLR, CosineAnnealingWarmRestarts (also fractional epochs),
SequentialLR and ChainedScheduler (also nested), over many steps with two param groups:
lr and momentum/betas sequences, get_last_lr, state_dict and its round trip; and a compiled
train step that follows a composed schedule without recompiling."""

from __future__ import annotations

import numpy as np
import pytest
from parity import assert_close

import graphnet
from graphnet import nn

torch = pytest.importorskip("torch")

STEPS = 40


class Halve:
    """A callable object: (Multiplicative/Lambda)LR and CyclicLR save its __dict__."""

    def __init__(self, every):
        self.every = every

    def __call__(self, epoch):
        return 0.5 if epoch % self.every == 0 else 1.0


# Each builder takes the lr_scheduler module and an optimizer; composed ones build their parts.
SCHEDULERS = {
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95),
    "MultiplicativeLR-per-group": lambda m, o: m.MultiplicativeLR(o, [Halve(3), lambda e: 0.9]),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=6),
    "ConstantLR-default": lambda m, o: m.ConstantLR(o),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.1, total_iters=8),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.05,
                                              total_iters=30),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=25, power=2.0),
    "PolynomialLR-linear": lambda m, o: m.PolynomialLR(o, total_iters=10),
    "CyclicLR-triangular": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2],
                                                   step_size_up=4, step_size_down=6),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                    step_size_up=5, mode="triangular2",
                                                    base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1,
                                                  step_size_up=3, mode="exp_range",
                                                  gamma=0.97),
    "CyclicLR-scale_fn": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=3,
                                                 scale_fn=lambda x: 0.9 ** x,
                                                 scale_mode="iterations",
                                                 cycle_momentum=False),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7),
    "CosineAnnealingWarmRestarts-mult": lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.001),
    "SequentialLR-warmup-cosine": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=20)],
        milestones=[5]),
    "SequentialLR-three": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=3), m.ExponentialLR(o, gamma=0.9),
            m.StepLR(o, step_size=4, gamma=0.5)], milestones=[4, 15]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.1, total_iters=2), m.ExponentialLR(o, gamma=0.9)]),
    "ChainedScheduler-optimizer": lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, start_factor=0.2, total_iters=6), m.MultiStepLR(o, [10, 20, 30])],
        optimizer=o),
    "SequentialLR-of-chained": lambda m, o: m.SequentialLR(
        o, [m.ChainedScheduler([m.LinearLR(o, start_factor=0.5, total_iters=3),
                                m.ExponentialLR(o, gamma=0.95)]),
            m.PolynomialLR(o, total_iters=15, power=0.5)], milestones=[8]),
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


SEQUENCE_CASES = [(kind, "SGD") for kind in SCHEDULERS] + \
    [(kind, "Adam") for kind in SCHEDULERS if kind.startswith("CyclicLR-tri")]


def assert_same_lrs(g_sched, t_sched, g_opt, t_opt, what):
    np.testing.assert_allclose(g_sched.get_last_lr(), t_sched.get_last_lr(), rtol=1e-13,
                               atol=1e-15, err_msg=what)
    np.testing.assert_allclose([g["lr"] for g in g_opt.param_groups],
                               [g["lr"] for g in t_opt.param_groups], rtol=1e-13, atol=1e-15,
                               err_msg=what)
    np.testing.assert_allclose(momenta(g_opt), momenta(t_opt), rtol=1e-13, err_msg=what)


@pytest.mark.parametrize("kind,optimizer", SEQUENCE_CASES,
                         ids=[f"{k}-{o}" for k, o in SEQUENCE_CASES])
def test_lr_sequence_matches_torch(kind, optimizer):
    t_opt, g_opt = two_group_optimizers(optimizer)
    t_sched = SCHEDULERS[kind](torch.optim.lr_scheduler, t_opt)
    g_sched = SCHEDULERS[kind](graphnet.optim.lr_scheduler, g_opt)
    seen = set()
    for epoch in range(STEPS):
        assert_same_lrs(g_sched, t_sched, g_opt, t_opt, f"{kind} epoch {epoch}")
        seen.add(round(g_sched.get_last_lr()[0], 12))
        assert getattr(g_sched, "last_epoch", None) == getattr(t_sched, "last_epoch", None)
        t_opt.step()
        g_opt.step()
        t_sched.step()
        g_sched.step()
    assert len(seen) > 1, "the schedule should move"
    for g_group, t_group in zip(g_opt.param_groups, t_opt.param_groups, strict=True):
        assert list(g_group) == list(t_group)   # initial_lr, max_momentum ... keys, in order
    check_state_dict(g_sched.state_dict(), t_sched.state_dict())


def check_state_dict(ours, theirs):
    """Every entry of torch's state_dict exists in ours with the same value (lambdas: the
    saved __dict__ of callable objects; sub-schedulers: recursively)."""
    assert set(theirs) <= set(ours), set(theirs) - set(ours)
    for key, value in theirs.items():
        if key == "_schedulers":
            for mine, other in zip(ours[key], value, strict=True):
                check_state_dict(mine, other)
        elif key in ("_scale_fn_ref",):
            continue
        else:
            assert ours[key] == value, key


@pytest.mark.parametrize("kind", ["MultiplicativeLR-per-group", "CyclicLR-triangular2",
                                  "CosineAnnealingWarmRestarts-mult",
                                  "SequentialLR-warmup-cosine", "ChainedScheduler"])
def test_state_dict_round_trip_resumes_the_schedule(kind):
    t_opt, g_opt = two_group_optimizers()
    t_sched = SCHEDULERS[kind](torch.optim.lr_scheduler, t_opt)
    g_sched = SCHEDULERS[kind](graphnet.optim.lr_scheduler, g_opt)
    for _ in range(9):
        t_opt.step()
        t_sched.step()
        g_sched.step()
    saved_opt, saved = g_opt.state_dict(), g_sched.state_dict()
    _, fresh_opt = two_group_optimizers()
    fresh = SCHEDULERS[kind](graphnet.optim.lr_scheduler, fresh_opt)
    fresh_opt.load_state_dict(saved_opt)
    fresh.load_state_dict(saved)
    for epoch in range(9, 25):
        t_opt.step()
        t_sched.step()
        fresh.step()
        assert_same_lrs(fresh, t_sched, fresh_opt, t_opt, f"resumed {kind} epoch {epoch}")


def test_warm_restarts_with_fractional_epochs_like_the_docs():
    """The documented per-batch use: scheduler.step(epoch + i / iters)."""
    t_opt, g_opt = two_group_optimizers()
    make = SCHEDULERS["CosineAnnealingWarmRestarts-mult"]
    t_sched = make(torch.optim.lr_scheduler, t_opt)
    g_sched = make(graphnet.optim.lr_scheduler, g_opt)
    iters = 7
    for epoch in range(12):
        for i in range(iters):
            t_sched.step(epoch + i / iters)
            g_sched.step(epoch + i / iters)
            assert_same_lrs(g_sched, t_sched, g_opt, t_opt, f"epoch {epoch} batch {i}")
            assert (g_sched.T_cur, g_sched.T_i, g_sched.last_epoch) == \
                pytest.approx((t_sched.T_cur, t_sched.T_i, t_sched.last_epoch), rel=1e-13)
    # jumping back restarts the first period, as in torch
    t_sched.step(1.5)
    g_sched.step(1.5)
    assert_same_lrs(g_sched, t_sched, g_opt, t_opt, "jump back")
    assert g_sched._step_count == t_sched._step_count == 0


@pytest.mark.parametrize("kind", ["ConstantLR", "LinearLR", "PolynomialLR",
                                  "MultiplicativeLR"])
def test_deprecated_step_epoch_uses_the_closed_form_like_torch(kind):
    t_opt, g_opt = two_group_optimizers()
    t_sched = SCHEDULERS[kind](torch.optim.lr_scheduler, t_opt)
    g_sched = SCHEDULERS[kind](graphnet.optim.lr_scheduler, g_opt)
    for epoch in (3, 7, 2, 30):
        with pytest.warns(UserWarning):
            t_sched.step(epoch)
        with pytest.warns(UserWarning, match="deprecated"):
            g_sched.step(epoch)
        assert_same_lrs(g_sched, t_sched, g_opt, t_opt, f"{kind} step({epoch})")


# ---- errors: torch's types and messages -----------------------------------------------------
def _sgd():
    return graphnet.optim.SGD([graphnet.zeros(2, requires_grad=True)], lr=0.1)


def _adagrad():
    return graphnet.optim.Adagrad([graphnet.zeros(2, requires_grad=True)], lr=0.1)


@pytest.mark.parametrize("make,error,message", [
    (lambda m, o: m.ConstantLR(o, factor=1.5), ValueError, "between 0 and 1"),
    (lambda m, o: m.LinearLR(o, start_factor=0), ValueError, "greater than 0"),
    (lambda m, o: m.LinearLR(o, end_factor=2.0), ValueError, "Ending multiplicative"),
    (lambda m, o: m.MultiplicativeLR(o, 0.9), TypeError, "should be a function"),
    (lambda m, o: m.MultiplicativeLR(o, [lambda e: 1, lambda e: 1]), ValueError,
     "Expected 1 lr_lambdas, but got 2"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "positive integer T_0"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5), ValueError, "T_mult"),
    (lambda m, o: m.CyclicLR(o, 0.01, 0.1, mode="sine"), ValueError, "mode is invalid"),
    (lambda m, o: m.CyclicLR(_adagrad(), 0.01, 0.1), ValueError, "must support momentum"),
    (lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.StepLR(o, 3)], milestones=[]),
     ValueError, "one more than the number of milestone"),
    (lambda m, o: m.SequentialLR(o, [], milestones=[]), ValueError, "at least one"),
    (lambda m, o: m.SequentialLR(o, [m.ReduceLROnPlateau(o)], milestones=[]), ValueError,
     "does not support `ReduceLROnPlateau`"),
    (lambda m, o: m.SequentialLR(o, [m.StepLR(_sgd(), 2)], milestones=[]), ValueError,
     "same optimizer"),
    (lambda m, o: m.ChainedScheduler([]), ValueError, "at least one scheduler"),
    (lambda m, o: m.ChainedScheduler([m.StepLR(o, 2), object()]), TypeError,
     "should have `optimizer`"),
])
def test_bad_arguments_raise_like_torch(make, error, message):
    with pytest.raises(error, match=message):
        make(graphnet.optim.lr_scheduler, _sgd())


def test_warm_restarts_refuses_a_negative_epoch():
    sched = graphnet.optim.lr_scheduler.CosineAnnealingWarmRestarts(_sgd(), T_0=3)
    with pytest.raises(ValueError, match="non-negative epoch"):
        sched.step(-1)


# ---- static mode: a composed schedule reaches a compiled train step ------------------------
@pytest.mark.parametrize("kind", ["SequentialLR-warmup-cosine", "CyclicLR-triangular2"])
def test_compiled_train_step_follows_the_schedule_without_recompiling(kind):
    torch.manual_seed(0)
    t_model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    g_model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
    for gp, tp in zip(g_model.parameters(), t_model.parameters(), strict=True):
        gp.data = graphnet.from_numpy(tp.detach().numpy().copy())
    t_opt = torch.optim.SGD(t_model.parameters(), lr=0.1, momentum=0.9)
    g_opt = graphnet.optim.SGD(g_model.parameters(), lr=0.1, momentum=0.9)
    t_sched = SCHEDULERS[kind](torch.optim.lr_scheduler, t_opt)
    g_sched = SCHEDULERS[kind](graphnet.optim.lr_scheduler, g_opt)

    def step_of(model, opt):
        def train_step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        return train_step

    t_step, fast = step_of(t_model, t_opt), graphnet.compile(step_of(g_model, g_opt))
    eager = step_of(g_model, g_opt)
    rng = np.random.default_rng(0)
    graphs = None
    for i in range(10):
        x = rng.standard_normal((8, 4)).astype(np.float32)
        y = rng.standard_normal((8, 3)).astype(np.float32)
        t_step(torch.from_numpy(x), torch.from_numpy(y))
        # alternate static and dynamic steps: both read the same live lr and momentum
        (fast if i % 3 else eager)(graphnet.from_numpy(x), graphnet.from_numpy(y))
        for gp, tp in zip(g_model.parameters(), t_model.parameters(), strict=True):
            assert_close(gp, tp, atol=1e-5, rtol=1e-5, what=f"{kind} step {i + 1}")
        if i == 2:   # SGD's first traced step creates its momentum buffers: one retrace
            graphs = fast.explain()["graphs"]
        t_sched.step()
        g_sched.step()
    assert fast.explain()["graphs"] == graphs, fast.explain()["recompile_reasons"]
