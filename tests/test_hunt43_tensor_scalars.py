"""addcmul/addcdiv/addmm/addmv with `value`/`alpha`/`beta` given as 0-d tensors (a step size
kept as a tensor) compile: the code compared them with 1 and 0 in Python, which asked bool()
of a traced tensor. A beta of 0 still ignores NaN in the input, also as a tensor."""

import math

import numpy as np
import pytest
import torch

import graphnet


def _calls(T, s):
    a = T.tensor([1.0, 2.0, 3.0])
    m = T.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 4.0]])
    return [
        a.clone().addcmul_(a, a, value=s),
        T.addcdiv(a, a, a + 1, value=s),
        a.clone().addmv_(m, a, beta=s, alpha=s),
        T.addmm(m, m, m, beta=s, alpha=2 * s),
    ]


@pytest.mark.parametrize("value", [0.5, 1.0, 0.0, -2.0])
def test_tensor_scalars_compile_and_follow_their_value(value):
    want = _calls(torch, torch.tensor(value))
    compiled = graphnet.compile(lambda s: _calls(graphnet, s))
    for got in (_calls(graphnet, graphnet.tensor(value)), compiled(graphnet.tensor(value))):
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6)


@pytest.mark.parametrize("compiled", [False, True])
def test_a_zero_tensor_beta_ignores_nan_in_the_input(compiled):
    def run(T, beta):
        return T.addmm(T.full((2, 2), math.nan), T.ones(2, 2), T.ones(2, 2), beta=beta)
    want = run(torch, torch.tensor(0.0)).tolist()
    fn = graphnet.compile(lambda b: run(graphnet, b)) if compiled else \
        (lambda b: run(graphnet, b))
    got = fn(graphnet.tensor(0.0)).tolist()
    assert got == want == [[2.0, 2.0], [2.0, 2.0]]
