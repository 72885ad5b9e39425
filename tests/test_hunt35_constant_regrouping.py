"""Compiled arithmetic with numbers rounds as PyTorch and eager mode do: XLA's algebraic
simplifier regrouped chains of it (`(x + 1e8) - 1e8` compiled to `x`, `1 - x + 1e-7` to
`1.0000001 - x`, `(x * 2 - 1 + 1) / 2` lost x = 1e-9), each a silent change of rounding.
The lowering keeps each such result from the rewrite (compiler/lower.py `_REGROUPED`)."""

import numpy as np
import pytest
import torch

import graphnet

X = [1e-9, 3e-8, 0.25, 1.0, 3.0]
CASES = {
    "add_sub": lambda L, x: (x + 1e8) - 1e8,
    "mul_chain": lambda L, x: x * 1e30 * 1e30 * 1e-30,
    "round_trip": lambda L, x: (x * 2 - 1 + 1) / 2,
    "rsub_add": lambda L, x: 1 - x + 1e-7,
    "neg_chain": lambda L, x: -(-x + 1e8) + 1e8,
    "log_eps": lambda L, x: L.log(1 - x * 0.25 + 1e-7),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_compiled_arithmetic_with_numbers_equals_torch(name):
    fn = CASES[name]
    want = fn(torch, torch.tensor(X)).numpy()
    eager = fn(graphnet, graphnet.tensor(X)).numpy()
    compiled = graphnet.compile(lambda x: fn(graphnet, x))(graphnet.tensor(X)).numpy()
    np.testing.assert_array_equal(eager, want)
    np.testing.assert_array_equal(compiled, want)


def test_gradients_through_the_kept_results():
    grads = []
    for lib, compiled in ((torch, False), (graphnet, True)):
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)

        def step(x):
            y = ((w * 2 - 1 + 1) / 2 * x + 1e-7).pow(2).sum()
            y.backward()
            return y

        if compiled:
            step = graphnet.compile(step)
        step(lib.tensor([1.0, 2.0, 3.0]))
        grads.append(w.grad.tolist())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6)
