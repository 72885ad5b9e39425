"""`torch.Tensor(t)` of a tensor shares `t`'s storage, against torch 2.13, eagerly and inside a
compiled function (graphnet/_aliases.py `adopt_storage`). Compiled, the captured tensor's
values at trace time were baked into the program: changed in place later, the old values
came back without an error."""

import numpy as np
import pytest
import torch

import graphnet as G


def _program(T, compiled):
    buf = T.tensor([1.0, 2.0, 3.0])
    step = lambda x: x * T.Tensor(buf)     # noqa: E731
    run = G.compile(step) if compiled else step
    out = [run(T.ones(3)).tolist()]
    buf.mul_(2)
    out.append(run(T.ones(3)).tolist())
    return out


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_a_captured_tensor_changed_in_place_is_read_again(compiled):
    assert _program(G, compiled) == _program(torch, False)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_writes_through_either_reach_the_other(compiled):
    def write(T):
        x = T.tensor([1.0, 2.0])
        y = T.Tensor(x)
        y.add_(1)
        x.mul_(10)
        return x, y

    want = [t.tolist() for t in write(torch)]
    got = [t.tolist() for t in (G.compile(lambda: write(G))() if compiled else write(G))]
    assert got == want
    assert np.allclose(want[0], [20.0, 30.0])
