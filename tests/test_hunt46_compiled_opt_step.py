"""`graphnet.compile(opt.step)` of a custom optimizer that keeps Python numbers (a counter in
`self.state[p]['step']` or on the optimizer itself): each call sees the new count, as
eagerly. The bound optimizer was not watched, so its counter stayed at 1 and every call ran
the first call's step size, silently."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _optimizer(lib, where):
    class Counting(lib.optim.Optimizer):
        def __init__(self, params, lr=0.2):
            super().__init__(params, dict(lr=lr))
            self.t = 0

        @lib.no_grad()
        def step(self, closure=None):
            self.t += 1
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    state["step"] = state.get("step", 0) + 1
                    count = self.t if where == "attribute" else state["step"]
                    p.add_(p.grad, alpha=-group["lr"] / count)

    return Counting


@pytest.mark.parametrize("where", ["attribute", "state"])
def test_compiled_step_method_follows_python_counters(where):
    results = []
    for lib, compiled in ((torch, False), (gn, True)):
        w = lib.nn.Parameter(lib.tensor([1.0, 2.0, 3.0]))
        opt = _optimizer(lib, where)([w])
        step = gn.compile(opt.step) if compiled else opt.step
        for _ in range(5):
            opt.zero_grad()
            (w * w).sum().backward()
            step()
        results.append((w.detach().numpy().copy(), opt.t, opt.state[w]["step"]))
    (want, t_want, s_want), (got, t_got, s_got) = results
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert (t_got, s_got) == (t_want, s_want) == (5, 5)


def test_compiled_builtin_step_method_still_compiles_once():
    w = gn.nn.Parameter(gn.tensor([1.0, 2.0, 3.0]))
    opt = gn.optim.Adam([w], lr=0.1)
    step = gn.compile(opt.step)
    for _ in range(4):
        opt.zero_grad()
        (w * w).sum().backward()
        step()
    assert step.compiled.recompile_reasons == ["first call"]
