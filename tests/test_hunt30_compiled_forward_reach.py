"""A compiled forward, eager backward: a parameter or argument the output reads only through
an op without a gradient edge (a comparison, `detach()`, an argmax index, a boolean mask)
keeps `.grad` None, as eagerly and in PyTorch, so weight decay leaves it alone."""

import numpy as np
import pytest

import graphnet

torch = pytest.importorskip("torch")

FORWARDS = {
    "comparison": lambda lib, x, w, t: (x * w * (x > t)).sum(),
    "argmax index": lambda lib, x, w, t: (x * w)[(t * x).argmax()],
    "detach": lambda lib, x, w, t: (x * w * t.detach()).sum(),
    "mask": lambda lib, x, w, t: (x * w).masked_fill(t.expand(3) > 0.7, 0.0).sum(),
    "both": lambda lib, x, w, t: (x * w * t).sum() + (x > t).float().sum(),
}


def _train(lib, forward, compile_fn, steps=3):
    w = lib.nn.Parameter(lib.tensor([1.0, 2.0, 3.0]))
    t = lib.nn.Parameter(lib.tensor([0.5]))
    opt = lib.optim.SGD([w, t], lr=0.1, weight_decay=0.5)
    fwd = compile_fn(lambda x: forward(lib, x, w, t))
    for _ in range(steps):
        opt.zero_grad()
        fwd(lib.tensor([0.1, 1.0, 2.0])).backward()
        opt.step()
    return w, t


@pytest.mark.parametrize("name", sorted(FORWARDS))
def test_param_behind_a_non_differentiable_op_keeps_grad_none(name):
    tw, tt = _train(torch, FORWARDS[name], lambda f: f)
    for compile_fn in (lambda f: f, graphnet.compile):
        w, t = _train(graphnet, FORWARDS[name], compile_fn)
        assert (t.grad is None) == (tt.grad is None), name
        if tt.grad is not None:
            np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-6)
        np.testing.assert_allclose(t.detach().numpy(), tt.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-6)


def test_argument_read_only_through_a_comparison_gets_no_grad():
    w = graphnet.nn.Parameter(graphnet.tensor([1.0, 2.0]))
    f = graphnet.compile(lambda x, s: (x * w * (s > 0)).sum())
    x = graphnet.tensor([1.0, 2.0], requires_grad=True)
    s = graphnet.tensor([1.0, -1.0], requires_grad=True)
    f(x, s).backward()
    assert s.grad is None
    assert x.grad.tolist() == [1.0, 0.0] and w.grad.tolist() == [1.0, 0.0]
