"""A beginner's update without no_grad (`w = w - 0.1 * w.grad`) drops the leaf's last name;
backward() into it then does nothing anyone can see, as in PyTorch. Static mode had raised
"the loss depends on no tensor that requires grad", which is false."""
import torch

import graphnet as G


def _loop(lib):
    w = lib.ones(2, requires_grad=True)
    x = lib.tensor([1.0, 2.0])
    (w * x).sum().backward()
    w = w - 0.1 * w.grad
    loss = (w * x).sum()
    loss.backward()
    return loss.detach(), w.requires_grad, w.grad is None


def test_backward_into_a_dropped_leaf_runs_in_both_modes():
    want = _loop(torch)
    for got in (_loop(G), G.compile(lambda: _loop(G))()):
        assert got[0].item() == want[0].item() == 2.5
        assert got[1:] == want[1:] == (True, True)
