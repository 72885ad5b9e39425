"""Custom autograd Functions in compiled code (the thirty-first session's hunt): torch's
numbers and errors, in dynamic mode and in a compiled call."""

import pytest
import torch

import graphnet as gn


def _functions(lib):
    class Lin(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, g):
            ctx.save_for_backward(x, g)
            return 2 * x * g

        @staticmethod
        def backward(ctx, gg):
            x, g = ctx.saved_tensors
            return 2 * g * gg, 2 * x * gg

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return Lin.apply(x, g)

    class Once(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g

    class KeptInATuple(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.kept = (x.clone(), {"w": w.clone()})
            return x * w

        @staticmethod
        def backward(ctx, g):
            x, rest = ctx.kept
            return g * rest["w"], g * x

    return Square, Once, KeptInATuple


def _second_derivative(lib, x, before):
    square = _functions(lib)[0]
    x = x.clone().requires_grad_()
    g, = lib.autograd.grad(square.apply(before(x)).sum(), x, create_graph=True)
    return lib.autograd.grad((g * g).sum(), x)[0]


def _once_then_backward(lib, x):
    once = _functions(lib)[1]
    x = x.clone().requires_grad_()
    g, = lib.autograd.grad(once.apply(x).sum(), x, create_graph=True)
    (g * x).sum().backward()
    return x.grad


def _kept(lib, x, w):
    kept = _functions(lib)[2]
    x.requires_grad_()
    kept.apply(x, w).sum().backward()
    return x.grad


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("before", ["identity", "sin"])
def test_a_function_called_in_another_functions_backward_is_differentiated(compiled, before):
    pick = (lambda x: x) if before == "identity" else (lambda x: x.sin())
    values = [0.5, 1.0, 2.0]
    expected = _second_derivative(torch, torch.tensor(values), pick)
    fn = (lambda x: _second_derivative(gn, x, pick))
    got = (gn.compile(fn) if compiled else fn)(gn.tensor(values))
    assert got.tolist() == pytest.approx(expected.tolist(), rel=1e-5)


@pytest.mark.parametrize("compiled", [False, True])
def test_once_differentiable_under_create_graph_gives_torchs_constant(compiled):
    expected = _once_then_backward(torch, torch.tensor([1., 2., -3.]))
    fn = (lambda x: _once_then_backward(gn, x))
    got = (gn.compile(fn) if compiled else fn)(gn.tensor([1., 2., -3.]))
    assert got.tolist() == expected.tolist()


@pytest.mark.parametrize("compiled", [False, True])
def test_tensors_kept_on_ctx_in_containers(compiled):
    expected = _kept(torch, torch.tensor([1., 2.]), torch.tensor([3., 4.]))
    fn = (lambda x, w: _kept(gn, x, w))
    got = (gn.compile(fn) if compiled else fn)(gn.tensor([1., 2.]), gn.tensor([3., 4.]))
    assert got.tolist() == expected.tolist()


def test_save_for_backward_names_the_position_of_a_non_tensor():
    class Saves(gn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(TypeError, match="argument 1 is of type int"):
        Saves.apply(gn.ones(6, requires_grad=True))


@pytest.mark.parametrize("compiled", [False, True])
def test_once_differentiable_result_is_a_constant_as_in_torch(compiled):
    once = _functions(gn)[1]

    def only_through_it(x):
        x = x.clone().requires_grad_()
        g, = gn.autograd.grad(once.apply(x).sum(), x, create_graph=True)
        assert not g.requires_grad
        (g * g).sum().backward()

    with pytest.raises(RuntimeError, match="does not require grad"):
        (gn.compile(only_through_it) if compiled else only_through_it)(gn.tensor([1., 2.]))
