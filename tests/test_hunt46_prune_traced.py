"""Pruning an already pruned parameter inside a compiled function: a clear TraceError that
names pruning and says what to do (it used to name boolean-mask indexing the user never
wrote), and the model left as it was, so pruning between calls then matches PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as tp

import graphnet as gn
import graphnet.nn.utils.prune as gp
from graphnet._errors import TraceError


def _models():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((9, 5), dtype=np.float32), rng.standard_normal((9, 1),
                                                                              dtype=np.float32)
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    gm = gn.nn.Sequential(gn.nn.Linear(5, 8), gn.nn.ReLU(), gn.nn.Linear(8, 1))
    gm.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return x, y, tm, gm


def _step(lib, P, m, opt, x, y, prune="l1"):
    opt.zero_grad()
    loss = ((m(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    if prune == "l1":
        P.l1_unstructured(m[0], "weight", 0.2)
    else:
        P.ln_structured(m[0], "weight", 0.25, n=2, dim=0)
    return loss


@pytest.mark.parametrize("prune", ["l1", "ln"])
def test_pruning_again_inside_a_compiled_step_is_refused_clearly(prune):
    x, y, tm, gm = _models()
    to, go = torch.optim.SGD(tm.parameters(), lr=0.05), gn.optim.SGD(gm.parameters(), lr=0.05)
    step = gn.compile(lambda a, b: _step(gn, gp, gm, go, a, b, prune))
    want = _step(torch, tp, tm, to, torch.tensor(x), torch.tensor(y), prune).item()
    assert step(gn.tensor(x), gn.tensor(y)).item() == pytest.approx(want, rel=1e-6)
    with pytest.raises(TraceError, match="pruning '.*' again where a parameter is already "
                                         "pruned.*Prune between compiled calls"):
        step(gn.tensor(x), gn.tensor(y))
    for _ in range(2):   # nothing of the refused call was kept: eager steps go on as PyTorch's
        want = _step(torch, tp, tm, to, torch.tensor(x), torch.tensor(y), prune).item()
        got = _step(gn, gp, gm, go, gn.tensor(x), gn.tensor(y), prune).item()
        assert got == pytest.approx(want, rel=1e-5)
    np.testing.assert_array_equal(gm[0].weight_mask.numpy(), tm[0].weight_mask.numpy())
    np.testing.assert_allclose(gm[0].weight_orig.detach().numpy(),
                               tm[0].weight_orig.detach().numpy(), rtol=1e-5, atol=1e-6)
