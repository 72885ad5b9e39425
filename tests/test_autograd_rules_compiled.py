"""Autograd rules that compiled code and eager code must share with PyTorch: a custom
Function's backward run under no_grad / detach, `set_materialize_grads(False)`,
`@once_differentiable`, integer outputs; `backward(gradient)`'s checks; tensors returned by a
step that ran backward() itself; `retain_grad()` then an in-place change; a double backward
through an eager convolution. Each case is run in torch 2.13 as the reference."""

import numpy as np
import pytest
import torch

import graphnet as G

A = np.array([[0.5, -1.0, 1.5]], np.float32)
M = np.array([[0.5, -1.0], [1.5, 2.0]], np.float32)


def _run(lib, compiled, step, *arrays):
    inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
    fn = G.compile(step(lib)) if compiled else step(lib)
    fn(*inputs)
    return [np.asarray(t.grad.detach().numpy()) for t in inputs]


def _both(step, *arrays):
    want = _run(torch, False, step, *arrays)
    for compiled in (False, True):
        got = _run(G, compiled, step, *arrays)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("constant", ["no_grad", "detach", "data"])
def test_function_backward_constants_stay_constant_in_double_backward(constant):
    def step(T):
        class Square(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                if constant == "no_grad":
                    with T.no_grad():
                        s = x.exp()
                else:
                    s = (x.detach() if constant == "detach" else x.data).exp()
                return g * 2 * x * s

        def fn(x):
            (g,) = T.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
            g.sum().backward()
            return g
        return fn

    _both(step, A)   # 2 e^x, not 2 e^x + 2 x e^x


def test_function_set_materialize_grads_false_passes_none():
    def step(T):
        class Two(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                r = 2 * g1
                if g2 is not None:
                    r = r + 3 * g2 + 100
                return r

        def fn(x):
            a, _ = Two.apply(x)
            a.sum().backward()
            return a
        return fn

    _both(step, M)


def test_function_non_differentiable_integer_output_gets_zero_gradient():
    def step(T):
        class Count(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                n = (x > 0).sum()
                ctx.mark_non_differentiable(n)
                return x * 2, n

            @staticmethod
            def backward(ctx, g, g_n):
                return g * 2 + g_n.sum()

        def fn(x):
            a, _ = Count.apply(x)
            a.sum().backward()
            return a
        return fn

    _both(step, M)


def test_once_differentiable_refuses_a_compiled_double_backward():
    class Once(G.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.exp()

        @staticmethod
        @G.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.exp()

    def fn(x):
        (g,) = G.autograd.grad(Once.apply(x).sum(), x, create_graph=True)
        (g * g).sum().backward()
        return g

    with pytest.raises(RuntimeError, match="once_differentiable|does not require grad"):
        G.compile(fn)(G.tensor(A, requires_grad=True))
    # differentiated once, it computes
    x = G.tensor(A, requires_grad=True)
    G.compile(lambda x: Once.apply(x).sum().backward())(x)
    np.testing.assert_allclose(x.grad.numpy(), np.exp(A), rtol=1e-6)


@pytest.mark.parametrize("compiled", [False, True])
def test_backward_gradient_is_cast_and_shape_checked(compiled):
    def run(lib, grad):
        x = lib.tensor(M, requires_grad=True)

        def fn(x):
            x.sin().backward(grad)
            return x.grad
        return (G.compile(fn) if compiled and lib is G else fn)(x).numpy()

    want = run(torch, torch.ones(2, 2, dtype=torch.float64))
    np.testing.assert_allclose(run(G, G.ones(2, 2, dtype=G.float64)), want, rtol=1e-6)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape"):
        run(G, G.ones(2))


def test_tensors_returned_by_a_step_that_ran_backward_keep_their_history():
    def run(lib, compiled):
        w1 = lib.tensor(M, requires_grad=True)
        w2 = lib.tensor(M * 0.5, requires_grad=True)

        def step(x):
            (x @ w1).sum().backward()
            return (x @ w2).tanh()
        z = (G.compile(step) if compiled else step)(lib.tensor(M))
        (z.sum() + (w2 ** 2).sum()).backward()
        return z.requires_grad, w1.grad.numpy(), w2.grad.numpy()

    want = run(torch, False)
    for compiled in (False, True):
        rg, g1, g2 = run(G, compiled)
        assert rg
        np.testing.assert_allclose(g1, want[1], rtol=1e-5)
        np.testing.assert_allclose(g2, want[2], rtol=1e-5)


def test_loss_kept_with_retain_graph_backpropagates_again_after_the_call():
    def run(lib, compiled):
        w = lib.tensor(M, requires_grad=True)

        def step(x):
            y = (x @ w).tanh().sum()
            y.backward(retain_graph=True)
            return y
        (G.compile(step) if compiled else step)(lib.tensor(M)).backward()
        return w.grad.numpy()

    want = run(torch, False)
    np.testing.assert_allclose(run(G, True), want, rtol=1e-5)
    np.testing.assert_allclose(run(G, False), want, rtol=1e-5)


def test_training_step_returning_its_loss_still_donates():
    model = G.nn.Linear(2, 2)
    opt = G.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def train(x):
        opt.zero_grad()
        loss = model(x).pow(2).sum()
        loss.backward()
        opt.step()
        return loss
    f = G.compile(train)
    for _ in range(3):
        loss = f(G.tensor(M))
    artifact = f.compiled.artifacts[-1] if hasattr(f, "compiled") else f.artifacts[-1]
    # the loss shows its freed history as PyTorch's (tests/test_compiled_step_loss.py)
    assert loss.grad_fn.name() == "SumBackward0" and not artifact.records_tape
    assert artifact.donated


def test_retain_grad_follows_an_in_place_change():
    def run(lib):
        x = lib.tensor(M, requires_grad=True)
        h = x * 2
        h.retain_grad()
        h.mul_(3)
        (h ** 2).sum().backward()
        k = lib.tensor(M, requires_grad=True) * 2
        k.retain_grad()
        k[1:].mul_(5)
        (k ** 2).sum().backward()
        return h.grad.numpy(), k.grad.numpy()

    for got, want in zip(run(G), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_eager_double_backward_through_conv2d():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)

    def run(lib):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        out = lib.nn.functional.conv2d(xt, wt, padding=1)
        (g,) = lib.autograd.grad(out.pow(2).sum(), xt, create_graph=True)
        (g.norm() ** 2).backward()
        return wt.grad.numpy()

    np.testing.assert_allclose(run(G), run(torch), rtol=1e-4, atol=1e-3)
