"""Every lr scheduler's state_dict() has torch's keys and values, so a scheduler saved by one
library resumes in the other. OneCycleLR wrote `anneal_strategy` and `_phases` (tuples)
where torch writes `_anneal_func_type` and `_schedule_phases` (dicts)."""

from __future__ import annotations

import pytest
import torch

import graphnet

NAMES = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR",
         "MultiplicativeLR", "ConstantLR", "LinearLR", "PolynomialLR",
         "CosineAnnealingWarmRestarts", "CyclicLR", "ReduceLROnPlateau", "SequentialLR",
         "ChainedScheduler", "OneCycleLR", "OneCycleLR-three-phase-linear"]


def _build(lib, name):
    model = lib.nn.Linear(2, 2)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    S = lib.optim.lr_scheduler
    make = {
        "StepLR": lambda: S.StepLR(opt, 3), "MultiStepLR": lambda: S.MultiStepLR(opt, [2, 4]),
        "ExponentialLR": lambda: S.ExponentialLR(opt, 0.9),
        "CosineAnnealingLR": lambda: S.CosineAnnealingLR(opt, 10),
        "LambdaLR": lambda: S.LambdaLR(opt, lambda e: 0.9 ** e),
        "MultiplicativeLR": lambda: S.MultiplicativeLR(opt, lambda e: 0.9),
        "ConstantLR": lambda: S.ConstantLR(opt), "LinearLR": lambda: S.LinearLR(opt),
        "PolynomialLR": lambda: S.PolynomialLR(opt),
        "CosineAnnealingWarmRestarts": lambda: S.CosineAnnealingWarmRestarts(opt, 5),
        "CyclicLR": lambda: S.CyclicLR(opt, 0.01, 0.1),
        "ReduceLROnPlateau": lambda: S.ReduceLROnPlateau(opt, patience=1),
        "SequentialLR": lambda: S.SequentialLR(
            opt, [S.ConstantLR(opt), S.ExponentialLR(opt, 0.9)], [2]),
        "ChainedScheduler": lambda: S.ChainedScheduler(
            [S.ConstantLR(opt), S.ExponentialLR(opt, 0.9)]),
        "OneCycleLR": lambda: S.OneCycleLR(opt, 1.0, total_steps=10),
        "OneCycleLR-three-phase-linear": lambda: S.OneCycleLR(
            opt, 1.0, total_steps=10, three_phase=True, anneal_strategy="linear"),
    }
    return opt, make[name]()


def _step(name, opt, sched, n):
    for _ in range(n):
        opt.step()
        sched.step(1.0) if name == "ReduceLROnPlateau" else sched.step()


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return "<function>" if callable(value) else value


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_is_torchs(name):
    states = []
    for lib in (torch, graphnet):
        opt, sched = _build(lib, name)
        _step(name, opt, sched, 3)
        states.append(_plain(sched.state_dict()))
    assert states[1] == states[0]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", ["OneCycleLR", "OneCycleLR-three-phase-linear", "CyclicLR",
                                  "CosineAnnealingWarmRestarts"])
def test_a_torch_schedulers_state_resumes_in_graphnet(name):
    t_opt, t_sched = _build(torch, name)
    _step(name, t_opt, t_sched, 3)
    g_opt, g_sched = _build(graphnet, name)
    g_sched.load_state_dict(_plain(t_sched.state_dict()))
    g_opt.load_state_dict({"state": {}, "param_groups": [
        {**g, "params": [0, 1]} for g in _plain(t_opt.state_dict()["param_groups"])]})
    _step(name, t_opt, t_sched, 4)
    _step(name, g_opt, g_sched, 4)
    assert g_sched.get_last_lr() == pytest.approx(t_sched.get_last_lr(), rel=1e-12)
    assert g_opt.param_groups[0]["momentum"] == pytest.approx(
        t_opt.param_groups[0]["momentum"], rel=1e-12)


def test_a_state_graphnet_wrote_before_keeps_loading():
    opt, sched = _build(graphnet, "OneCycleLR")
    _step("OneCycleLR", opt, sched, 3)
    state = sched.state_dict()
    old = {k: v for k, v in state.items() if k not in ("_schedule_phases", "_anneal_func_type")}
    old["anneal_strategy"] = "linear"
    old["_phases"] = [tuple(p.values()) for p in state["_schedule_phases"]]
    sched.load_state_dict(old)
    assert sched._anneal_func_type == "linear"
    assert sched._schedule_phases == state["_schedule_phases"]
