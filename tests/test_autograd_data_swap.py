"""Autograd edge cases checked against torch 2.13: `x.data = other` after a forward that
saved `x` (the backward reads the new values where PyTorch's does), gradients that reach a
tensor as None (a module backward pre-hook returning `(None,)`, a Function returning None),
hooks returning a non-tensor, and BatchNorm's count of a refused batch of one."""

import numpy as np
import pytest
import torch

import graphnet as G


def _close(got, want):
    if want is None:
        assert got is None
        return
    np.testing.assert_allclose(np.asarray(got.detach().numpy()), want.detach().numpy(),
                               rtol=1e-6, atol=1e-7)


def _swap_cases(T):
    def leaf_mul():
        w = T.ones(3, requires_grad=True)
        y = (w * w).sum()
        w.data = T.full((3,), 2.)
        y.backward()
        return [w.grad]

    def leaf_sin():      # saves its input: cos(new)
        w = T.ones(3, requires_grad=True)
        y = w.sin().sum()
        w.data = T.full((3,), 2.)
        y.backward()
        return [w.grad]

    def leaf_exp():      # saves its output: exp(old)
        w = T.ones(3, requires_grad=True)
        y = w.exp().sum()
        w.data = T.full((3,), 2.)
        y.backward()
        return [w.grad]

    def output_sigmoid():
        w = T.zeros(3, requires_grad=True)
        e = w.sigmoid()
        y = e.sum()
        e.data = T.full((3,), 2.)
        y.backward()
        return [w.grad]

    def nonleaf_input():
        w = T.ones(3, requires_grad=True)
        h = w * 2
        y = (h * h).sum()
        h.data = T.full((3,), 5.)
        y.backward()
        return [w.grad]

    def constant_other():
        w = T.ones(3, requires_grad=True)
        x = T.ones(3)
        y = (w * x).sum()
        x.data = T.full((3,), 2.)
        y.backward()
        return [w.grad]

    def scalar_factor_new_shape():     # `w * 3` saves nothing of w
        w = T.ones(3, requires_grad=True)
        y = (w * 3).sum()
        w.data = T.full((4,), 2.)
        y.backward()
        return [w.grad]

    def matmul_both():
        w = T.ones(2, 2, requires_grad=True)
        x = T.ones(2, 2, requires_grad=True)
        y = (w @ x).sum()
        w.data = T.full((2, 2), 2.)
        y.backward()
        return [w.grad, x.grad]

    def linear_input():  # the weight is saved as a view (old), a matrix input itself (new)
        W = T.ones(1, 2, requires_grad=True)
        x = T.ones(1, 2, requires_grad=True)
        y = T.nn.functional.linear(x, W).sum()
        x.data = T.full((1, 2), 3.)
        W2 = T.ones(1, 2, requires_grad=True)
        y2 = T.nn.functional.linear(x, W2).sum()
        W2.data = T.full((1, 2), 3.)
        (y + y2).backward()
        return [W.grad, x.grad, W2.grad]

    def div_pow():
        w = T.ones(3, requires_grad=True)
        x = T.ones(3, requires_grad=True)
        y = (w / x).sum() + (w ** 3).sum()
        x.data = T.full((3,), 2.)
        w.data = T.full((3,), 2.)
        y.backward()
        return [w.grad, x.grad]

    def retained_second_backward():
        w = T.ones(3, requires_grad=True)
        y = (w * w).sum()
        y.backward(retain_graph=True)
        w.data = T.full((3,), 2.)
        y.backward()
        return [w.grad]

    def autograd_grad():
        w = T.ones(3, requires_grad=True)
        y = (w * w).sum()
        w.data = T.full((3,), 2.)
        return list(T.autograd.grad(y, w))

    def create_graph():
        w = T.ones(3, requires_grad=True)
        y = (w * w * w).sum()
        w.data = T.full((3,), 2.)
        g, = T.autograd.grad(y, w, create_graph=True)
        return [g]

    return dict(leaf_mul=leaf_mul, leaf_sin=leaf_sin, leaf_exp=leaf_exp,
                output_sigmoid=output_sigmoid, nonleaf_input=nonleaf_input,
                constant_other=constant_other, scalar_factor_new_shape=scalar_factor_new_shape,
                matmul_both=matmul_both, linear_input=linear_input, div_pow=div_pow,
                retained_second_backward=retained_second_backward,
                autograd_grad=autograd_grad, create_graph=create_graph)


@pytest.mark.parametrize("case", sorted(_swap_cases(torch)))
def test_data_swap_after_forward_reads_what_torch_reads(case):
    want = _swap_cases(torch)[case]()
    got = _swap_cases(G)[case]()
    assert len(got) == len(want)
    for g, w in zip(got, want):
        _close(g, w)


@pytest.mark.parametrize("new", [(4,), "float64"])
def test_data_swap_of_another_shape_or_dtype_read_by_backward_raises(new):
    w = G.ones(3, requires_grad=True)
    y = (w * w).sum()
    w.data = G.full(new, 2.) if new != "float64" else G.full((3,), 2., dtype=G.float64)
    with pytest.raises(RuntimeError, match="replaced after the forward"):
        y.backward()


