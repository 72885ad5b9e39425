"""A GAN on a 2-D mixture of Gaussians, trained both ways: two models, two optimizers, and
the `detach()` that keeps the discriminator's step from training the generator. Not in the
seed tutorials; it exercises what they teach (modules, Adam with betas, BCE-with-logits,
`no_grad`) in the alternating pattern every GAN uses.

Dynamic and static runs (each step compiled by `graphnet.compile`) start from the same
weights and noise and print the same losses. `build(T)` takes the library, so tests build
the identical models with PyTorch and compare.

    python examples/gan.py [--steps 60]
"""

from __future__ import annotations

import argparse

import numpy as np

import graphnet

LATENT = 4


def build(T):
    nn = T.nn
    generator = nn.Sequential(nn.Linear(LATENT, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                              nn.Linear(32, 2))
    discriminator = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32),
                                  nn.LeakyReLU(0.2), nn.Linear(32, 1))
    return generator, discriminator


def data(T, steps: int, batch: int = 64, seed: int = 0):
    """(real points from 4 Gaussians on a circle, latent noise) per step."""
    rng = np.random.default_rng(seed)
    modes = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [0.0, -2.0]], np.float32)
    for _ in range(steps):
        real = modes[rng.integers(0, 4, batch)] + 0.1 * rng.standard_normal((batch, 2))
        noise = rng.standard_normal((batch, LATENT))
        yield T.tensor(real.astype(np.float32)), T.tensor(noise.astype(np.float32))


def train(T, generator, discriminator, steps: int, compiled: bool = False):
    F = T.nn.functional
    opt_g = T.optim.Adam(generator.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = T.optim.Adam(discriminator.parameters(), lr=2e-3, betas=(0.5, 0.999))

    def d_step(real, noise):
        opt_d.zero_grad()
        fake = generator(noise).detach()          # the generator gets no gradient here
        real_logits, fake_logits = discriminator(real), discriminator(fake)
        loss = F.binary_cross_entropy_with_logits(real_logits, T.ones_like(real_logits)) + \
            F.binary_cross_entropy_with_logits(fake_logits, T.zeros_like(fake_logits))
        loss.backward()
        opt_d.step()
        return loss

    def g_step(noise):
        opt_g.zero_grad()
        logits = discriminator(generator(noise))
        loss = F.binary_cross_entropy_with_logits(logits, T.ones_like(logits))
        loss.backward()   # fills the discriminator's grads too; its optimizer does not step
        opt_g.step()
        return loss

    if compiled:
        d_step, g_step = graphnet.compile(d_step), graphnet.compile(g_step)
    losses = []
    for real, noise in data(T, steps):
        losses.append((float(d_step(real, noise)), float(g_step(noise))))
    return losses


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args(argv)
    graphnet.manual_seed(0)
    dynamic, static = build(graphnet), build(graphnet)
    for a, b in zip(dynamic, static):
        b.load_state_dict(a.state_dict())
    results = {}
    for name, (g, d), compiled in (("dynamic", dynamic, False), ("static", static, True)):
        results[name] = train(graphnet, g, d, args.steps, compiled)
        (d0, g0), (d1, g1) = results[name][0], results[name][-1]
        print(f"{name:8s} D loss {d0:.4f} -> {d1:.4f}   G loss {g0:.4f} -> {g1:.4f}")
    gap = max(abs(x - y) for a, b in zip(results["dynamic"], results["static"])
              for x, y in zip(a, b))
    print(f"largest loss difference, dynamic vs static: {gap:.2e}")
    with graphnet.no_grad():
        points = static[0](graphnet.randn(500, LATENT))
    print("generated points: mean radius", f"{float(points.norm(dim=1).mean()):.3f}",
          "(the real ones: 2.0)")
    return results


if __name__ == "__main__":
    main()
