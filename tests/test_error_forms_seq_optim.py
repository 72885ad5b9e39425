"""Errors, warnings and state types of sequence layers and optimizers, against torch 2.13:
proj_size on RNN/GRU, Embedding's asserted shapes, SGD(differentiable=True) on parameters
that require grad, clip_grads_with_norm_ with a number as the norm, the scheduler-before-
optimizer warning, and the type of LBFGS's step t."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import graphnet
from parity import assert_close, np_of, torch


def _raised(make):
    """The exception make() raises."""
    with pytest.raises(Exception) as info:
        make()
    return info.value


# ---- nn.RNN / nn.GRU refuse proj_size -----------------------------------------------------
@pytest.mark.parametrize("name", ["RNN", "GRU"])
@pytest.mark.parametrize("proj_size", [0, 2, -1])
def test_proj_size_on_rnn_and_gru_is_torchs_value_error(name, proj_size):
    expected = _raised(lambda: getattr(torch.nn, name)(3, 4, proj_size=proj_size))
    got = _raised(lambda: getattr(graphnet.nn, name)(3, 4, proj_size=proj_size))
    assert type(expected) is ValueError and isinstance(got, ValueError)
    assert str(got) == str(expected)


def test_rnn_and_gru_without_proj_size_still_build_and_lstm_takes_it():
    assert graphnet.nn.GRU(3, 4).proj_size == 0
    assert graphnet.nn.RNN(3, 4, 1, "relu").nonlinearity == "relu"
    assert graphnet.nn.LSTM(3, 4, proj_size=2).weight_hr_l0.shape == (2, 4)


# ---- nn.Embedding asserts its weight's shape ------------------------------------------------
EMBEDDING_CASES = {
    "_weight of the wrong shape": lambda lib: lib.nn.Embedding(2, 2, _weight=lib.ones(3, 2)),
    "from_pretrained 1-D": lambda lib: lib.nn.Embedding.from_pretrained(lib.ones(3)),
    "from_pretrained 3-D": lambda lib: lib.nn.Embedding.from_pretrained(lib.ones(2, 2, 2)),
}


@pytest.mark.parametrize("case", EMBEDDING_CASES)
def test_embedding_weight_shape_is_torchs_assertion_error(case):
    expected = _raised(lambda: EMBEDDING_CASES[case](torch))
    got = _raised(lambda: EMBEDDING_CASES[case](graphnet))
    assert type(expected) is AssertionError and isinstance(got, AssertionError)
    assert isinstance(got, ValueError)   # as before the fix, for code catching ValueError
    assert str(got).startswith(str(expected))


# ---- SGD(differentiable=True) ----------------------------------------------------------------
def _sgd_differentiable(lib, requires_grad, momentum):
    w = lib.tensor([1.0, 2.0], requires_grad=requires_grad)
    w.grad = lib.tensor([0.5, -1.0])
    opt = lib.optim.SGD([w], lr=0.1, momentum=momentum, differentiable=True)
    return w, opt


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_differentiable_on_a_parameter_needing_grad_raises_as_torch(compiled, momentum):
    t_w, t_opt = _sgd_differentiable(torch, True, momentum)
    expected = _raised(t_opt.step)
    g_w, g_opt = _sgd_differentiable(graphnet, True, momentum)
    step = graphnet.compile(lambda: g_opt.step()) if compiled else g_opt.step
    got = _raised(step)
    assert type(expected) is RuntimeError and isinstance(got, RuntimeError)
    assert str(got).startswith(str(expected))
    assert_close(g_w, t_w, what="no parameter was changed")
    assert "momentum_buffer" not in g_opt.state[g_w] and \
        "momentum_buffer" not in t_opt.state[t_w]


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_differentiable_without_requires_grad_steps_as_torch(momentum):
    t_w, t_opt = _sgd_differentiable(torch, False, momentum)
    g_w, g_opt = _sgd_differentiable(graphnet, False, momentum)
    for _ in range(2):
        t_opt.step()
        g_opt.step()
    assert_close(g_w, t_w, what="parameter after two steps")
    if momentum:
        assert_close(g_opt.state[g_w]["momentum_buffer"], t_opt.state[t_w]["momentum_buffer"])


# ---- nn.utils.clip_grads_with_norm_ with a number as total_norm -----------------------------
@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("total_norm", [5.0, 5])
def test_clip_grads_with_a_number_as_norm_is_torchs_type_error(compiled, total_norm):
    def clip(lib):
        w = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        w.grad = lib.tensor([3.0, 4.0])
        lib.nn.utils.clip_grads_with_norm_([w], 1.0, total_norm)

    expected = _raised(lambda: clip(torch))
    run = graphnet.compile(lambda: clip(graphnet)) if compiled else (lambda: clip(graphnet))
    got = _raised(run)
    assert type(expected) is TypeError and type(got) is TypeError
    first_line = str(expected).splitlines()[0]   # then torch lists clamp's overloads
    assert str(got).startswith(first_line.split(", but expected")[0])


def test_clip_grads_with_a_tensor_norm_still_scales():
    grads = {}
    for lib in (torch, graphnet):
        w = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        w.grad = lib.tensor([3.0, 4.0])
        lib.nn.utils.clip_grads_with_norm_([w], 1.0, lib.tensor(5.0))
        grads[lib] = w.grad
    assert_close(grads[graphnet], grads[torch])
    np.testing.assert_allclose(np_of(grads[graphnet]), [0.6, 0.8], rtol=1e-5)


# ---- lr_scheduler.step() before optimizer.step() warns ---------------------------------------
def _order_warnings(lib, order, make, compiled=False):
    """Messages of the order warning over three epochs, stepping in `order`."""
    w = lib.nn.Parameter(lib.tensor([1.0]))
    w.grad = lib.tensor([1.0])
    opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
    # opt.step is looked up at each call: torch counts only the calls that go through the
    # wrapper it puts on the instance when the scheduler is built
    opt_step = graphnet.compile(lambda: opt.step()) if compiled else (lambda: opt.step())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if order == "optimizer stepped before the scheduler existed":
            opt_step()
        sched = make(lib, opt)
        for _ in range(3):
            if order == "optimizer first":
                opt_step()
            sched.step()
            if order == "scheduler first":
                opt_step()
    return [str(c.message) for c in caught if "before `optimizer.step()`" in str(c.message)]


SCHEDULERS = {
    "StepLR": lambda lib, opt: lib.optim.lr_scheduler.StepLR(opt, 1),
    "OneCycleLR": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, 1.0, total_steps=9),
    "CosineAnnealingWarmRestarts": lambda lib, opt:
        lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 2),
    "SequentialLR": lambda lib, opt: lib.optim.lr_scheduler.SequentialLR(
        opt, [lib.optim.lr_scheduler.ConstantLR(opt), lib.optim.lr_scheduler.ExponentialLR(
            opt, 0.9)], [2]),
    "ChainedScheduler": lambda lib, opt: lib.optim.lr_scheduler.ChainedScheduler(
        [lib.optim.lr_scheduler.ConstantLR(opt), lib.optim.lr_scheduler.ExponentialLR(opt, 0.9)]),
    "SWALR": lambda lib, opt: lib.optim.swa_utils.SWALR(opt, 0.05),
}
ORDERS = ["scheduler first", "optimizer first", "optimizer stepped before the scheduler existed"]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_scheduler_order_warning_matches_torch(scheduler, order):
    expected = _order_warnings(torch, order, SCHEDULERS[scheduler])
    got = _order_warnings(graphnet, order, SCHEDULERS[scheduler])
    assert got == expected
    if scheduler == "StepLR":   # the case that was silent: one warning, torch's words
        assert len(got) == (0 if order == "optimizer first" else 1)
        assert not got or got[0].startswith("Detected call of `lr_scheduler.step()` before "
                                            "`optimizer.step()`. In PyTorch 1.1.0 and later")


@pytest.mark.parametrize("order", ORDERS[:2])
def test_a_compiled_optimizer_step_counts_for_the_order_warning(order):
    expected = _order_warnings(torch, order, SCHEDULERS["StepLR"])
    assert _order_warnings(graphnet, order, SCHEDULERS["StepLR"], compiled=True) == expected


def test_the_order_warning_points_at_the_callers_line():
    w = graphnet.nn.Parameter(graphnet.tensor([1.0]))
    sched = graphnet.optim.lr_scheduler.StepLR(graphnet.optim.SGD([w], lr=0.1), 1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`") as caught:
        sched.step()
    assert caught[0].filename == __file__


# ---- LBFGS's step t keeps the lr's type ------------------------------------------------------
def _lbfgs_t(lib, lr, max_iter, line_search_fn):
    w = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
    if isinstance(lr, tuple):   # (value, dtype name): a tensor lr
        lr = lib.tensor([lr[0]], dtype=getattr(lib, lr[1]))
    opt = lib.optim.LBFGS([w], lr=lr, max_iter=max_iter, line_search_fn=line_search_fn)

    def closure():
        opt.zero_grad()
        loss = ((w - 0.03) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    opt.step(closure)
    return opt.state[w]["t"], w


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("max_iter", [1, 3])
@pytest.mark.parametrize("lr", [1, 0.5, (1.0, "float32"), (1.0, "float64")],
                         ids=["int", "float", "tensor32", "tensor64"])
def test_lbfgs_step_t_has_torchs_type(lr, max_iter, line_search_fn):
    t_t, t_w = _lbfgs_t(torch, lr, max_iter, line_search_fn)
    g_t, g_w = _lbfgs_t(graphnet, lr, max_iter, line_search_fn)
    if isinstance(t_t, torch.Tensor):
        assert isinstance(g_t, graphnet.Tensor)
        assert str(g_t.dtype).split(".")[-1] == str(t_t.dtype).split(".")[-1]
        assert g_t.shape == t_t.shape == ()
        assert_close(g_t, t_t)
    else:
        assert type(g_t) is type(t_t) and g_t == t_t
    assert_close(g_w, t_w, what="parameters after two steps")
    assert g_w.dtype == graphnet.float32   # a float64 lr does not promote the update
