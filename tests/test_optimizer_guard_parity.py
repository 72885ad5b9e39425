"""Optimizers as torch 2.13 where they differed: half-precision steps
rounded elsewhere than torch's CPU kernels (compared element by element here), an option
that adds state turned on mid-run (torch: KeyError), a tensor lr of 2 elements (torch's
ValueError), and a tensor lr computed inside a compiled function (a clear TraceError)."""

import warnings

import numpy as np
import pytest
import torch

import graphnet as G
from graphnet._errors import TraceError

N = 2000   # not a multiple of 32: torch's scalar loop over the tail is covered too
_rng = np.random.default_rng(0)
W = _rng.standard_normal(N).astype(np.float32)
GRADS = [_rng.standard_normal(N).astype(np.float32) for _ in range(3)]

CASES = [("Adam", {}), ("Adam", dict(amsgrad=True, weight_decay=0.1)), ("AdamW", {}),
         ("RMSprop", {}), ("RMSprop", dict(momentum=0.9, centered=True, weight_decay=0.1)),
         ("Adagrad", dict(lr_decay=0.01, weight_decay=0.1)), ("Adadelta", dict(weight_decay=0.1)),
         ("Adamax", dict(weight_decay=0.1)), ("NAdam", {}),
         ("NAdam", dict(decoupled_weight_decay=True, weight_decay=0.1)), ("RAdam", {}),
         ("RAdam", dict(decoupled_weight_decay=True, weight_decay=0.1)), ("ASGD", dict(t0=1)),
         ("SGD", dict(momentum=0.9, weight_decay=0.1, nesterov=True)),
         ("SGD", dict(momentum=0.9, dampening=0.1, maximize=True))]


def _trajectory(lib, name, options, dtype, compiled=False):
    p = lib.nn.Parameter(lib.tensor(W).to(getattr(lib, dtype)))
    opt = getattr(lib.optim, name)([p], lr=0.01, **options)

    def step(g):
        opt.zero_grad()
        (p * g).sum().backward()   # p.grad = g exactly
        opt.step()
    run = G.compile(step) if compiled else step
    out = []
    for g in GRADS:
        run(lib.tensor(g).to(getattr(lib, dtype)))
        out.append(p.detach().float().numpy().copy())
    return out


def _assert_bitwise(name, options, dtype, compiled):
    want = _trajectory(torch, name, options, dtype)
    got = _trajectory(G, name, options, dtype, compiled)
    for k, (a, b) in enumerate(zip(got, want)):
        differ = ~((a == b) | (np.isnan(a) & np.isnan(b)))
        assert not differ.any(), f"step {k + 1}: {int(differ.sum())} of {N} elements differ"


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name, options", CASES)
def test_half_precision_step_is_torchs_bit_for_bit(name, options, dtype):
    _assert_bitwise(name, options, dtype, compiled=False)


@pytest.mark.parametrize("name, options", [CASES[1], CASES[4], CASES[9], CASES[12],
                                           CASES[13]])
def test_half_precision_compiled_step_is_torchs_bit_for_bit(name, options):
    _assert_bitwise(name, options, "bfloat16", compiled=True)
    _assert_bitwise(name, options, "float16", compiled=True)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name, options", CASES)
def test_float32_step_is_torchs_within_float32_rounding(name, options, compiled):
    # NOTE: float32 steps use float32 arithmetic (optim/_cpu_ops._native), not the half
    # emulation: XLA fuses some multiply-adds and torch's float32 sqrt (MKL's) is 1 ulp off
    # on ~1 element in 6, so single elements may differ by an ulp or two, never more.
    want = _trajectory(torch, name, options, "float32")
    got = _trajectory(G, name, options, "float32", compiled)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=3e-7, atol=1e-7)


# ---- an option that adds state, turned on after the first step ------------------------------
@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name, options, key, value, missing", [
    ("Adam", {}, "amsgrad", True, "max_exp_avg_sq"),
    ("AdamW", {}, "amsgrad", True, "max_exp_avg_sq"),
    ("RMSprop", {}, "momentum", 0.9, "momentum_buffer"),
    ("RMSprop", {}, "centered", True, "grad_avg")])
