"""Compiled micro-steps that run `backward(create_graph=True)` and accumulate into `.grad`:
a penalty on the accumulated `.grad` differentiates through every call's part, as eagerly.
The second call's tape node had no edge to the `.grad` it added to (read after the call had
replaced it), so the penalty's gradient kept only the last call's part, silently."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _run(lib, order):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    y = rng.integers(0, 3, 4)
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    m = lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3))
    m.load_state_dict({k: lib.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})

    def micro(x, y):
        loss = lib.nn.functional.cross_entropy(m(x), y) / 2
        loss.backward(create_graph=True)
        return loss

    compiled = gn.compile(micro) if lib is gn else micro
    for kind in order:
        (compiled if kind == "c" else micro)(lib.tensor(x), lib.tensor(y))
    accumulated = m[0].weight.grad.detach().numpy().copy()
    m[2].bias.grad = None
    penalty = (m[0].weight.grad ** 2).sum()
    penalty.backward()
    return accumulated, float(penalty.detach()), m[2].bias.grad.detach().numpy().copy()


@pytest.mark.parametrize("order", ["cc", "ccc", "ec", "ce", "cec"])
def test_penalty_on_accumulated_grad_sees_every_call(order):
    want = _run(torch, order)
    got = _run(gn, order)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-7)
    assert got[1] == pytest.approx(want[1], rel=1e-5)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-4, atol=1e-7)
