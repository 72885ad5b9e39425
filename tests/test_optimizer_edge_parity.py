"""Optimizer corners where graphnet gave other numbers than torch 2.13 without an error: a
group added to Adagrad, a subclass's step calling super().step() (hooks ran twice), a
parameter listed twice in a group, NaN gradients in Rprop and Adafactor. Eager and compiled."""

import warnings

import numpy as np
import pytest
import torch

import graphnet as G

W = np.array([1.0, -2.0, 0.5], np.float32)
GRAD = np.array([0.3, -0.1, 0.2], np.float32)


def _steps(lib, make, compiled, n=2, grads=(GRAD,)):
    p = lib.nn.Parameter(lib.tensor(W))
    opt = make(lib, p)

    def step(g):
        opt.zero_grad()
        (p * g).sum().backward()   # p.grad = g
        opt.step()
    run = G.compile(step) if compiled and lib is G else step
    for i in range(n):
        run(lib.tensor(grads[i % len(grads)]))
    return p.detach().numpy()


def _compare(make, **kw):
    want = _steps(torch, make, False, **kw)
    for compiled in (False, True):
        np.testing.assert_allclose(_steps(G, make, compiled, **kw), want, rtol=1e-5,
                                   atol=1e-6, equal_nan=True)


def test_adagrad_added_group_starts_from_the_default_accumulator():
    def make(lib, p):
        opt = lib.optim.Adagrad([lib.nn.Parameter(lib.tensor(W))], lr=0.1)
        opt.add_param_group({"params": [p], "initial_accumulator_value": 5.0})
        return opt
    _compare(make)


@pytest.mark.parametrize("name, options", [("SGD", dict(lr=0.1)),
                                           ("SGD", dict(lr=0.1, momentum=0.9)),
                                           ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                           ("Adam", dict(lr=0.1)),
                                           ("RMSprop", dict(lr=0.01))])
def test_parameter_listed_twice_is_updated_twice(name, options):
    def make(lib, p):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return getattr(lib.optim, name)([p, p], **options)
    _compare(make, n=3)


def test_subclass_step_runs_the_hooks_once():
    def run(lib):
        class Halving(lib.optim.SGD):
            def step(self, closure=None):
                return super().step(closure)
        p = lib.nn.Parameter(lib.ones(2))
        opt = Halving([p], lr=1.0)
        calls = []

        def pre(o, args, kwargs):
            calls.append(1)
            for q in o.param_groups[0]["params"]:
                q.grad.mul_(0.5)
        opt.register_step_pre_hook(pre)
        p.grad = lib.ones(2)
        opt.step()
        return len(calls), p.detach().numpy()

    n, value = run(G)
    assert n == 1
    np.testing.assert_allclose(value, [0.5, 0.5])


def test_rprop_nan_gradient_skips_only_its_element():
    nan = np.array([0.3, np.nan, 0.2], np.float32)
    _compare(lambda lib, p: lib.optim.Rprop([p], lr=0.05), n=3, grads=(GRAD, nan, GRAD))


def test_adafactor_nan_gradient_spoils_only_its_element():
    nan = np.array([0.3, np.nan, 0.2], np.float32)
    _compare(lambda lib, p: lib.optim.Adafactor([p], lr=0.01), n=1, grads=(nan,))