def test_data_swap_through_an_op_of_unknown_saving_raises():
    w = G.ones(2, 3, requires_grad=True)
    y = G.cumprod(w, 1).sum()
    w.data = G.full((2, 3), 2.)
    with pytest.raises(RuntimeError, match="old or the new values"):
        y.backward()


def _pre_hook_cases(T):
    def linear_none():
        m = T.nn.Linear(3, 2)
        m.register_full_backward_pre_hook(lambda mod, go: (None,))
        seen = []
        m.register_full_backward_hook(lambda mod, gi, go: seen.append(gi[0].clone()))
        x = T.ones(1, 3, requires_grad=True)
        m(x).sum().backward()
        return [x.grad, m.weight.grad, seen[0]]

    def two_outputs_none():
        class Two(T.nn.Module):
            def forward(self, x):
                return x * 2, x * 3
        m = Two()
        m.register_full_backward_pre_hook(lambda mod, go: (None, None))
        x = T.ones(3, requires_grad=True)
        a, b = m(x)
        (a + b).sum().backward()
        return [x.grad]

    def grad_api():
        m = T.nn.Linear(3, 2)
        m.register_full_backward_pre_hook(lambda mod, go: (None,))
        x = T.ones(1, 3, requires_grad=True)
        return list(T.autograd.grad(m(x).sum(), x))

    def function_returns_none_then_function():
        class NoneGrad(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return None

        class Same(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.clone()

            @staticmethod
            def backward(ctx, g):
                return g * 1

        x = T.ones(3, requires_grad=True)
        NoneGrad.apply(Same.apply(x)).sum().backward()
        z = T.ones(3, requires_grad=True)
        NoneGrad.apply(z * 3).sum().backward()
        return [x.grad, z.grad]

    return dict(linear_none=linear_none, two_outputs_none=two_outputs_none,
                grad_api=grad_api,
                function_returns_none_then_function=function_returns_none_then_function)


@pytest.mark.parametrize("case", sorted(_pre_hook_cases(torch)))
def test_a_none_gradient_reaches_functions_as_zeros_as_in_torch(case):
    want = _pre_hook_cases(torch)[case]()
    got = _pre_hook_cases(G)[case]()
    for g, w in zip(got, want):
        _close(g, w)


def _none_grad(T):
    class NoneGrad(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return None

    return NoneGrad


def test_hooks_see_none_where_torch_calls_them_with_none():
    for lib in (torch, G):
        x = lib.ones(3, requires_grad=True)
        h = x * 3
        seen = []
        x.register_hook(lambda g: seen.append(("leaf", g)))
        h.register_hook(lambda g: seen.append(("h", g)))
        x.register_post_accumulate_grad_hook(lambda t: seen.append(("post", t.grad)))
        _none_grad(lib).apply(h).sum().backward()
        assert seen == [("h", None), ("leaf", None), ("post", None)] and x.grad is None
        x = lib.ones(3, requires_grad=True)
        x.register_hook(lambda g: lib.ones(3))
        with pytest.raises(RuntimeError, match="can't replace a None gradient"):
            _none_grad(lib).apply(x).sum().backward()


@pytest.mark.parametrize("compiled", [False, True])
def test_hook_returning_a_tuple_raises_torchs_type_error(compiled):
    with pytest.raises(TypeError, match="expected Variable, but hook returned 'tuple'"):
        x = torch.ones(3, requires_grad=True)
        x.register_hook(lambda g: (None,))
        (x * 2).sum().backward()
    w = G.nn.Parameter(G.ones(3))
    w.register_hook(lambda g: (None,))

    def step():
        (w * 2).sum().backward()

    with pytest.raises(TypeError, match="expected Variable, but hook returned 'tuple'"):
        (G.compile(step) if compiled else step)()


def test_post_accumulate_hook_returning_a_non_tensor_raises_torchs_type_error():
    for lib in (torch, G):
        x = lib.ones(3, requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda t: 3)
        with pytest.raises(TypeError, match="expected Variable, but hook returned 'int'"):
            (x * 2).sum().backward()


def _batchnorm_state(lib, compiled):
    lib.manual_seed(0)
    bn = lib.nn.BatchNorm1d(3)
    opt = lib.optim.SGD(bn.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = bn(x).sum()
        loss.backward()
        opt.step()
        return loss

    run = G.compile(step) if compiled else step
    run(lib.tensor(np.arange(12, dtype=np.float32).reshape(4, 3)))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        run(lib.ones(1, 3))
    return bn


@pytest.mark.parametrize("compiled", [False, True])
def test_batchnorm_counts_a_refused_batch_of_one_as_torch(compiled):
    want = _batchnorm_state(torch, False)
    got = _batchnorm_state(G, compiled)
    assert int(got.num_batches_tracked) == int(want.num_batches_tracked) == 2
    assert got.num_batches_tracked.dtype == G.int64
    for name in ("running_mean", "running_var"):
        _close(getattr(got, name), getattr(want, name))
