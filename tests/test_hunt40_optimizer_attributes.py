"""A user-written optimizer's own Python state changed inside a compiled step (`self.t += 1`
for bias correction, `self.state["n_steps"] += 1`, `self.counts[0] += 1`) is a change of
Python state: the next call traces again, so the values follow PyTorch's (before, the
program kept the traced counter and the parameters drifted, silently)."""
import warnings

import numpy as np
import pytest
import torch

import graphnet as G


def _optimizer_class(lib, where):
    class Decaying(lib.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))
            self.t = 0
            self.counts = [0]

        @lib.no_grad()
        def step(self):
            if where == "attribute":
                self.t += 1
                n = self.t
            elif where == "state":
                self.state["n_steps"] = self.state.get("n_steps", 0) + 1
                n = self.state["n_steps"]
            else:
                self.counts[0] += 1
                n = self.counts[0]
            for group in self.param_groups:
                for p in group["params"]:
                    p.add_(p.grad, alpha=-group["lr"] / n)

    return Decaying


def _run(lib, where, compiled):
    w = lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0]))
    opt = _optimizer_class(lib, where)([w])

    def step():
        opt.zero_grad()
        loss = (w * w * lib.tensor([1.0, 2.0, 3.0])).sum()
        loss.backward()
        opt.step()
        return loss.detach()

    run = G.compile(step) if compiled else step
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(5):
            run()
    return w.detach().numpy()


@pytest.mark.parametrize("where", ["attribute", "state", "list"])
@pytest.mark.parametrize("compiled", [False, True])
def test_optimizer_counters_follow_torch(where, compiled):
    want = _run(torch, where, False)
    np.testing.assert_allclose(_run(G, where, compiled), want, rtol=1e-6)


def test_builtin_optimizers_still_compile_once():
    m = G.nn.Linear(3, 2)
    opt = G.optim.Adam(m.parameters())
    G.optim.lr_scheduler.StepLR(opt, 100)

    def step(x):
        opt.zero_grad()
        loss = m(x).sum()
        loss.backward()
        opt.step()
        return loss.detach()

    compiled = G.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(4):
            compiled(G.ones(2, 3))
    assert compiled.explain()["graphs"] == 1
