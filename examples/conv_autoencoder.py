"""A convolutional autoencoder, trained both ways: beyond the seed tutorials' classifiers.
Strided `Conv2d` layers encode 16x16 images to a 16x4x4 code and `ConvTranspose2d` layers
(stride 2, `output_padding=1`) decode it back; MSE reconstruction loss, Adam.

The same code trains dynamically and statically (the whole step compiled by
`graphnet.compile`) from the same weights and prints the same losses. `build(T)` takes the
library, so tests build the identical model with PyTorch and compare.

    python examples/conv_autoencoder.py [--steps 40]
"""

from __future__ import annotations

import argparse

import numpy as np

import graphnet


def build(T):
    nn = T.nn
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),                 # 16 -> 8
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),                # 8 -> 4
        nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())


def images(T, steps: int, batch: int = 16, seed: int = 0):
    """Batches of soft blobs at random places: easy to see, easy to compress."""
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(np.arange(16), np.arange(16), indexing="ij"))
    for _ in range(steps):
        centres = rng.uniform(3, 13, (batch, 2, 1, 1))
        widths = rng.uniform(1.5, 3.5, (batch, 1, 1))
        d2 = ((grid[None] - centres) ** 2).sum(1)
        yield T.tensor(np.exp(-d2 / (2 * widths ** 2))[:, None].astype(np.float32))


def train(T, model, steps: int, compiled: bool = False) -> list[float]:
    opt = T.optim.Adam(model.parameters(), lr=1e-2)

    def step(x):
        opt.zero_grad()
        loss = T.nn.functional.mse_loss(model(x), x)
        loss.backward()
        opt.step()
        return loss

    run = graphnet.compile(step) if compiled else step
    return [float(run(x)) for x in images(T, steps)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args(argv)
    graphnet.manual_seed(0)
    dynamic, static = build(graphnet), build(graphnet)
    static.load_state_dict(dynamic.state_dict())
    results = {}
    for name, model, compiled in (("dynamic", dynamic, False), ("static", static, True)):
        results[name] = train(graphnet, model, args.steps, compiled)
        print(f"{name:8s} reconstruction loss: first {results[name][0]:.5f}  "
              f"last {results[name][-1]:.5f}")
    gap = max(abs(a - b) for a, b in zip(results["dynamic"], results["static"]))
    print(f"largest loss difference, dynamic vs static: {gap:.2e}")
    return results


if __name__ == "__main__":
    main()
