"""Custom autograd.Function, compiled (thirty-third session's custom-Function hunt): a
tensor the backward reads from outside `ctx` (a closure, a global, a module kept on `ctx`)
is an input of the program, so each call reads its current values (the program kept the
trace's: a weight read in the backward stayed at its first value); and after
`ctx.set_materialize_grads(False)` an argument whose backward gets None and returns None
keeps a None `.grad` (it got zeros, and weight decay moved it)."""

import pytest
import torch

import graphnet as gn


def _closure_scale(T, compiled):
    scale = T.tensor([2.0, 3.0])

    class Scaled(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            return g * scale

    x = T.ones(2, requires_grad=True)

    def step(x):
        x.grad = None
        Scaled.apply(x).sum().backward()
        return x.grad

    step = gn.compile(step) if compiled else step
    out = []
    for _ in range(4):
        out.append(step(x).tolist())
        with T.no_grad():
            scale.add_(1)
    return out


def test_a_closure_tensor_read_by_backward_is_read_each_call():
    assert _closure_scale(gn, True) == _closure_scale(torch, False)
    assert _closure_scale(gn, False) == _closure_scale(torch, False)


class _Holder:
    pass


def _module_on_ctx(T, compiled):
    lin = T.nn.Linear(2, 2, bias=False)
    with T.no_grad():
        lin.weight.copy_(T.tensor([[1.0, 2.0], [3.0, 4.0]]))

    class ThroughW(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, m):
            ctx.m = m
            return x @ m.weight.t()

        @staticmethod
        def backward(ctx, g):
            return g @ ctx.m.weight, None

    x = T.nn.Parameter(T.ones(1, 2))
    opt = T.optim.SGD([x, lin.weight], lr=0.5)

    def step():
        opt.zero_grad()
        (ThroughW.apply(x, lin) + lin.weight.sum()).sum().backward()
        opt.step()

    step = gn.compile(step) if compiled else step
    for _ in range(3):
        step()
    return x.detach().tolist(), lin.weight.detach().tolist()


def test_a_module_on_ctx_read_by_backward_follows_the_optimizer():
    assert _module_on_ctx(gn, True) == _module_on_ctx(torch, False)


def _unmaterialized(T, mode):
    class Pair(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.set_materialize_grads(False)
            return x * 2, y * 3

        @staticmethod
        def backward(ctx, ga, gb):
            return (None if ga is None else ga * 2), (None if gb is None else gb * 3)

    x = T.nn.Parameter(T.ones(3))
    y = T.nn.Parameter(T.ones(3))
    opt = T.optim.SGD([x, y], lr=0.1, weight_decay=0.5)

    def step():
        opt.zero_grad()
        a, b = Pair.apply(x, y)
        a.sum().backward()
        opt.step()

    if mode == "forward":
        opt.zero_grad()
        a, b = gn.compile(lambda x, y: Pair.apply(x, y))(x, y)
        a.sum().backward()
        opt.step()
    else:
        (gn.compile(step) if mode == "step" else step)()
    return x.detach().tolist(), y.grad, y.detach().tolist()


@pytest.mark.parametrize("mode", ["eager", "step", "forward"])
def test_unreached_output_without_materialized_grads_leaves_grad_none(mode):
    assert _unmaterialized(gn, mode) == _unmaterialized(torch, "eager")


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
def test_a_backward_returning_a_list_is_one_gradient_as_torch(compile_):
    class Pair(gn.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return [g, None]

    x, y = gn.ones(2, requires_grad=True), gn.ones(2)

    def step(x, y):
        Pair.apply(x, y).sum().backward()

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        compile_(step)(x, y)
