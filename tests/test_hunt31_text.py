"""Sequence-model cases from the thirty-first session's hunt."""

import numpy as np
import pytest
import torch

import graphnet as gn
from graphnet._errors import TraceError

_W = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32) * 2


def _embedding(lib):
    emb = lib.nn.Embedding(4, 3, max_norm=1.0)
    with lib.no_grad():
        emb.weight.copy_(lib.tensor(_W))
    return emb


def test_a_compiled_forward_that_renormalises_a_parameter_refuses_the_outside_backward():
    emb = _embedding(gn)
    out = gn.compile(emb)(gn.tensor([0, 1]))
    with pytest.raises(TraceError, match="parameter weight.*Compile the whole training step"):
        out.sum().backward()      # its .grad stayed None, silently


def test_embedding_max_norm_in_a_compiled_step_trains_as_torch():
    reference, model = _embedding(torch), _embedding(gn)
    opt_t = torch.optim.SGD(reference.parameters(), lr=0.1)
    opt_g = gn.optim.SGD(model.parameters(), lr=0.1)

    def step(ids):
        opt_g.zero_grad()
        loss = (model(ids) ** 2).sum()
        loss.backward()
        opt_g.step()
        return loss

    static = gn.compile(step)
    for ids in ([0, 1], [1, 2], [0, 3]):
        opt_t.zero_grad()
        (reference(torch.tensor(ids)) ** 2).sum().backward()
        opt_t.step()
        static(gn.tensor(ids))
        np.testing.assert_allclose(model.weight.detach().numpy(),
                                   reference.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("compiled", [False, True])
def test_attention_dropout_of_one_gives_zero_gradients(compiled):
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    grads = []
    for lib in (torch, gn):
        lib.manual_seed(0)
        m = lib.nn.MultiheadAttention(4, 2, dropout=1.0, batch_first=True)
        t = lib.tensor(x).requires_grad_()

        def f(t):
            m(t, t, t, need_weights=False)[0].sum().backward()
            return t.grad

        g = gn.compile(f)(t) if compiled and lib is gn else f(t)
        grads.append((g.numpy(), m.in_proj_weight.grad.numpy()))
    for got, expected in zip(grads[1], grads[0]):
        np.testing.assert_array_equal(got, expected)
