"""A gradient penalty (WGAN-GP) through a tiling max pool, compiled: the penalty's backward
differentiates the pool's gradient, so the program holds the pool's (value, offset)
reduction three times. A reducer that called a private function (jnp.where) made XLA-CPU
crash compiling it (segfault, pool_candidates._first_of); eagerly it ran."""

import numpy as np
import pytest
from parity import torch

import graphnet


def _penalty_step(lib, pool, w, x, compile_it):
    def step(x):
        x = x.requires_grad_(True)
        out = (pool(lib, x).flatten() * w).sum()
        (g,) = lib.autograd.grad(out, x, create_graph=True)
        w.grad = None
        (g ** 2).sum().backward()
        return w.grad
    return (graphnet.compile(step) if compile_it else step)(x)


POOLS = {
    "max_pool2d_2": (lambda lib, x: lib.nn.functional.max_pool2d(x, 2), (2, 3, 4, 4), 24),
    "max_pool1d_2": (lambda lib, x: lib.nn.functional.max_pool1d(x, 2), (2, 3, 8), 24),
    "MaxPool2d_3": (lambda lib, x: lib.nn.MaxPool2d(3)(x), (1, 2, 6, 6), 8),
}


@pytest.mark.parametrize("name", sorted(POOLS))
@pytest.mark.parametrize("compile_it", [True, False])
def test_gradient_penalty_through_a_max_pool(name, compile_it):
    pool, shape, n = POOLS[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(n).astype(np.float32)
    want = _penalty_step(torch, pool, torch.tensor(w, requires_grad=True), torch.tensor(x),
                         False)
    got = _penalty_step(graphnet, pool, graphnet.tensor(w, requires_grad=True),
                        graphnet.tensor(x), compile_it)
    # d/dw sum((w at each winner)^2) = 2 w: each window's winner gets w once
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    np.testing.assert_allclose(got.numpy(), 2 * w, rtol=1e-6)


def test_a_discriminator_with_a_pool_trains_like_pytorch_under_a_penalty():
    """Conv -> LeakyReLU -> MaxPool2d(2) -> Linear critic, three compiled SGD steps of
    critic(real) - critic(fake) + 10 * (|grad| - 1)^2, against PyTorch's."""
    rng = np.random.default_rng(1)
    real = rng.standard_normal((4, 1, 8, 8)).astype(np.float32)
    fake = rng.standard_normal((4, 1, 8, 8)).astype(np.float32)
    mix = rng.uniform(size=(4, 1, 1, 1)).astype(np.float32)

    def build(lib):
        return lib.nn.Sequential(lib.nn.Conv2d(1, 3, 3, padding=1), lib.nn.LeakyReLU(0.2),
                                 lib.nn.MaxPool2d(2), lib.nn.Flatten(), lib.nn.Linear(48, 1))

    tnet = build(torch)
    gnet = build(graphnet)
    gnet.load_state_dict({k: graphnet.tensor(v.detach().numpy())
                          for k, v in tnet.state_dict().items()})

    def step_of(lib, net):
        opt = lib.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

        def step(real, fake, mix):
            opt.zero_grad()
            between = (mix * real + (1 - mix) * fake).requires_grad_(True)
            (g,) = lib.autograd.grad(net(between).sum(), between, create_graph=True)
            penalty = ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()
            loss = net(fake).mean() - net(real).mean() + 10 * penalty
            loss.backward()
            opt.step()
            return loss.detach()
        return step

    tstep = step_of(torch, tnet)
    gstep = graphnet.compile(step_of(graphnet, gnet))
    for _ in range(3):
        want = tstep(*map(torch.tensor, (real, fake, mix)))
        got = gstep(*map(graphnet.tensor, (real, fake, mix)))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)
    for (name, t), g in zip(tnet.named_parameters(), gnet.parameters()):
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=name)
