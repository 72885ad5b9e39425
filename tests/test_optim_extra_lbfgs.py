"""LBFGS against torch 2.13: parameters, losses and state after several closure steps (plain
and strong-Wolfe line search, short histories), its refusal inside graphnet.compile, and a
closure that itself runs compiled."""

from __future__ import annotations

import numpy as np
import pytest
from parity import assert_close

import graphnet

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((20, 4)).astype(np.float32)
Y = RNG.standard_normal((20, 2)).astype(np.float32)
W0 = RNG.standard_normal((4, 2)).astype(np.float32)


def problem(lib, dtype=np.float32, **cfg):
    """A smooth convex problem (least squares plus a quartic penalty): L-BFGS converges the
    same way in both libraries. Twenty iterations per step still amplify float32 rounding,
    and how much depends on the CPU (the order XLA and PyTorch sum a dot product in): float64
    shows the algorithm is the same (1e-12 here), float32 is checked to 2e-4."""
    w = lib.tensor(W0.astype(dtype), requires_grad=True)
    b = lib.tensor(np.zeros(2, dtype), requires_grad=True)
    opt = lib.optim.LBFGS([w, b], **cfg)
    x, y = lib.tensor(X.astype(dtype)), lib.tensor(Y.astype(dtype))

    def closure():
        opt.zero_grad()
        loss = ((x @ w + b - y) ** 2).mean() + 0.1 * (w ** 4).sum()
        loss.backward()
        return loss
    return w, b, opt, closure


CONFIGS = [dict(), dict(line_search_fn="strong_wolfe"),
           dict(lr=0.5, max_iter=5, history_size=3),
           dict(lr=0.8, max_iter=3, history_size=2, line_search_fn="strong_wolfe"),
           dict(max_iter=1)]


TOLERANCE = {np.float64: 1e-8, np.float32: 2e-4}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("cfg", CONFIGS, ids=[str(c) for c in CONFIGS])
def test_steps_match_torch(cfg, dtype):
    t_w, t_b, t_opt, t_closure = problem(torch, dtype, **cfg)
    g_w, g_b, g_opt, g_closure = problem(graphnet, dtype, **cfg)
    tol = TOLERANCE[dtype]
    for step in range(4):
        t_loss = t_opt.step(t_closure)
        g_loss = g_opt.step(g_closure)
        assert_close(g_loss, t_loss, atol=tol, rtol=tol, what=f"loss {step}")
        assert_close(g_w, t_w, atol=tol, rtol=tol, what=f"w after step {step + 1}")
        assert_close(g_b, t_b, atol=tol, rtol=tol, what=f"b after step {step + 1}")
    t_state, g_state = t_opt.state[t_w], g_opt.state[g_w]
    assert list(g_state) == list(t_state)
    if dtype == np.float64:   # float32 rounding can stop the last step one evaluation apart
        assert (g_state["func_evals"], g_state["n_iter"]) == (t_state["func_evals"],
                                                              t_state["n_iter"])
        assert len(g_state["old_dirs"]) == len(t_state["old_dirs"])
        assert_close(g_state["d"], t_state["d"], atol=1e-6, rtol=1e-6, what="direction")
    assert g_opt.state_dict()["param_groups"] == t_opt.state_dict()["param_groups"]


def test_a_converged_problem_returns_at_once_like_torch():
    t_w, _, t_opt, t_closure = problem(torch, tolerance_grad=1e3)
    g_w, _, g_opt, g_closure = problem(graphnet, tolerance_grad=1e3)
    t_opt.step(t_closure)
    g_opt.step(g_closure)
    assert list(g_opt.state[g_w]) == list(t_opt.state[t_w]) == ["func_evals", "n_iter"]
    assert_close(g_w, t_w, what="unchanged")


def test_step_inside_compile_is_refused_with_the_way_out():
    w, _, opt, closure = problem(graphnet)

    @graphnet.compile
    def train():
        return opt.step(closure)

    with pytest.raises(graphnet.TraceError, match=r"LBFGS\.step\(\).*outside graphnet.compile"):
        train()


def test_a_compiled_closure_works_eagerly_around_it():
    t_w, _, t_opt, t_closure = problem(torch, line_search_fn="strong_wolfe")
    g_w, _, g_opt, g_closure = problem(graphnet, line_search_fn="strong_wolfe")
    fast_closure = graphnet.compile(g_closure)
    for step in range(3):
        t_opt.step(t_closure)
        g_opt.step(fast_closure)
        assert_close(g_w, t_w, atol=2e-4, rtol=2e-4, what=f"step {step + 1}")


@pytest.mark.parametrize("make,error,message", [
    (lambda p: graphnet.optim.LBFGS(p, lr=-1), ValueError, "Invalid learning rate"),
    (lambda p: graphnet.optim.LBFGS([{"params": p[:1]}, {"params": p[1:]}]), ValueError,
     "doesn't support per-parameter options"),
])
def test_bad_arguments_raise_like_torch(make, error, message):
    with pytest.raises(error, match=message):
        make([graphnet.zeros(2, requires_grad=True), graphnet.zeros(3, requires_grad=True)])


def test_unknown_line_search_raises_like_torch():
    _, _, opt, closure = problem(graphnet, line_search_fn="armijo")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)
