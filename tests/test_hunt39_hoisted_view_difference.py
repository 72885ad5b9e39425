"""A difference of a computed value and a view of a constant grid (RAFT's `coords1 -
coords0`, `coords0 = coords_grid(...)[None].repeat(...)`) compiles: the exact-difference
rewrite walked up the view chain past what the program holds (the hoisted grid's constant
source) and the first call raised KeyError."""
import numpy as np
import pytest
import torch

import graphnet as G

X = np.random.RandomState(0).randn(2, 2, 3, 4).astype(np.float32)


def _program(T, x, loss):
    ys, xs = T.meshgrid(T.arange(3), T.arange(4), indexing="ij")
    c0 = T.stack([xs, ys], dim=0).float()[None].repeat(2, 1, 1, 1)
    c1 = c0 + x * 2
    if loss:
        return T.nn.functional.l1_loss(c1, c0.expand(2, 2, 3, 4))
    return c1 - c0


@pytest.mark.parametrize("mode", ["static", "plan"])
@pytest.mark.parametrize("loss", [False, True])
def test_difference_with_a_view_of_a_constant(mode, loss):
    want = _program(torch, torch.tensor(X), loss).numpy()
    got = G.compile(lambda x: _program(G, x, loss), mode=mode)(G.tensor(X)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
