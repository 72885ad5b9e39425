"""A compiled training step that changes an optimizer's hyper-parameter itself (an lr halved
after `opt.step()`, inline or in a step hook; two steps with two learning rates) updates
with the value each step saw, as eagerly and in PyTorch: a program input is fed with the
value the trace read where it was used, not read again after the code ran."""

import warnings

import numpy as np
import pytest
import torch

import graphnet

CHANGES = {
    "inline": lambda lib, opt: opt.param_groups[0].__setitem__(
        "lr", opt.param_groups[0]["lr"] * 0.5),
    "betas": lambda lib, opt: opt.param_groups[0].__setitem__("betas", (0.8, 0.9)),
}


def _train(lib, compiled: bool, optimizer: str, change: str, calls: int = 3) -> list:
    w = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
    opt = getattr(lib.optim, optimizer)([w], lr=0.1)
    if change == "hook":
        opt.register_step_post_hook(lambda o, args, kwargs: CHANGES["inline"](lib, o))

    def step():
        opt.zero_grad()
        (w * w * lib.tensor([1.0, 3.0])).sum().backward()
        opt.step()
        if change in CHANGES:
            CHANGES[change](lib, opt)

    run = graphnet.compile(step) if compiled else step
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # "changes Python state on every call"
        for _ in range(calls):
            run()
            seen.append(w.detach().numpy().copy())
    return seen


@pytest.mark.parametrize("optimizer,change", [("SGD", "inline"), ("SGD", "hook"),
                                              ("Adam", "hook"), ("Adam", "betas"),
                                              ("RMSprop", "inline")])
def test_a_step_uses_the_value_it_saw_before_the_code_changed_it(optimizer, change):
    expected = _train(torch, False, optimizer, change)
    np.testing.assert_allclose(_train(graphnet, False, optimizer, change), expected,
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_train(graphnet, True, optimizer, change), expected,
                               rtol=1e-6, atol=1e-6)


def _two_lrs(lib, compiled: bool):
    w = lib.nn.Parameter(lib.tensor([1.0]))
    opt = lib.optim.SGD([w], lr=0.1)

    def two_steps():
        for lr in (0.1, 0.2):
            opt.param_groups[0]["lr"] = lr
            opt.zero_grad()
            w.sum().backward()
            opt.step()

    run = graphnet.compile(two_steps) if compiled else two_steps
    run()
    first = w.item()
    opt.param_groups[0]["lr"] = 1.0   # the code sets its own lrs again on the next call
    run()
    return first, w.item()


def test_two_steps_with_two_learning_rates_in_one_compiled_call():
    assert _two_lrs(torch, False) == pytest.approx((0.7, 0.4))
    assert _two_lrs(graphnet, True) == pytest.approx((0.7, 0.4))
    assert _two_lrs(graphnet, False) == pytest.approx((0.7, 0.4))
