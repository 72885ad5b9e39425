"""nn.utils.clip_grad_norm_ / clip_grad_value_ against PyTorch, eagerly and inside a compiled
training step (where the scaled grads must reach the optimizer update)."""

import numpy as np
import pytest
from parity import copy_torch_params, torch

import graphnet
from graphnet import nn


def models():
    graphnet.manual_seed(0)
    g = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    t = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    copy_torch_params(t, g)
    return g, t


X = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32) * 3


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("clip", [("norm", 2.0), ("norm", 1.0), ("norm", float("inf")),
                                  ("value", None)], ids=["l2", "l1", "inf", "value"])
def test_clipping_matches_torch_through_three_sgd_steps(compiled, clip):
    kind, norm_type = clip
    g, t = models()
    g_opt = graphnet.optim.SGD(g.parameters(), lr=0.1, momentum=0.9)
    t_opt = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)

    def g_step(x):
        g_opt.zero_grad()
        loss = g(x).square().sum()
        loss.backward()
        if kind == "norm":
            total = nn.utils.clip_grad_norm_(g.parameters(), 0.5, norm_type)
        else:
            nn.utils.clip_grad_value_(g.parameters(), 0.05)
            total = loss
        g_opt.step()
        return total

    step = graphnet.compile(g_step) if compiled else g_step
    for _ in range(3):
        t_opt.zero_grad()
        t_loss = t(torch.from_numpy(X)).square().sum()
        t_loss.backward()
        if kind == "norm":
            t_total = torch.nn.utils.clip_grad_norm_(t.parameters(), 0.5, norm_type)
        else:
            torch.nn.utils.clip_grad_value_(t.parameters(), 0.05)
            t_total = t_loss
        t_opt.step()
        total = step(graphnet.from_numpy(X))
        np.testing.assert_allclose(total.item(), t_total.item(), rtol=1e-5)
    for (name, p), tp in zip(g.named_parameters(), t.parameters(), strict=True):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), atol=1e-5,
                                   err_msg=name)
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), atol=1e-5, err_msg=name)


def test_no_grads_gives_zero_and_a_single_tensor_is_accepted():
    g, _ = models()
    assert nn.utils.clip_grad_norm_(g.parameters(), 1.0).item() == 0.0
    w = graphnet.ones(3, requires_grad=True)
    (w * 4).sum().backward()
    norm = nn.utils.clip_grad_norm_(w, max_norm=1.0)
    np.testing.assert_allclose(norm.item(), np.sqrt(3 * 16), rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), 4 / (np.sqrt(48) + 1e-6), rtol=1e-5)


def test_nonfinite_norm_raises_when_asked():
    w = graphnet.ones(2, requires_grad=True)
    (w * float("inf")).sum().backward()
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
