"""The hook-based weight_norm / spectral_norm called twice before backward (a GAN
discriminator on real, then fake data): no "modified by an inplace operation" error, and
the gradients of both forwards, in every mode (the thirty-first session's hunt)."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _discriminator(lib, norm):
    nn = lib.nn
    lib.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), getattr(nn.utils, norm)(nn.Linear(4, 1)))


def _grads(lib, model, mode):
    def step(real, fake):
        loss = model(real).mean() - model(fake).mean()
        loss.backward()
        return loss

    if mode == "eager after a compiled forward":
        with gn.no_grad():
            gn.compile(model)(gn.ones(2, 3))
    run = gn.compile(step) if mode == "static" else step
    out = []
    for k in range(3):
        model.zero_grad()
        real = lib.linspace(-1, 1, 12).reshape(4, 3) * (k + 1)
        loss = run(real, -real * 0.5)
        out.append([loss.item()] + [p.grad.numpy().copy() for p in model.parameters()])
    return out


@pytest.mark.parametrize("mode", ["eager", "static", "eager after a compiled forward"])
def test_weight_norm_twice_before_backward_matches_torch(mode):
    reference = _discriminator(torch, "weight_norm")
    model = _discriminator(gn, "weight_norm")
    model.load_state_dict({k: gn.tensor(v.detach().numpy())
                           for k, v in reference.state_dict().items()})
    expected, got = _grads(torch, reference, "eager"), _grads(gn, model, mode)
    for e, g in zip(expected, got):
        assert g[0] == pytest.approx(e[0], rel=1e-5, abs=1e-6)
        for a, b in zip(g[1:], e[1:]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["static", "eager after a compiled forward"])
def test_spectral_norm_twice_before_backward_matches_eager(mode):
    eager, other = _discriminator(gn, "spectral_norm"), _discriminator(gn, "spectral_norm")
    other.load_state_dict(eager.state_dict())
    expected, got = _grads(gn, eager, "eager"), _grads(gn, other, mode)
    for e, g in zip(expected, got):
        assert g[0] == pytest.approx(e[0], rel=1e-5, abs=1e-6)
        for a, b in zip(g[1:], e[1:]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
