"""Muon against torch 2.13: trajectories with fixed gradients (its bfloat16 Newton-Schulz
rounding included), the usual Muon-for-matrices + AdamW-for-the-rest training step, eager
and compiled, state_dict, and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from parity import assert_close
from test_optim import assert_state_dicts_equal, batches, make_nets, train_step_fn

import graphnet

torch = pytest.importorskip("torch")

SHAPES = [(6, 4), (3, 8), (16, 16)]


def params_and_grads(steps):
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) * (1 + i % 3) for s in SHAPES]
             for i in range(steps)]
    return values, grads


CONFIGS = [dict(), dict(lr=0.02, nesterov=False, weight_decay=0.01),
           dict(lr=0.02, adjust_lr_fn="match_rms_adamw", momentum=0.5, ns_steps=3),
           dict(lr=0.05, ns_coefficients=(2.0, -1.5, 0.5), eps=1e-3, adjust_lr_fn="original")]


@pytest.mark.parametrize("cfg", CONFIGS, ids=[str(c) for c in CONFIGS])
def test_fixed_gradients_match_torch_every_step(cfg):
    values, grads = params_and_grads(6)
    t_params = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values]
    g_params = [graphnet.tensor(v.copy(), requires_grad=True) for v in values]
    t_opt, g_opt = torch.optim.Muon(t_params, **cfg), graphnet.optim.Muon(g_params, **cfg)
    for step, step_grads in enumerate(grads):
        for tp, gp, g in zip(t_params, g_params, step_grads, strict=True):
            tp.grad, gp.grad = torch.from_numpy(g.copy()), graphnet.tensor(g.copy())
        t_opt.step()
        g_opt.step()
        for i, (gp, tp) in enumerate(zip(g_params, t_params, strict=True)):
            assert_close(gp, tp, atol=1e-6, rtol=1e-6, what=f"step {step + 1} param {i}")
    assert_state_dicts_equal(g_opt.state_dict(), t_opt.state_dict())
    assert list(g_opt.defaults) == list(t_opt.defaults)


def split(net):
    matrices = [p for p in net.parameters() if p.ndim == 2]
    return matrices, [p for p in net.parameters() if p.ndim != 2]


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
def test_muon_with_adamw_for_the_rest_matches_torch(compiled):
    t_net, g_net = make_nets()
    (t_mat, t_rest), (g_mat, g_rest) = split(t_net), split(g_net)
    t_opts = [torch.optim.Muon(t_mat, lr=0.05), torch.optim.AdamW(t_rest, lr=0.01)]
    g_opts = [graphnet.optim.Muon(g_mat, lr=0.05), graphnet.optim.AdamW(g_rest, lr=0.01)]

    def step_of(model, opts):
        def train_step(x, y):
            for opt in opts:
                opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            for opt in opts:
                opt.step()
            return loss
        return train_step

    t_step, g_step = step_of(t_net, t_opts), step_of(g_net, g_opts)
    g_step = graphnet.compile(g_step) if compiled else g_step
    for i, (x, y) in enumerate(batches(5)):
        t_step(torch.from_numpy(x), torch.from_numpy(y))
        g_step(graphnet.from_numpy(x), graphnet.from_numpy(y))
        for gp, tp in zip(g_net.parameters(), t_net.parameters(), strict=True):
            assert_close(gp, tp, atol=1e-5, rtol=1e-5, what=f"step {i + 1}")
    if compiled:
        assert g_step.explain()["graphs"] == 1, g_step.explain()["recompile_reasons"]
    assert train_step_fn  # the shared step of test_optim is not used: two optimizers here


@pytest.mark.parametrize("make,message", [
    (lambda m, p: m.Muon(p), "Muon only supports 2D parameters"),
    (lambda m, p: m.Muon(p[:1], adjust_lr_fn="sqrt"), "is not supported"),
    (lambda m, p: m.Muon(p[:1], momentum=-1.0), "momentum should be >= 0"),
    (lambda m, p: m.Muon(p[:1], lr=-1.0), "Learning rate should be >= 0"),
])
def test_bad_arguments_raise_like_torch(make, message):
    for lib in (torch, graphnet):
        params = [lib.zeros(2, 3, requires_grad=True), lib.zeros(3, requires_grad=True)]
        with pytest.raises(ValueError, match=message):
            make(lib.optim, params)
