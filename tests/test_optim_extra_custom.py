"""User-written optimizers and schedulers on graphnet's base classes, as tutorials write
them against torch 2.13: an Optimizer subclass with its own step() and state, an
LRScheduler subclass with its own get_lr(), and the bases' own errors."""

from __future__ import annotations

import numpy as np
import pytest
from parity import assert_close
from test_optim import make_nets, train_both

import graphnet

torch = pytest.importorskip("torch")


def make_momentum_sign_sgd(lib):
    """A tutorial-style optimizer: sign of a momentum buffer, kept in self.state."""

    class SignMomentum(lib.optim.Optimizer):
        def __init__(self, params, lr=0.01, beta=0.9):
            if lr < 0.0:
                raise ValueError(f"Invalid learning rate: {lr}")
            super().__init__(params, dict(lr=lr, beta=beta))

        @lib.no_grad()
        def step(self, closure=None):
            loss = None
            if closure is not None:
                with lib.enable_grad():
                    loss = closure()
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if "buf" not in state:
                        state["buf"] = lib.zeros_like(p)
                    state["buf"].mul_(group["beta"]).add_(p.grad)
                    p.add_(state["buf"].sign(), alpha=-group["lr"])
            return loss
    return SignMomentum


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
def test_a_user_optimizer_trains_like_torch(compiled):
    t_net, g_net = make_nets()
    t_opt = make_momentum_sign_sgd(torch)(t_net.parameters(), lr=0.01)
    g_opt = make_momentum_sign_sgd(graphnet)(g_net.parameters(), lr=0.01)
    train_both(t_net, g_net, t_opt, g_opt, 4, compiled=compiled)
    assert sorted(g_opt.state_dict()["state"]) == sorted(t_opt.state_dict()["state"])
    assert g_opt.state_dict()["param_groups"] == t_opt.state_dict()["param_groups"]


def test_the_bases_refuse_what_a_subclass_must_provide_like_torch():
    for lib in (torch, graphnet):
        p = lib.zeros(2, requires_grad=True)
        opt = lib.optim.Optimizer([p], {"lr": 0.1})
        with pytest.raises(NotImplementedError):
            opt.step()
        with pytest.raises(NotImplementedError):
            lib.optim.lr_scheduler.LRScheduler(opt)


class Warmup:
    """A scheduler subclass as users write it: linear warmup, then inverse square root."""

    @staticmethod
    def make(lib, opt, warmup=4):
        class WarmupInvSqrt(lib.optim.lr_scheduler.LRScheduler):
            def __init__(self, optimizer, last_epoch=-1):
                self.warmup = warmup
                super().__init__(optimizer, last_epoch)

            def get_lr(self):
                step = max(self.last_epoch, 1)
                scale = min(step / self.warmup, (self.warmup / step) ** 0.5)
                return [base * scale for base in self.base_lrs]
        return WarmupInvSqrt(opt)


def test_a_user_scheduler_matches_torch_and_reaches_a_compiled_step():
    t_net, g_net = make_nets()
    t_opt = torch.optim.AdamW(t_net.parameters(), lr=0.05)
    g_opt = graphnet.optim.AdamW(g_net.parameters(), lr=0.05)
    t_sched, g_sched = Warmup.make(torch, t_opt), Warmup.make(graphnet, g_opt)
    fast = None
    for epoch in range(6):
        np.testing.assert_allclose(g_sched.get_last_lr(), t_sched.get_last_lr(), rtol=1e-15)
        fast = train_both(t_net, g_net, t_opt, g_opt, 1, compiled=True, seed=epoch) \
            if fast is None else _step(fast, t_net, g_net, t_opt, epoch)
        t_sched.step()
        g_sched.step()
    assert fast.explain()["graphs"] == 1


def _step(fast, t_net, g_net, t_opt, seed):
    from test_optim import batches, train_step_fn

    (x, y), = batches(1, seed)
    train_step_fn(t_net, t_opt)(torch.from_numpy(x), torch.from_numpy(y))
    fast(graphnet.from_numpy(x), graphnet.from_numpy(y))
    for gp, tp in zip(g_net.parameters(), t_net.parameters(), strict=True):
        assert_close(gp, tp, atol=1e-5, rtol=1e-5, what=f"epoch {seed}")
    return fast
