"""Grad modes (no_grad, enable_grad, set_grad_enabled, inference_mode), Variable, gradcheck and
autograd.functional against torch."""

import numpy as np
import pytest
import torch

import graphnet


def test_grad_mode_switches_match_torch():
    for lib in (torch, graphnet):
        x = lib.ones(2, requires_grad=True)

        @lib.no_grad
        def bare(t):
            return t * 2

        @lib.enable_grad()
        def enabled(t):
            return t * 2

        @lib.inference_mode
        def infer(t):
            return t * 2

        assert not bare(x).requires_grad
        with lib.no_grad():
            assert enabled(x).requires_grad
        assert not infer(x).requires_grad
        lib.set_grad_enabled(False)
        assert not lib.is_grad_enabled()
        lib.set_grad_enabled(True)
        with lib.set_grad_enabled(False):
            assert not (x * 2).requires_grad
        assert lib.is_grad_enabled()
        with lib.inference_mode():
            assert lib.is_inference_mode_enabled() and not lib.is_grad_enabled()
            with lib.inference_mode(False):
                assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()
        with lib.no_grad(), lib.inference_mode(False):
            assert lib.is_grad_enabled()
        assert not lib.is_inference_mode_enabled()


@pytest.mark.parametrize("use, error", [
    (lambda t, w: t.requires_grad_(), "Setting requires_grad=True on inference tensor"),
    (lambda t, w: t.add_(1), "Inplace update to inference tensor outside InferenceMode"),
    (lambda t, w: (t * w).sum(), "Inference tensors cannot be saved for backward"),
])
def test_inference_tensors_refuse_autograd_like_torch(use, error):
    for lib in (torch, graphnet):
        w = lib.ones(3, requires_grad=True)
        with lib.inference_mode():
            t = lib.ones(3) * 2
        assert t.is_inference() and lib.is_inference(t) and not (t + 1).is_inference()
        with pytest.raises(RuntimeError, match=error):
            use(t, w)
        assert not (t * lib.ones(3)).requires_grad    # plain use is fine


def test_inference_mode_inside_compile_is_no_grad():
    w = graphnet.ones(3, requires_grad=True)

    @graphnet.compile
    def f(x):
        with graphnet.inference_mode():
            y = x * w
        return y, (x * w)

    y, z = f(graphnet.ones(3))
    assert not y.requires_grad and z.requires_grad


def test_variable_and_accepted_switches():
    for lib in (torch, graphnet):
        t = lib.ones(2, requires_grad=True) * 2
        v = lib.autograd.Variable(t)
        assert isinstance(v, lib.Tensor) and not v.requires_grad and v.tolist() == [2.0, 2.0]
        assert lib.autograd.Variable(lib.ones(1), requires_grad=True).requires_grad
        assert isinstance(t, lib.autograd.Variable)
        with lib.autograd.set_multithreading_enabled(False):
            assert not lib.autograd.is_multithreading_enabled()
        assert lib.autograd.is_multithreading_enabled()
        with lib.autograd.enforce_grad_layout_policy(False):
            pass
    with pytest.raises(NotImplementedError, match="NestedIOFunction"):
        graphnet.autograd.NestedIOFunction()


def test_gradcheck_and_gradgradcheck():
    ag = graphnet.autograd
    x = graphnet.tensor([0.3, -1.2, 2.0], dtype=graphnet.float64, requires_grad=True)
    w = graphnet.tensor([1.5, 0.5, -0.7], dtype=graphnet.float64, requires_grad=True)
    assert ag.gradcheck(lambda a, b: (a.sin() * b).sum(dim=0, keepdim=True) * a, (x, w))
    assert ag.gradgradcheck(lambda a: a.tanh() * a, (x,))

    class Wrong(ag.Function):
        @staticmethod
        def forward(ctx, a):
            return a * a

        @staticmethod
        def backward(ctx, g):
            return g       # should be 2 a g

    with pytest.raises(RuntimeError, match="Jacobian mismatch for output 0"):
        ag.gradcheck(Wrong.apply, (x,))
    assert ag.gradcheck(Wrong.apply, (x,), raise_exception=False) is False


def _np(value):
    if isinstance(value, (tuple, list)):
        return [_np(v) for v in value]
    return value.detach().numpy()


def assert_same(a, b):
    if isinstance(b, (tuple, list)):
        assert isinstance(a, (tuple, list)) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
        return
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-5, atol=1e-6)


FUNCTIONAL = {
    "jacobian": lambda F, t: F.jacobian(lambda a: a.sin() * a, t([0.5, 1.0, -2.0])),
    "jacobian_tuple": lambda F, t: F.jacobian(lambda a, b: (a * b, a.exp().sum()),
                                              (t([0.5, 1.0]), t([[2.0, 3.0], [1.0, 0.5]]))),
    "hessian": lambda F, t: F.hessian(lambda a: (a ** 3).sum() * a[0], t([0.5, 1.0, -2.0])),
    "hessian_tuple": lambda F, t: F.hessian(lambda a, b: (a * b * b).sum(),
                                            (t([0.5, 1.0]), t([2.0, 3.0]))),
    "vjp": lambda F, t: F.vjp(lambda a: a * a, t([1.0, 2.0]), t([1.0, -1.0])),
    "vjp_scalar": lambda F, t: F.vjp(lambda a: (a * a).sum(), t([1.0, 2.0])),
    "jvp": lambda F, t: F.jvp(lambda a: a.sin() * a, t([1.0, 2.0]), t([0.5, -1.0])),
    "hvp": lambda F, t: F.hvp(lambda a: (a ** 3).sum(), t([1.0, 2.0]), t([1.0, 0.5])),
    "vhp": lambda F, t: F.vhp(lambda a, b: (a * a * b).sum(), (t([1.0, 2.0]), t([3.0, 4.0])),
                              (t([1.0, 0.0]), t([0.0, 1.0]))),
}


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_autograd_functional_matches_torch(name):
    want = FUNCTIONAL[name](torch.autograd.functional, torch.tensor)
    got = FUNCTIONAL[name](graphnet.autograd.functional, graphnet.tensor)
    assert_same(got, want)


@pytest.mark.parametrize("name", ["hessian", "jvp", "vhp"])
def test_autograd_functional_inside_compile(name):
    want = FUNCTIONAL[name](torch.autograd.functional, torch.tensor)
    got = graphnet.compile(lambda: FUNCTIONAL[name](graphnet.autograd.functional,
                                                     graphnet.tensor))()
    assert_same(got, want)


def test_function_keyword_arguments_bind_like_torch():
    for lib in (torch, graphnet):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, factor=2.0, shift=0.0):
                ctx.factor = factor
                return x * factor + shift

            @staticmethod
            def backward(ctx, g):
                return g * ctx.factor, None, None

        x = lib.ones(2, requires_grad=True)
        y = Scale.apply(x, shift=1.0, factor=3.0)
        y.sum().backward()
        assert y.tolist() == [4.0, 4.0] and x.grad.tolist() == [3.0, 3.0]
