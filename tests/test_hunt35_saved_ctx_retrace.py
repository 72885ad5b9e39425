"""A custom Function that saves a tensor the trace made with `ctx.save_for_backward` (the
instant-NGP `trunc_exp`) compiles once: the tensor held only in the ctx's saved tuple is
not state the next call must read, as one held as `ctx.attr` already was not. Before, every
call traced again ("the previous trace created new state")."""

import numpy as np
import torch

import graphnet


def _trunc_exp(lib):
    class TruncExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return lib.exp(x)

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * lib.exp(x.clamp(-15, 15))

    return TruncExp


def _train(lib, compiled, steps=5):
    lib.manual_seed(0)
    m = lib.nn.Linear(3, 3)
    with lib.no_grad():
        m.weight.copy_(lib.tensor(np.linspace(-0.5, 0.5, 9, dtype=np.float32).reshape(3, 3)))
        m.bias.fill_(0.1)
    opt = lib.optim.SGD(m.parameters(), lr=1e-2)
    fn = _trunc_exp(lib)

    def step(x):
        opt.zero_grad()
        loss = fn.apply(m(x)).sum()
        loss.backward()
        opt.step()
        return loss

    run = graphnet.compile(step) if compiled else step
    xs = [lib.tensor(np.full((4, 3), 0.1 * (i + 1), dtype=np.float32)) for i in range(steps)]
    losses = [run(x).item() for x in xs]
    return losses, m.weight.tolist(), run


def test_trunc_exp_step_compiles_once_and_trains_like_torch():
    want = _train(torch, False)
    losses, weight, run = _train(graphnet, True)
    np.testing.assert_allclose(losses, want[0], rtol=1e-5)
    np.testing.assert_allclose(np.array(weight), np.array(want[1]), rtol=1e-5, atol=1e-6)
    assert run.explain()["graphs"] == 1, run.explain()["recompile_reasons"]
