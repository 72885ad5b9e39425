"""graphnet.autograd.Function against torch.autograd.Function: the user's backward is the
gradient, eagerly and inside graphnet.compile (a jax.custom_vjp)."""

import numpy as np
import pytest
import torch

import graphnet


def functions(lib):
    """The same custom Functions written against `lib` (torch or graphnet)."""

    class StraightThrough(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return (x > 0).float()

        @staticmethod
        def backward(ctx, g):
            return g

    class GradReverse(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.scale = scale
            return x.view_as(x)

        @staticmethod
        def backward(ctx, g):
            return -ctx.scale * g, None

    class ScaledSquare(lib.autograd.Function):     # setup_context style, saved tensors
        @staticmethod
        def forward(x, w):
            return x * x * w

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            gx = 2 * x * w * g if ctx.needs_input_grad[0] else None
            gw = x * x * g if ctx.needs_input_grad[1] else None
            return gx, gw

    class SortWithIndex(lib.autograd.Function):    # two outputs, one not differentiable
        @staticmethod
        def forward(ctx, x):
            values, index = x.sort()
            ctx.mark_non_differentiable(index)
            ctx.save_for_backward(index)
            return values, index

        @staticmethod
        def backward(ctx, g, g_index):
            (index,) = ctx.saved_tensors
            return lib.zeros_like(g).scatter(0, index, g)

    return StraightThrough, GradReverse, ScaledSquare, SortWithIndex


def program(lib, x, w):
    ste, reverse, square, sort = functions(lib)
    a = ste.apply(x) * w
    b = reverse.apply(x * w, 0.5)
    c = square.apply(x, w)
    values, index = sort.apply(x * w)
    loss = (a * x).sum() + (b * b).sum() + c.sum() + (values * lib.arange(4.0)).sum()
    loss.backward()
    return loss, index


X, WV = [0.5, -1.0, 2.0, -0.3], [1.5, 0.2, -0.7, 1.1]


@pytest.mark.parametrize("mode", ["eager", "static"])
def test_function_matches_torch(mode):
    xt, wt = torch.tensor(X, requires_grad=True), torch.tensor(WV, requires_grad=True)
    want, want_index = program(torch, xt, wt)
    x, w = graphnet.tensor(X, requires_grad=True), graphnet.tensor(WV, requires_grad=True)
    fn = graphnet.compile(lambda x, w: program(graphnet, x, w)) if mode == "static" else \
        (lambda x, w: program(graphnet, x, w))
    got, index = fn(x, w)
    np.testing.assert_allclose(float(got), float(want), rtol=1e-6)
    assert index.tolist() == want_index.tolist() and index.dtype == graphnet.int64
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-5)


def test_function_grad_fn_flags_and_ctx_like_torch():
    for lib in (torch, graphnet):
        ste, reverse, square, sort = functions(lib)
        x = lib.tensor(X, requires_grad=True)
        y = square.apply(x, lib.tensor(WV))
        assert y.requires_grad and type(y.grad_fn).__name__ == "ScaledSquareBackward"
        values, index = sort.apply(x)
        assert values.requires_grad and not index.requires_grad
        assert not square.apply(lib.tensor(X), lib.tensor(WV)).requires_grad
        with lib.no_grad():
            assert not ste.apply(x).requires_grad


def test_function_double_backward_and_materialize_grads():
    for lib in (torch, graphnet):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * x * x * g

        class Pair(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, ga, gb):
                assert gb is None
                return ga * 2

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (g,) = lib.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
        g.sum().backward()
        assert x.grad.tolist() == [6.0, 12.0]
        x.grad = None
        Pair.apply(x)[0].sum().backward()
        assert x.grad.tolist() == [2.0, 2.0]


def test_once_differentiable_and_backward_errors():
    for lib in (torch, graphnet):
        class Once(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g

        class TooMany(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return g, g

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (g,) = lib.autograd.grad(Once.apply(x).sum(), x, create_graph=True)
        assert g.tolist() == [2.0, 4.0]
        # NOTE: torch's g does not require grad; graphnet's does (its sum's VJP is recorded
        # with x as an input), and differentiating it raises once_differentiable's error.
        with pytest.raises(RuntimeError, match="does not require grad|once_differentiable"):
            g.sum().backward()
        with pytest.raises(RuntimeError, match="incorrect number of gradients"):
            TooMany.apply(x).sum().backward()


def shaped(lib, grad_shape):
    class Shaped(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return lib.ones(*grad_shape, dtype=lib.float64)

    return Shaped


@pytest.mark.parametrize("mode", ["eager", "static"])
def test_function_gradient_is_summed_to_the_input_and_cast_like_torch(mode):
    def step(lib, x):
        shaped(lib, (4, 2, 3)).apply(x).sum().backward()

    xt = torch.ones(2, 3, requires_grad=True)
    step(torch, xt)
    x = graphnet.ones(2, 3, requires_grad=True)
    (graphnet.compile(step) if mode == "static" else step)(graphnet, x)
    assert x.grad.dtype == graphnet.float32 and x.grad.tolist() == xt.grad.tolist()
    for lib in (torch, graphnet):
        with pytest.raises(RuntimeError, match="returned an invalid gradient at index 0"):
            shaped(lib, (3, 3)).apply(lib.ones(2, 3, requires_grad=True)).sum().backward()
