"""A `.detach()` / `.data` alias made to require grad gets the gradient of its own uses only,
compiled as eagerly, against torch 2.13. A trace records values, not tensors; before
compiler/autodiff_leaves.py's own values, the uses of such an alias also gave their gradient
to the tensor it came from once the alias was gone (`w.grad` 5 where torch gives 2), without
an error."""

import numpy as np
import pytest
import torch

import graphnet as G


def _np(t):
    return None if t is None else np.asarray(t.detach().numpy())


def _check(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if w is None:
            assert g is None
            continue
        assert g is not None
        np.testing.assert_allclose(_np(g), _np(w), rtol=1e-6, atol=1e-6)


def _cases(T):
    def gone_alias(w):          # the alias is garbage once the expression is built
        ((w * 2).sum() + (w.detach().requires_grad_() * 3).sum()).backward()
        return (w.grad,)

    def gone_data_alias(w):
        ((w * 2).sum() + (w.data.requires_grad_() * w).sum()).backward()
        return (w.grad,)

    def attribute_flag(w):      # `a.requires_grad = True`, not requires_grad_()
        a = w.detach()
        a.requires_grad = True
        ((a * a).sum() + (w * 4).sum()).backward()
        return a.grad, w.grad

    def base_written_between_uses(w):   # the alias sees the new values, stays a leaf
        a = w.detach().requires_grad_()
        y = (a * 2).sum()
        with T.no_grad():
            w.mul_(3)
        (y + (a * a).sum() + (w * 5).sum()).backward()
        return a.grad, w.grad

    def alias_written_between_uses(w):
        a = w.detach().requires_grad_()
        y = (a * 2).sum() + (w * 3).sum()
        with T.no_grad():
            a.add_(1)           # reaches w too: one storage
        (y + (a * w).sum()).backward()
        return a.grad, w.grad

    def history_cut(w):         # gradient penalty style: a leaf on a computed tensor
        h = (w * 3).tanh()
        z = h.detach().requires_grad_()
        (z.square().sum() + h.sum()).backward()
        return z.grad, w.grad

    def grad_wrt_alias(w):
        a = w.detach().requires_grad_()
        return T.autograd.grad((a * w).sum() + (a.exp() * 2).sum(), [a, w])

    def nested_alias(w):        # the alias of an alias
        a = w.detach().requires_grad_()
        b = a.detach().requires_grad_()
        ((a * 2).sum() + (b * 3).sum() + (w * 5).sum()).backward()
        return a.grad, b.grad, w.grad

    return {f.__name__: f for f in (gone_alias, gone_data_alias, attribute_flag,
                                    base_written_between_uses, alias_written_between_uses,
                                    history_cut, grad_wrt_alias, nested_alias)}


_W = np.array([0.5, -1.0, 2.0], np.float32)


def _run(T, name, compiled):
    w = T.nn.Parameter(T.tensor(_W))
    fn = _cases(T)[name]
    step = (lambda: fn(w)) if not compiled else G.compile(lambda: fn(w))
    return step()


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", sorted(_cases(torch)))
def test_alias_leaf_gets_its_own_gradient(name, compiled):
    _check(_run(G, name, compiled), _run(torch, name, False))


def test_a_training_loop_with_a_detached_copy_matches_torch_every_call():
    """A compiled step whose loss also reads a detached leaf of the weight (its gradient
    discarded): the optimizer must see the weight's own gradient on every call."""
    def train(T, compiled):
        lin = T.nn.Linear(3, 2)
        with T.no_grad():
            lin.weight.copy_(T.tensor([[0.3, -0.2, 0.1], [0.5, 0.4, -0.6]]))
            lin.bias.copy_(T.tensor([0.05, -0.1]))
        opt = T.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
        x = T.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))

        def step():
            opt.zero_grad()
            anchor = lin.weight.detach().requires_grad_()
            loss = lin(x).square().mean() + (lin.weight * anchor).sum() * 0.1
            loss.backward()
            opt.step()
            return loss

        run = G.compile(step) if compiled else step
        losses = [float(run()) for _ in range(3)]
        return losses, _np(lin.weight), _np(lin.bias)

    for compiled in (False, True):
        got, want = train(G, compiled), train(torch, False)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got[2], want[2], rtol=1e-5, atol=1e-6)


def test_an_alias_passed_in_keeps_its_own_graph_input():
    """An alias made outside the compiled function and passed in with its base: two graph
    inputs, each leaf its own gradient, on every call."""
    def grads(T, compiled):
        w = T.nn.Parameter(T.tensor(_W))
        a = w.detach().requires_grad_()

        def f(w, a):
            ((w * a).sum() + (a * 2).sum()).backward()
            return w.grad.clone(), a.grad.clone()

        run = G.compile(f) if compiled else f
        out = [run(w, a)]
        w.grad, a.grad = None, None
        out.append(run(w, a))
        return [g for pair in out for g in pair]

    _check(grads(G, True), grads(torch, False))
    _check(grads(G, False), grads(torch, False))
