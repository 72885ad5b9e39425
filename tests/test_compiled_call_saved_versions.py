"""A compiled call's outputs join the eager tape as one node. Its backward must refuse, as
PyTorch's nodes inside would, when a tensor one of them saved was written since the call:
an input an op saved (`x * x`, a Linear's weight after `opt.step()`), or an output an op
saved (`x.exp()`). Writes PyTorch allows (an input only `+` read, a bias, the input of an
op that saves its output) still give PyTorch's gradients. Before, the compiled node
computed from the call's old values with no error."""

import numpy as np
import pytest
from parity import assert_close, torch

import graphnet

X = [1.0, -2.0, 0.5]

CASES = {   # name: (function, what is written after the call)
    "output of exp": (lambda T, x: x.exp(), "out"),
    "output of sigmoid": (lambda T, x: x.sigmoid(), "out"),
    "input of a product": (lambda T, x: x * x, "in"),
    "input through a view": (lambda T, x: x[0] * x[1:], "in"),
    "input of a sum": (lambda T, x: (x + 1).sum() * 2, "in"),
    "input of relu (saves its output)": (lambda T, x: T.relu(x) * 3, "in"),
    "input of exp (saves its output)": (lambda T, x: x.exp(), "in"),
    "output of a sum": (lambda T, x: x + 1, "out"),
}


def _run(T, fn, written, compiled):
    x = T.tensor(X, requires_grad=True)
    f = (lambda x: fn(T, x))
    f = graphnet.compile(f) if compiled else f
    y = f(x)
    with T.no_grad():
        (y if written == "out" else x).add_(1)
    try:
        y.sum().backward()
    except RuntimeError as err:
        return str(err).split(":")[0]
    return np.asarray(x.grad.tolist())


@pytest.mark.parametrize("name", list(CASES))
def test_a_write_after_the_call_raises_where_pytorch_raises(name):
    fn, written = CASES[name]
    want = _run(torch, fn, written, False)
    for compiled in (False, True):
        got = _run(graphnet, fn, written, compiled)
        if isinstance(want, str):
            assert got == want, (compiled, got)
        else:
            assert_close(got, want, atol=1e-6)


def _gan_mistake(T, compiled, modify):
    m = T.nn.Sequential(T.nn.Linear(2, 3), T.nn.Tanh(), T.nn.Linear(3, 1))
    with T.no_grad():
        for i, p in enumerate(m.parameters()):
            p.copy_(T.tensor(np.linspace(-0.5, 0.5 + i, p.numel()).reshape(tuple(p.shape)),
                             dtype=T.float32))
    run = graphnet.compile(m) if compiled else m
    out = run(T.tensor([[1.0, 2.0]]))
    out.sum().backward(retain_graph=True)
    modify(m)
    try:
        (out ** 2).sum().backward()
    except RuntimeError as err:
        return str(err).split(":")[0]
    return np.asarray(m[0].weight.grad.tolist())


MODIFY = {
    "an optimizer step": lambda m: type(m[0].weight).__module__ and _sgd(m),
    "a weight in place": lambda m: _no_grad(m, lambda: m[2].weight.mul_(2)),
    "the last bias in place (not saved)": lambda m: _no_grad(m, lambda: m[2].bias.add_(1)),
}


def _sgd(m):
    T = graphnet if isinstance(m, graphnet.nn.Module) else torch
    T.optim.SGD(m.parameters(), lr=0.1).step()


def _no_grad(m, write):
    T = graphnet if isinstance(m, graphnet.nn.Module) else torch
    with T.no_grad():
        write()


@pytest.mark.parametrize("name", list(MODIFY))
def test_a_step_between_two_backwards_of_a_compiled_forward(name):
    want = _gan_mistake(torch, False, MODIFY[name])
    for compiled in (False, True):
        got = _gan_mistake(graphnet, compiled, MODIFY[name])
        if isinstance(want, str):
            assert got == want, (compiled, got)
        else:
            assert_close(got, want, atol=1e-6)
