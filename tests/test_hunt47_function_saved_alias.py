"""A custom Function that saves `z.detach()` (a DEQ's implicit backward): the alias and the
tensor it was taken of live on only in the program's node, so a compiled training step
compiles once and trains as PyTorch does."""

import numpy as np
import torch

import graphnet as gn


def _adjoint(lib):
    class Adjoint(lib.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z.detach())
            return z.clone()

        @staticmethod
        def backward(ctx, g):
            (z,) = ctx.saved_tensors
            return g * (1.0 + z.tanh() ** 2)

    return Adjoint


def test_step_saving_a_detached_tensor_compiles_once_and_matches_torch():
    rng = np.random.RandomState(0)
    w, b = rng.randn(4, 4).astype(np.float32), rng.randn(4).astype(np.float32)
    xs = [rng.randn(3, 4).astype(np.float32) for _ in range(4)]
    results = {}
    for lib in (torch, gn):
        lin = lib.nn.Linear(4, 4)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(w))
            lin.bias.copy_(lib.tensor(b))
        opt = lib.optim.SGD(lin.parameters(), lr=0.1)
        fn = _adjoint(lib)

        def step(x, lin=lin, opt=opt, fn=fn):
            opt.zero_grad()
            loss = fn.apply(lin(x)).pow(2).sum()
            loss.backward()
            opt.step()
            return loss

        run = gn.compile(step) if lib is gn else step
        losses = [float(run(lib.tensor(x))) for x in xs]
        results[lib.__name__] = (losses, lin.weight.detach().numpy().copy())
        if lib is gn:
            assert run.explain()["graphs"] == 1
    np.testing.assert_allclose(results["graphnet"][0], results["torch"][0], rtol=1e-5)
    np.testing.assert_allclose(results["graphnet"][1], results["torch"][1], rtol=1e-5, atol=1e-6)
