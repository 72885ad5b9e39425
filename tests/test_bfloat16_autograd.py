"""bfloat16 takes part in autograd in compiled code as in eager code and PyTorch. NumPy's
kind of bfloat16 is "V", not "f", and tests of `dtype.kind == "f"` left it out: a compiled
bfloat16 model's output did not require grad (backward raised, or a loss mixed with a
float32 term trained nothing)."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet

W = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)


def _model(lib):
    m = lib.nn.Linear(4, 3)
    with lib.no_grad():
        m.weight.copy_(lib.tensor(W))
        m.bias.fill_(0.25)
    return m.bfloat16()


def _np(t):
    return np.asarray(t.detach().float().numpy())


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_a_bfloat16_forward_records_its_gradient(compiled):
    tm, gm = _model(torch), _model(graphnet)
    tx = torch.linspace(-1, 1, 8).reshape(2, 4).bfloat16().requires_grad_()
    gx = graphnet.linspace(-1, 1, 8).reshape(2, 4).bfloat16().requires_grad_()
    ty = tm(tx)
    gy = (graphnet.compile(gm) if compiled else gm)(gx)
    assert gy.requires_grad and gy.dtype == graphnet.bfloat16
    (ty.float() ** 2).sum().backward()
    (gy.float() ** 2).sum().backward()
    for t, g in ((tm.weight.grad, gm.weight.grad), (tm.bias.grad, gm.bias.grad),
                 (tx.grad, gx.grad)):
        assert g.dtype == graphnet.bfloat16
        np.testing.assert_allclose(_np(g), _np(t), rtol=2e-2, atol=1e-2)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_a_bfloat16_training_step_matches_pytorch(compiled):
    weights = []
    for lib in (torch, graphnet):
        m = _model(lib)
        opt = lib.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
        x = lib.linspace(-1, 1, 8).reshape(2, 4).bfloat16()

        def step():
            opt.zero_grad()
            loss = m(x).float().pow(2).sum()
            loss.backward()
            opt.step()
            return loss

        run = graphnet.compile(step) if compiled and lib is graphnet else step
        for _ in range(3):
            run()
        weights.append([_np(m.weight), _np(m.bias)])
    for t, g in zip(*weights, strict=True):
        np.testing.assert_allclose(g, t, rtol=2e-2, atol=1e-2)
        assert np.abs(g - _np(_model(graphnet).weight if g.ndim == 2 else
                              _model(graphnet).bias)).max() > 0.05   # it trained