def test_option_turned_on_mid_run_raises_torchs_key_error(name, options, key, value, missing,
                                                          compiled):
    def run(lib):
        p = lib.nn.Parameter(lib.ones(3))
        opt = getattr(lib.optim, name)([p], lr=0.1, **options)

        def step():
            opt.zero_grad()
            (p * lib.tensor([1.0, 2.0, 3.0]) if lib is torch else p * G.tensor([1.0, 2.0, 3.0])
             ).sum().backward()
            opt.step()
        run_step = G.compile(step) if compiled and lib is G else step
        run_step()
        opt.param_groups[0][key] = value
        run_step()
    for lib in (torch, G):
        with pytest.raises(KeyError, match=missing):
            run(lib)


@pytest.mark.parametrize("name, options, key, value", [
    ("Adam", dict(amsgrad=True), "amsgrad", False),
    ("RMSprop", dict(momentum=0.9, centered=True), "centered", False),
    ("RMSprop", dict(momentum=0.9), "momentum", 0.0)])
def test_option_turned_off_mid_run_steps_as_torch(name, options, key, value):
    def run(lib, compiled=False):
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0, 0.5]))
        opt = getattr(lib.optim, name)([p], lr=0.1, **options)

        def step(g):
            opt.zero_grad()
            (p * g).sum().backward()
            opt.step()
        run_step = G.compile(step) if compiled else step
        for i in range(3):
            if i == 2:
                opt.param_groups[0][key] = value
            run_step(lib.tensor([0.3, -0.1, 0.2]))
        return p.detach().numpy()
    want = run(torch)
    for compiled in (False, True):
        np.testing.assert_allclose(run(G, compiled), want, rtol=1e-6, atol=1e-7)


# ---- tensor learning rates -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam",
                                  "RAdam", "Adamax", "Adadelta", "ASGD", "Rprop", "Adafactor",
                                  "LBFGS"])
def test_tensor_lr_of_two_elements_is_torchs_value_error(name):
    for lib in (torch, G):
        with pytest.raises(ValueError, match="^Tensor lr must be 1-element$"):
            getattr(lib.optim, name)([lib.nn.Parameter(lib.ones(3))], lr=lib.tensor([0.1, 0.2]))


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr="T", foreach=True), "lr as a Tensor is not supported for capturable=False and "
                                 "foreach=True"),
    (dict(betas=(0, 0.9)), "betas must be either both floats or both Tensors"),
    (dict(betas=("T", 0.9)), "betas must be either both floats or both Tensors")])
def test_adam_tensor_arguments_are_checked_as_torch(kwargs, message):
    for lib in (torch, G):
        made = {"T": lib.tensor(0.5)}
        args = {k: (tuple(made.get(b, b) for b in v) if isinstance(v, tuple) else made.get(v, v))
                for k, v in kwargs.items()}
        with pytest.raises(ValueError, match=message):
            lib.optim.Adam([lib.nn.Parameter(lib.ones(3))], **args)


def test_adam_one_element_tensor_betas_step_as_torch():
    def run(lib):
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0, 0.5]))
        opt = lib.optim.Adam([p], lr=0.1, betas=(lib.tensor([0.8]), lib.tensor([0.99])))
        assert tuple(opt.defaults["betas"][0].shape) == ()   # squeezed, as torch
        for _ in range(2):
            p.grad = lib.tensor([0.3, -0.1, 0.2])
            opt.step()
        return p.detach().numpy()
    np.testing.assert_allclose(run(G), run(torch), rtol=1e-6)


def test_tensor_lr_made_outside_a_compiled_step_is_read_on_every_call():
    def run(lib, compiled):
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0, 0.5]))
        lr = lib.tensor(0.1)
        opt = lib.optim.Adam([p], lr=lr)

        def step(g):
            opt.zero_grad()
            (p * g).sum().backward()
            opt.step()
        run_step = G.compile(step) if compiled else step
        for value in (0.1, 0.05, 0.2):
            with (torch.no_grad() if lib is torch else G.no_grad()):
                lr.fill_(value)
            run_step(lib.tensor([0.3, -0.1, 0.2]))
        return p.detach().numpy()
    want = run(torch, False)
    for compiled in (False, True):
        np.testing.assert_allclose(run(G, compiled), want, rtol=1e-6)


def test_lr_computed_inside_a_compiled_function_is_a_clear_trace_error():
    p = G.nn.Parameter(G.ones(3))
    opt = G.optim.Adam([p], lr=0.1)

    @G.compile
    def step(g, lr):
        opt.param_groups[0]["lr"] = lr * 1
        opt.zero_grad()
        (p * g).sum().backward()
        opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TraceError, match=r"param_groups\[0\]\['lr'\] is a tensor computed "
                                             r"inside the compiled function"):
            step(G.ones(3), G.tensor(0.1))
