"""The loss a compiled training step returns is what PyTorch's is after its backward(): it
requires grad, shows its grad_fn (`print(loss)` reads the same in both modes), and a second
backward through it raises PyTorch's "graph a second time" error."""

import numpy as np
import pytest
import torch

import graphnet as gn

X = np.random.RandomState(0).randn(6, 4).astype(np.float32)
Y = np.array([0, 1, 2, 1, 0, 2])


def _setup(lib, loss_fn):
    model = lib.nn.Sequential(lib.nn.Linear(4, 5), lib.nn.ReLU(), lib.nn.Linear(5, 3))
    opt = lib.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(lib, model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, step


LOSSES = {
    "cross_entropy": lambda lib, out, y: lib.nn.functional.cross_entropy(out, y),
    "mse": lambda lib, out, y: ((out - 1) ** 2).mean(),
    "sum": lambda lib, out, y: out.tanh().sum(),
}


@pytest.mark.parametrize("loss", list(LOSSES), ids=str)
def test_the_returned_loss_prints_and_refuses_as_pytorch(loss):
    tmodel, tstep = _setup(torch, LOSSES[loss])
    gmodel, gstep = _setup(gn, LOSSES[loss])
    gmodel.load_state_dict({k: gn.tensor(v.detach().numpy())
                            for k, v in tmodel.state_dict().items()})
    fast = gn.compile(gstep)
    for _ in range(2):
        want = tstep(torch.tensor(X), torch.tensor(Y))
        got = fast(gn.tensor(X), gn.tensor(Y))
        assert repr(got).replace("graphnet", "torch") == repr(want)
        assert (got.requires_grad, got.is_leaf) == (want.requires_grad, want.is_leaf) == \
            (True, False)
        assert got.grad_fn.name() == want.grad_fn.name()
        assert got.item() == pytest.approx(want.item(), rel=1e-5)
    for t in (want, got):
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            t.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            (t * 2).backward()
        with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires"):
            t.numpy()
    assert got.detach().numpy() == pytest.approx(want.detach().numpy(), rel=1e-5)


def test_a_compiled_forward_under_no_grad_returns_a_plain_tensor():
    model = gn.nn.Linear(4, 3)
    fast = gn.compile(lambda x: model(x).sum())
    with gn.no_grad():
        out = fast(gn.tensor(X))
    assert not out.requires_grad and out.grad_fn is None
