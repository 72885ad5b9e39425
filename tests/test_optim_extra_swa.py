"""torch.optim.swa_utils against torch 2.13: AveragedModel (SWA, EMA through avg_fn and
multi_avg_fn, use_buffers), update_bn on a BatchNorm model, and SWALR's lr sequence,
state_dict and composition after another scheduler."""

from __future__ import annotations

import numpy as np
import pytest
from parity import assert_close, copy_torch_params

import graphnet
from graphnet import nn

torch = pytest.importorskip("torch")


def nets():
    torch.manual_seed(0)
    t_net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6),
                                torch.nn.ReLU(), torch.nn.Linear(6, 2))
    g_net = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2))
    copy_torch_params(t_net, g_net)
    return t_net, g_net


def batches(n, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((8, 4)).astype(np.float32) * (1 + i % 3),
             rng.standard_normal((8, 2)).astype(np.float32)) for i in range(n)]


def train_epoch(lib, net, opt, data):
    for x, y in data:
        opt.zero_grad()
        loss = ((net(lib.from_numpy(x)) - lib.from_numpy(y)) ** 2).mean()
        loss.backward()
        opt.step()


def make_averaged(utils, net, kind):
    if kind == "swa":
        return utils.AveragedModel(net)
    if kind == "ema-multi":
        return utils.AveragedModel(net, multi_avg_fn=utils.get_ema_multi_avg_fn(0.9))
    if kind == "ema-fn":
        return utils.AveragedModel(net, avg_fn=utils.get_ema_avg_fn(0.8))
    if kind == "swa-fn-buffers":
        return utils.AveragedModel(net, avg_fn=utils.get_swa_avg_fn(), use_buffers=True)
    if kind == "swa-buffers":
        return utils.AveragedModel(net, use_buffers=True)
    return utils.AveragedModel(net, multi_avg_fn=utils.get_swa_multi_avg_fn(),
                               use_buffers=True)


@pytest.mark.parametrize("kind", ["swa", "ema-multi", "ema-fn", "swa-fn-buffers",
                                  "swa-buffers"])
def test_averaged_model_matches_torch(kind):
    t_net, g_net = nets()
    t_avg = make_averaged(torch.optim.swa_utils, t_net, kind)
    g_avg = make_averaged(graphnet.optim.swa_utils, g_net, kind)
    t_opt = torch.optim.SGD(t_net.parameters(), lr=0.1, momentum=0.9)
    g_opt = graphnet.optim.SGD(g_net.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(3):
        data = batches(2, seed=epoch)
        train_epoch(torch, t_net, t_opt, data)
        train_epoch(graphnet, g_net, g_opt, data)
        t_avg.update_parameters(t_net)
        g_avg.update_parameters(g_net)
        assert int(g_avg.n_averaged) == int(t_avg.n_averaged) == epoch + 1
        t_state, g_state = t_avg.state_dict(), g_avg.state_dict()
        assert sorted(g_state) == sorted(t_state)
        for key, value in t_state.items():
            assert_close(g_state[key], value, atol=1e-5, rtol=1e-5, what=f"{epoch} {key}")
    assert g_avg.n_averaged.dtype == graphnet.int64
    x = batches(1, seed=9)[0][0]
    t_avg.eval()
    g_avg.eval()
    assert_close(g_avg(graphnet.from_numpy(x)), t_avg(torch.from_numpy(x)), atol=1e-5,
                 what="forward of the averaged model")


def test_swa_multi_avg_fn_on_integer_buffers_raises_like_torch():
    for lib in (torch, graphnet):
        t_net = nets()[0 if lib is torch else 1]
        averaged = make_averaged(lib.optim.swa_utils, t_net, "swa-multi-buffers")
        averaged.update_parameters(t_net)
        with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
            averaged.update_parameters(t_net)


def test_update_bn_recomputes_running_statistics_like_torch():
    t_net, g_net = nets()
    for x, _ in batches(3, seed=5):   # statistics update_bn must throw away
        t_net(torch.from_numpy(x * 3 + 1))
        g_net(graphnet.from_numpy(x * 3 + 1))
    t_net.eval()
    g_net.eval()
    data = batches(5, seed=3)
    # a loader yielding (input, target) pairs: update_bn uses the first element
    torch.optim.swa_utils.update_bn([(torch.from_numpy(x), y) for x, y in data], t_net)
    graphnet.optim.swa_utils.update_bn([(graphnet.from_numpy(x), y) for x, y in data], g_net)
    t_bn, g_bn = t_net[1], g_net[1]
    assert_close(g_bn.running_mean, t_bn.running_mean, atol=1e-5, what="running_mean")
    assert_close(g_bn.running_var, t_bn.running_var, atol=1e-5, what="running_var")
    assert g_bn.momentum == t_bn.momentum == 0.1
    assert g_net.training == t_net.training


SWALRS = {
    "cos": lambda m, o: m.SWALR(o, swa_lr=0.05, anneal_epochs=5),
    "linear-per-group": lambda m, o: m.SWALR(o, swa_lr=[0.01, 0.2], anneal_epochs=3,
                                             anneal_strategy="linear"),
    "no-anneal": lambda m, o: m.SWALR(o, swa_lr=0.02, anneal_epochs=0),
}


@pytest.mark.parametrize("kind", SWALRS)
def test_swalr_sequence_matches_torch(kind):
    t_params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    g_params = [graphnet.zeros(2, requires_grad=True), graphnet.zeros(3, requires_grad=True)]
    t_opt = torch.optim.SGD([{"params": t_params[:1]}, {"params": t_params[1:], "lr": 0.5}],
                            lr=0.1)
    g_opt = graphnet.optim.SGD([{"params": g_params[:1]}, {"params": g_params[1:], "lr": 0.5}],
                               lr=0.1)
    t_sched = SWALRS[kind](torch.optim.swa_utils, t_opt)
    g_sched = SWALRS[kind](graphnet.optim.swa_utils, g_opt)
    for epoch in range(10):
        np.testing.assert_allclose(g_sched.get_last_lr(), t_sched.get_last_lr(), rtol=1e-13,
                                   err_msg=f"epoch {epoch}")
        t_opt.step()
        t_sched.step()
        g_sched.step()
    ours, theirs = g_sched.state_dict(), t_sched.state_dict()
    for key in theirs:
        assert ours[key] == theirs[key], key
    assert [g["swa_lr"] for g in g_opt.param_groups] == [g["swa_lr"] for g in t_opt.param_groups]


def test_swalr_bad_arguments_raise_like_torch():
    opt = graphnet.optim.SGD([graphnet.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of"):
        graphnet.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
        graphnet.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=-1)
    with pytest.raises(ValueError, match="Invalid decay value"):
        graphnet.optim.swa_utils.get_ema_multi_avg_fn(1.5)
