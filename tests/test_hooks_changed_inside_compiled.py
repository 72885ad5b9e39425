"""Hooks that the compiled code itself registers or removes. A compiled call runs the program,
not the Python that changes a hook table, so such a trace counts as a Python change
(compiler/tracer.py, `on_hook_table`): the next call runs the code again. Before, the guards
read the tables as the trace left them, and a hook that removed itself after one call kept
acting, or one registered on every step acted once, silently."""

import warnings

import numpy as np
import pytest
from parity import torch

import graphnet


def _run(lib, make_step, calls, compile_it):
    step, x = make_step(lib)
    f = graphnet.compile(step) if compile_it else step
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [np.asarray(f(x).detach().numpy()).tolist() for _ in range(calls)], f


def _forward_hook_once(lib):
    lin = lib.nn.Linear(2, 1, bias=False)
    with lib.no_grad():
        lin.weight.fill_(1.0)
    handle = {}

    def once(module, inputs, output):
        handle["h"].remove()
        return output * 10
    handle["h"] = lin.register_forward_hook(once)
    return (lambda x: lin(x)), lib.ones(1, 2)


def _leaf_hook_once(lib):
    w = lib.nn.Parameter(lib.ones(2))
    handle = {}

    def once(g):
        handle["h"].remove()
        return g * 3
    handle["h"] = w.register_hook(once)

    def step(x):
        w.grad = None
        (w * x).sum().backward()
        return w.grad.clone()
    return step, lib.ones(2)


def _leaf_hook_every_step(lib):
    w = lib.nn.Parameter(lib.ones(2))

    def step(x):
        w.register_hook(lambda g: g * 2)
        w.grad = None
        (w * x).sum().backward()
        return w.grad.clone()
    return step, lib.ones(2)


def _pre_hook_every_step(lib):
    lin = lib.nn.Linear(2, 1, bias=False)
    with lib.no_grad():
        lin.weight.fill_(1.0)
    opt = lib.optim.SGD(lin.parameters(), lr=0.1)

    def step(x):
        lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        opt.zero_grad()
        out = lin(x).sum()
        out.backward()
        opt.step()
        return lin.weight.detach().clone()
    return step, lib.ones(1, 2)


def _step_hook_every_step(lib):
    w = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([w], lr=0.1)

    def halve(optimizer, args, kwargs):
        for group in optimizer.param_groups:
            group["lr"] *= 0.5

    def step(x):
        opt.register_step_post_hook(halve)
        opt.zero_grad()
        (w * x).sum().backward()
        opt.step()
        return w.detach().clone()
    return step, lib.ones(2)


CASES = {"forward hook removes itself": _forward_hook_once,
         "leaf hook removes itself": _leaf_hook_once,
         "leaf hook added each step": _leaf_hook_every_step,
         "forward pre-hook added each step": _pre_hook_every_step,
         "optimizer step hook added each step": _step_hook_every_step}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_hook_table_changed_by_the_compiled_code_acts_as_eagerly(name):
    want, _ = _run(torch, CASES[name], 4, False)
    dynamic, _ = _run(graphnet, CASES[name], 4, False)
    static, _ = _run(graphnet, CASES[name], 4, True)
    np.testing.assert_allclose(dynamic, want, rtol=1e-6)
    np.testing.assert_allclose(static, want, rtol=1e-6)


def test_a_hook_that_removes_itself_compiles_once_more_then_stays():
    _, f = _run(graphnet, _forward_hook_once, 4, True)
    reasons = f.explain()["recompile_reasons"]
    assert len(reasons) == 2, reasons    # the call after the change traces again, then hits


def test_a_hook_registered_and_removed_within_the_step_compiles_once():
    def make(lib):
        w = lib.nn.Parameter(lib.ones(2))

        def step(x):
            h = w.register_hook(lambda g: g * 5)
            w.grad = None
            (w * x).sum().backward()
            h.remove()
            return w.grad.clone()
        return step, lib.ones(2)
    got, f = _run(graphnet, make, 3, True)
    assert got == [[5.0, 5.0]] * 3
    assert f.explain()["recompile_reasons"] == ["first call"]


@pytest.mark.parametrize("compile_it", [False, True])
def test_sgd_starts_a_momentum_buffer_that_is_none(compile_it):
    """Older PyTorch state dicts hold `momentum_buffer: None`; PyTorch starts the buffer
    from the gradient, as on a first step."""
    out = []
    for lib in (torch, graphnet):
        w = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)

        def step(x, w=w, opt=opt):
            opt.zero_grad()
            (w * x).sum().backward()
            opt.step()
            return w.detach().clone()
        f = graphnet.compile(step) if compile_it and lib is graphnet else step
        f(lib.full((2,), 2.0))
        opt.state[w]["momentum_buffer"] = None
        out.append(f(lib.full((2,), 2.0)).numpy())
    np.testing.assert_allclose(out[1], out[0], rtol=1e-6)
    np.testing.assert_allclose(out[1], [0.6, 0.6], rtol=1e-6)
