"""Compiled autograd where tensors share storage, against torch 2.13: `.detach()` / `.data`
aliases made to require grad (each leaf gets its own gradient: a differentiating op reads
an alias leaf through a value of its own, compiler/autodiff_leaves.py), and `x.data = other` after a forward (the
backward reads the new values where torch's does, compiler/autodiff_data_swap.py)."""

import numpy as np
import pytest
import torch

import graphnet as G


def _numpy(t):
    return None if t is None else np.asarray(t.detach().numpy())


def _check(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if w is None:
            assert g is None
            continue
        np.testing.assert_allclose(_numpy(g), _numpy(w), rtol=1e-6, atol=1e-6)
        assert tuple(g.shape) == tuple(w.shape)


def _run(cases, name, mode, *args):
    fn = cases(G)[name]
    if mode == "compiled":
        fn = G.compile(fn)
    return fn(*[G.tensor(a) for a in args])


# ---- two leaves on one value -----------------------------------------------------------------
def _alias_cases(T):
    def grad_one_used(x):
        a = x.detach().requires_grad_(True)
        b = x.detach().requires_grad_(True)
        return T.autograd.grad((a * 2).sum(), [a, b], allow_unused=True,
                               materialize_grads=True)

    def grad_both_used(x):
        a = x.detach().requires_grad_(True)
        b = x.data.requires_grad_(True)
        return T.autograd.grad((a * 2).sum() + (b * 5).sum(), [a, b])

    def backward_both(x):
        a = x.detach().requires_grad_(True)
        b = x.detach().requires_grad_(True)
        ((a * 2).sum() + (b * 5).sum()).backward()
        return a.grad, b.grad

    def backward_second_only(x):
        a = x.detach().requires_grad_(True)
        b = x.detach().requires_grad_(True)
        (b * 5).sum().backward()
        return a.grad, b.grad

    def leaf_and_its_alias(x):
        w = x.clone().requires_grad_(True)
        a = w.detach().requires_grad_(True)
        ((a * 2).sum() + (w * 5).sum()).backward()
        return a.grad, w.grad

    def alias_of_history(x):    # `z = h.detach().requires_grad_()`: h's history gets nothing
        w = x.clone().requires_grad_(True)
        h = w * 3
        z = h.detach().requires_grad_(True)
        (z * 2).sum().backward()
        return z.grad, w.grad

    return dict(grad_one_used=grad_one_used, grad_both_used=grad_both_used,
                backward_both=backward_both, backward_second_only=backward_second_only,
                leaf_and_its_alias=leaf_and_its_alias, alias_of_history=alias_of_history)


def _separate_cases(T):
    def clones(x):
        a = x.clone().detach().requires_grad_(True)
        b = x.detach().clone().requires_grad_(True)
        return T.autograd.grad((a * 2).sum() + (b * 5).sum(), [a, b])

    def one_alias(x):
        a = x.detach().requires_grad_(True)
        ((a * 2).sum() + (x * 4).sum()).backward()
        return (a.grad,)

    return dict(clones=clones, one_alias=one_alias)


_X = np.arange(3, dtype=np.float32)


@pytest.mark.parametrize("mode", ["eager", "compiled"])
@pytest.mark.parametrize("name", sorted(_alias_cases(torch)))
def test_aliases_made_leaves_match_torch(name, mode):
    want = _alias_cases(torch)[name](torch.tensor(_X))
    _check(_run(_alias_cases, name, mode, _X), want)


@pytest.mark.parametrize("mode", ["eager", "compiled"])
@pytest.mark.parametrize("name", sorted(_separate_cases(torch)))
def test_leaves_with_their_own_values_get_their_own_gradients(name, mode):
    want = _separate_cases(torch)[name](torch.tensor(_X))
    _check(_run(_separate_cases, name, mode, _X), want)


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_a_parameter_detached_twice(mode):
    def grads(T, compile_):
        p = T.nn.Parameter(T.arange(3.))

        def step():
            a = p.detach().requires_grad_(True)
            b = p.detach().requires_grad_(True)
            ((a * 2).sum() + (b * 5).sum() + (p * 7).sum()).backward()
            return a.grad, b.grad, p.grad

        return (G.compile(step) if compile_ else step)()

    _check(grads(G, mode == "compiled"), grads(torch, False))


# ---- `.data = other` after the forward -------------------------------------------------------
def _swap_cases(T):
    def leaf_mul(x):
        w = x.clone().requires_grad_(True)
        y = (w * w).sum()
        w.data = T.full((3,), 2.)
        y.backward()
        return (w.grad,)

    def sin_and_exp(x):        # sin saves its input (new), exp its output (old)
        w = x.clone().requires_grad_(True)
        y = w.sin().sum() + w.exp().sum()
        w.data = T.full((3,), 2.)
        y.backward()
        return (w.grad,)

    def pow_div(x):
        w = x.clone().requires_grad_(True)
        v = (x + 1).requires_grad_(True)
        y = (w ** 3).sum() + (w / v).sum()
        w.data = T.full((3,), 2.)
        v.data = T.full((3,), 4.)
        y.backward()
        return w.grad, v.grad

    def alias_keeps_old(x):    # torch saves the alias, which keeps the old storage
        w = x.clone().requires_grad_(True)
        y = (w * w.detach()).sum()
        w.data = T.full((3,), 2.)
        y.backward()
        return (w.grad,)

    def nonleaf_and_constant(x):
        w = x.clone().requires_grad_(True)
        c = T.ones(3)
        h = w * 2
        y = (h * h).sum() + (w * c).sum()
        h.data = T.full((3,), 5.)
        c.data = T.full((3,), 3.)
        y.backward()
        return (w.grad,)

    def matmul_grad_api(x):
        w = x.reshape(3, 1).clone().requires_grad_(True)
        m = T.ones(2, 3, requires_grad=True)
        y = (m @ w).sum()
        w.data = T.full((3, 1), 2.)
        return T.autograd.grad(y, [m, w])

    def create_graph(x):
        w = x.clone().requires_grad_(True)
        y = (w * w * w).sum()
        w.data = T.full((3,), 2.)
        g, = T.autograd.grad(y, w, create_graph=True)
        return (g,)

    def new_shape_not_read(x):     # `w * 3` saves nothing: the old-shaped gradient
        w = x.clone().requires_grad_(True)
        y = (w * 3).sum()
        w.data = T.full((4,), 2.)
        y.backward()
        return (w.grad,)

    return dict(leaf_mul=leaf_mul, sin_and_exp=sin_and_exp, pow_div=pow_div,
                alias_keeps_old=alias_keeps_old, nonleaf_and_constant=nonleaf_and_constant,
                matmul_grad_api=matmul_grad_api, create_graph=create_graph,
                new_shape_not_read=new_shape_not_read)


@pytest.mark.parametrize("mode", ["eager", "compiled"])
@pytest.mark.parametrize("name", sorted(_swap_cases(torch)))
def test_data_swap_after_forward_reads_what_torch_reads(name, mode):
    want = _swap_cases(torch)[name](torch.tensor(_X))
    _check(_run(_swap_cases, name, mode, _X), want)


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_data_swap_of_a_parameter_in_a_compiled_step_on_every_call(mode):
    def run(T, compile_):
        w = T.nn.Parameter(T.ones(3))

        def step(x):
            y = (w * w * x).sum()
            w.data = x * 2
            y.backward()
            return y

        fn = G.compile(step) if compile_ else step
        out = []
        for k in range(3):
            out += [fn(T.full((3,), float(k + 1))), w.grad.clone(), w.detach().clone()]
        return out

    _check(run(G, mode == "compiled"), run(torch, False))


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_data_swap_read_by_backward_with_another_shape_raises(mode):
    def step():
        w = G.ones(3, requires_grad=True)
        y = (w * w).sum()
        w.data = G.full((4,), 2.)
        y.backward()

    with pytest.raises(RuntimeError, match="replaced after the forward"):
        (G.compile(step) if mode == "compiled" else step)()


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_data_swap_through_an_op_of_unknown_saving_raises(mode):
    def step():
        w = G.ones(2, 3, requires_grad=True)
        y = G.cumprod(w, 1).sum()
        w.data = G.full((2, 3), 2.)
        y.backward()

    with pytest.raises(RuntimeError, match="old or the new values"):
        (G.compile(step) if mode == "compiled" else step)()


def test_a_kept_alias_of_a_swapped_constant_is_refused_compiled():
    def step(x):
        w = x.clone().requires_grad_(True)
        c = G.ones(3)
        kept = c.detach()
        y = (w * c).sum()
        c.data = G.full((3,), 3.)
        y.backward()
        return w.grad, kept

    with pytest.raises(G.TraceError, match="a trace does not record which one"):
        G.compile(step)(G.tensor(_X))
