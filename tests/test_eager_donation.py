"""Eager optimizer steps donate the parameter and state buffers they replace
(graphnet/_dispatch.py `_donated`, `OpDef.overwrites`): XLA writes the update over the old
buffers instead of allocating new ones. Only buffers held by their tensor alone are donated, so
an alias the user holds (`p.detach()`, a graph kept by `retain_graph=True`) keeps its values.

Production donates buffers of at least DONATE_MIN_BYTES; these tests lower the bar to 0 so that
every update kernel runs donating, and check the trajectories against torch again."""

from __future__ import annotations

import numpy as np
import pytest
import test_optim
import test_optim_extra
import test_optim_extra_muon
from parity import assert_close

import graphnet
from graphnet import _dispatch, nn

torch = pytest.importorskip("torch")
PRODUCTION = _dispatch.DONATE_MIN_BYTES


@pytest.fixture(autouse=True)
def donate_every_size(monkeypatch):
    monkeypatch.setattr(_dispatch, "DONATE_MIN_BYTES", 0)
    calls = []
    real = _dispatch._donated

    def spy(arrays, positions):
        donated = real(arrays, positions)
        calls.append(donated)
        return donated
    monkeypatch.setattr(_dispatch, "_donated", spy)
    return calls


def pointers(tensors):
    return [t._value.unsafe_buffer_pointer() for t in tensors]


CASES = test_optim.CASES + test_optim_extra.CASES + \
    [("Muon", cfg) for cfg in test_optim_extra_muon.CONFIGS]


@pytest.mark.parametrize("name,cfg", CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_donating_steps_match_torch_every_step(name, cfg, donate_every_size):
    shapes = [(3, 4), (5, 3)] if name == "Muon" else test_optim.SHAPES   # Muon: matrices
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    t_params = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values]
    g_params = [graphnet.tensor(v.copy(), requires_grad=True) for v in values]
    t_opt = getattr(torch.optim, name)(t_params, **cfg)
    g_opt = getattr(graphnet.optim, name)(g_params, **cfg)
    for step in range(test_optim_extra.STEPS):
        scale = test_optim.SCALES[step % len(test_optim.SCALES)]
        grads = [(scale * rng.standard_normal(s)).astype(np.float32) for s in shapes]
        for tp, gp, g in zip(t_params, g_params, grads, strict=True):
            tp.grad, gp.grad = torch.from_numpy(g.copy()), graphnet.tensor(g.copy())
        before = pointers(g_params)
        t_opt.step()
        g_opt.step()
        assert_close(g_params[0], t_params[0], atol=1e-5, rtol=1e-5, what=f"step {step + 1}")
        assert_close(g_params[1], t_params[1], atol=1e-5, rtol=1e-5, what=f"step {step + 1}")
        # the update was written over the parameters' own buffers
        assert pointers(g_params) == before
    assert donate_every_size and all(donate_every_size)
    test_optim.assert_state_dicts_equal(g_opt.state_dict(), t_opt.state_dict())


def big_net():
    graphnet.manual_seed(0)
    return nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 4))


def step_of(model, opt, x, y, **backward):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward(**backward)
    opt.step()
    return loss


def data():
    graphnet.manual_seed(1)
    return graphnet.randn(8, 256), graphnet.tensor([0, 1, 2, 3, 0, 1, 2, 3])


def test_a_detached_alias_follows_the_step_and_the_step_is_not_donated(donate_every_size):
    model, (x, y) = big_net(), data()
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    step_of(model, opt, x, y)
    alias = model[0].weight.detach()      # shares the weight's buffer, as in PyTorch
    kept = alias.numpy().copy()
    donate_every_size.clear()
    step_of(model, opt, x, y)
    assert donate_every_size == [()]      # held elsewhere: nothing donated
    assert not np.array_equal(model[0].weight.detach().numpy(), kept)
    # and the alias reads the new values, as PyTorch's shared storage does
    np.testing.assert_array_equal(alias.numpy(), model[0].weight.detach().numpy())
    del alias
    donate_every_size.clear()
    step_of(model, opt, x, y)
    assert donate_every_size and donate_every_size[0]   # alone again: donated


def test_a_retained_graph_keeps_its_arrays_and_refuses_backward_after_a_step(donate_every_size):
    model, (x, y) = big_net(), data()
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward(retain_graph=True)
    first = model[0].weight.grad.numpy().copy()
    opt.step()                            # the kept graph still holds the old weights
    assert donate_every_size == [()]
    assert np.isfinite(first).all()
    opt.zero_grad()
    # the same graph read the weights the step changed in place: PyTorch's error, not the
    # gradient at the old weights (which graphnet gave before)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_eager_training_donates_and_matches_the_static_step(monkeypatch, donate_every_size):
    """At the production threshold: a 256x256 weight (256 KiB) and its momentum buffer are
    donated by the eager step, the smaller tensors are not; eager and static training end at
    the same parameters."""
    monkeypatch.setattr(_dispatch, "DONATE_MIN_BYTES", PRODUCTION)
    x, y = data()
    eager_model, static_model = big_net(), big_net()
    eager_opt = graphnet.optim.SGD(eager_model.parameters(), lr=0.1, momentum=0.9)
    static_opt = graphnet.optim.SGD(static_model.parameters(), lr=0.1, momentum=0.9)
    static = graphnet.compile(lambda a, b: step_of(static_model, static_opt, a, b))
    for _ in range(4):
        static(x, y)
        step_of(eager_model, eager_opt, x, y)
    # the first step donates the weight (its buffer is created), the next the weight and
    # its momentum buffer: the first positions after the lr and momentum
    assert [len(d) for d in donate_every_size] == [1, 2, 2, 2]
    for p, q in zip(eager_model.parameters(), static_model.parameters(), strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
