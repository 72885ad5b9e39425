"""A compiled training step whose very first call fails a value check (an index computed in
the step): PyTorch raised before the optimizer made its state, so the state stays empty and
the next good step is a first step. graphnet kept the state its trace created, filled with
NaN, and every later step gave NaN weights."""

import numpy as np
import pytest
import torch

import graphnet


def _train(lib, mode, optimizer):
    lib.manual_seed(0)
    model = lib.nn.Linear(3, 2)
    with lib.no_grad():
        model.weight.copy_(lib.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
        model.bias.copy_(lib.tensor([0.05, -0.05]))
    opt = (lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "sgd"
           else lib.optim.Adam(model.parameters(), lr=0.1))

    def step(x, off):
        opt.zero_grad()
        out = model(x)
        loss = out[lib.arange(2), out.argmax(1) + off].sum()
        loss.backward()
        opt.step()
        return loss

    run = graphnet.compile(step, mode=mode) if mode else step
    x = lib.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    with pytest.raises(IndexError):
        run(x, lib.tensor(5))
    state_after_failure = len(opt.state)
    for _ in range(3):
        run(x, lib.tensor(0))
    return state_after_failure, [p.detach().numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("mode", [None, "static", "plan"])
def test_a_failed_first_step_leaves_no_optimizer_state(mode, optimizer):
    expected_state, expected = _train(torch, None, optimizer)
    state, got = _train(graphnet, mode, optimizer)
    assert state == expected_state == 0
    for want, have in zip(expected, got):
        assert np.isfinite(have).all()
        np.testing.assert_allclose(have, want, rtol=1e-5, atol=1e-6)
