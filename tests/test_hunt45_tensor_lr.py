"""A tensor learning rate stays the user's tensor under every scheduler: PyTorch's
schedulers write the new rate into it in place, and get_last_lr() returns copies."""

import numpy as np
import pytest
import torch

import graphnet as gn

SCHEDULERS = {
    "exponential": lambda S, o: S.ExponentialLR(o, gamma=0.5),
    "step": lambda S, o: S.StepLR(o, step_size=1, gamma=0.3),
    "cosine_restarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3),
    "one_cycle": lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=10),
    "cyclic": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2),
    "plateau": lambda S, o: S.ReduceLROnPlateau(o, patience=0, factor=0.1),
    "sequential": lambda S, o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.5, total_iters=2),
                                                  S.ExponentialLR(o, gamma=0.9)],
                                              milestones=[2]),
    "lambda": lambda S, o: S.LambdaLR(o, lambda epoch: 1.0 / (epoch + 1)),
}


def _run(lib, name, steps=3):
    p = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
    lr = lib.tensor(0.05)
    opt = lib.optim.SGD([p], lr=lr, momentum=0.9)
    sched = SCHEDULERS[name](lib.optim.lr_scheduler, opt)
    seen = []
    for _ in range(steps):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
        sched.step(1.0) if name == "plateau" else sched.step()
        last = sched._last_lr[0] if name == "plateau" else sched.get_last_lr()[0]
        seen.append((opt.param_groups[0]["lr"] is lr, float(lr), type(last).__name__,
                     float(last), last is not lr))
    return seen, p.detach().numpy()


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_tensor_lr_is_written_in_place_as_in_torch(name):
    want_seen, want_p = _run(torch, name)
    got_seen, got_p = _run(gn, name)
    assert [s[0] for s in got_seen] == [s[0] for s in want_seen] == [True] * 3
    for got, want in zip(got_seen, want_seen):
        assert got[2] == want[2] and got[4] == want[4]
        assert got[1] == pytest.approx(want[1], rel=1e-6)
        assert got[3] == pytest.approx(want[3], rel=1e-6)
    np.testing.assert_allclose(got_p, want_p, rtol=1e-6)


def test_compiled_step_reads_the_scheduled_tensor_lr():
    results = []
    for lib, compiled in ((torch, False), (gn, True)):
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
        opt = lib.optim.SGD([p], lr=lib.tensor(0.1))
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)

        def step():
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()

        run = gn.compile(step) if compiled else step
        for _ in range(3):
            run()
            sched.step()
        results.append(p.detach().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)
