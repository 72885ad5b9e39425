"""`backward(create_graph=True)` inside a compiled function leaves `.grad`s that keep their
history, as eagerly and in torch (thirty-second session's physics-informed hunt: static mode
wrote them back as plain tensors, so a gradient penalty built on them outside silently lost
its second-order term)."""

import numpy as np
import pytest
import torch

import graphnet as gn

_MODES = [lambda f: f, gn.compile]


@pytest.mark.parametrize("compile_", _MODES)
def test_an_arguments_grad_keeps_its_graph(compile_):
    def penalty_grad(lib, run):
        x = lib.tensor([1., 2.], requires_grad=True)

        def f(x):
            y = (x ** 3).sum()
            y.backward(create_graph=True)
            return y.detach()

        run(f)(x)
        flag = x.grad.requires_grad
        gp, = lib.autograd.grad((x.grad ** 2).sum() + (x ** 2).sum(), x)
        return flag, gp.tolist()

    assert penalty_grad(gn, compile_) == penalty_grad(torch, lambda f: f) == (True, [38., 292.])


def _model_run(lib, run, create_graph):
    m = lib.nn.Linear(3, 2)
    with lib.no_grad():
        m.weight.copy_(lib.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
        m.bias.copy_(lib.tensor([0.1, -0.1]))
    x = lib.tensor([[1., 2., 3.], [-1., 0.5, 2.]])

    def step(x):
        loss = m(x).tanh().pow(2).sum()
        loss.backward(create_graph=create_graph)
        return loss.detach()

    f, out = run(step), []
    for _ in range(2):   # the second call reuses the program
        for p in m.parameters():
            p.grad = None
        f(x)
        flags = [p.grad.requires_grad for p in m.parameters()]
        if create_graph:
            sum((p.grad ** 2).sum() for p in m.parameters()).backward()
        out.append((flags, [p.grad.detach().numpy().copy() for p in m.parameters()]))
    return out


@pytest.mark.parametrize("compile_", _MODES)
@pytest.mark.parametrize("create_graph", [True, False])
def test_parameter_grads_keep_their_graph_only_with_create_graph(compile_, create_graph):
    expected = _model_run(torch, lambda f: f, create_graph)
    got = _model_run(gn, compile_, create_graph)
    for (flags, grads), (want_flags, want) in zip(got, expected):
        assert flags == want_flags == [create_graph] * 2
        for g, w in zip(grads, want):
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
