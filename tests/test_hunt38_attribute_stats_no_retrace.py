"""A module that stores statistics it computes as plain attributes in `forward` (RevIN:
`self.mean = x.mean(1, keepdim=True).detach()`, read back to denormalize) compiles once.

Each call's new tensors (and the means they were detached from) counted as new state, so
static mode traced and compiled the step again on every call, silently, about 200x slower
(compiler/recomputed_attributes.py). The attribute still holds the last call's values, and a
reference taken earlier keeps its own, as in PyTorch."""

import numpy as np
import torch

import graphnet as gn


def _build(lib):
    nn = lib.nn

    class RevIN(nn.Module):
        def __init__(self, channels, eps=1e-5):
            super().__init__()
            self.eps = eps
            self.w = nn.Parameter(lib.ones(channels))
            self.b = nn.Parameter(lib.zeros(channels))

        def norm(self, x):
            self.mean = x.mean(1, keepdim=True).detach()
            self.std = lib.sqrt(x.var(1, keepdim=True, unbiased=False) + self.eps).detach()
            return (x - self.mean) / self.std * self.w + self.b

        def denorm(self, y):
            return (y - self.b) / self.w * self.std + self.mean

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.rev = RevIN(3)
            self.lin = nn.Linear(16, 4)

        def forward(self, x):
            z = self.lin(self.rev.norm(x).transpose(1, 2)).transpose(1, 2)
            return self.rev.denorm(z)

    model = Model()
    with lib.no_grad():
        model.lin.weight.copy_(lib.tensor(np.sin(np.arange(64)).reshape(4, 16)
                                          .astype(np.float32)))
        model.lin.bias.zero_()
    opt = lib.optim.SGD(model.parameters(), lr=0.01)

    def step(x, y):
        opt.zero_grad()
        loss = lib.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, step


def test_revin_statistics_compile_once_and_match_torch():
    rng = np.random.default_rng(0)
    data = [(rng.standard_normal((8, 16, 3)).astype(np.float32),
             rng.standard_normal((8, 4, 3)).astype(np.float32)) for _ in range(5)]
    tm, tstep = _build(torch)
    gm, gstep = _build(gn)
    compiled = gn.compile(gstep)
    first_mean = None
    for i, (x, y) in enumerate(data):
        want = float(tstep(torch.tensor(x), torch.tensor(y)))
        got = float(compiled(gn.tensor(x), gn.tensor(y)))
        np.testing.assert_allclose(got, want, rtol=1e-5)
        np.testing.assert_allclose(gm.rev.mean.numpy(), tm.rev.mean.numpy(), atol=1e-6)
        np.testing.assert_allclose(gm.rev.std.numpy(), tm.rev.std.numpy(), rtol=1e-5)
        if i == 0:
            first_mean = gm.rev.mean
    np.testing.assert_allclose(first_mean.numpy(), data[0][0].mean(1, keepdims=True),
                               atol=1e-6)
    assert compiled.explain()["graphs"] == 1, compiled.explain()["recompile_reasons"]
