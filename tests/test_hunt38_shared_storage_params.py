"""Two Parameters on one storage get both optimizer updates, as PyTorch's in-place steps
apply both to the shared storage: `load_state_dict({...}, assign=True)` of one tensor into
two modules, or `Parameter(w)` and `Parameter(w.detach())`. Before, the optimizer updated
them together from the same old value (graphnet/optim/_rounds.py saw a shared storage only
when its owner was listed too), and a compiled step did not pass the first update to the
second parameter through the unlisted tensor they alias (_aliases._through_concrete)."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _run(lib, make, optimizer, compiled):
    nn = lib.nn
    m1, m2 = nn.Linear(3, 1, bias=False), nn.Linear(3, 1, bias=False)
    w = lib.tensor([[1.0, 2.0, 3.0]])
    if make == "assign":
        m1.load_state_dict({"weight": w}, assign=True)
        m2.load_state_dict({"weight": w}, assign=True)
    else:
        m1.weight, m2.weight = nn.Parameter(w), nn.Parameter(w.detach())
    x = lib.tensor([[1.0, 0.5, -1.0]])
    opt = optimizer(lib)([m1.weight, m2.weight])

    def step(x):
        opt.zero_grad()
        loss = m1(x).sum() + m2(x).square().sum()
        loss.backward()
        opt.step()
        return loss

    fn = gn.compile(step) if compiled else step
    losses = [float(fn(x)) for _ in range(3)]
    return losses, m1.weight.detach().numpy(), m2.weight.detach().numpy(), w.numpy()


OPTIMIZERS = {
    "sgd": lambda lib: lambda ps: lib.optim.SGD(ps, lr=0.1),
    "momentum": lambda lib: lambda ps: lib.optim.SGD(ps, lr=0.1, momentum=0.9,
                                                     weight_decay=0.01),
    "adam": lambda lib: lambda ps: lib.optim.Adam(ps, lr=0.1),
}


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("make", ["assign", "parameter"])
def test_parameters_sharing_a_storage_get_both_updates(make, optimizer, compiled):
    want = _run(torch, make, OPTIMIZERS[optimizer], False)
    got = _run(gn, make, OPTIMIZERS[optimizer], compiled)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
    for g, w in zip(got[1:], want[1:]):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
