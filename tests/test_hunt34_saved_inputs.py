"""In-place writes into a tensor an op saved (thirty-fourth session's dynamic-programming
hunt): `logsumexp`, `cumprod`, `amax`, `cdist`, `norm`, `std` ... save their input in
PyTorch, so writing into it before backward (a DP table filled after a cell was read)
raises "modified by an inplace operation". graphnet gave the old values' gradient without
a word, eagerly and compiled. Ops that save no input still differentiate."""

import numpy as np
import pytest
import torch

import graphnet as gn

_ROWS = [[0.6, 0.7, 0.9, 1.1], [1.2, 0.8, 1.3, 0.55], [0.5, 1.4, 0.65, 0.75]]

_SAVES = {
    "logsumexp": lambda L, x: L.logsumexp(x, 1),
    "cumprod": lambda L, x: x.cumprod(1),
    "cummax": lambda L, x: x.cummax(1).values,
    "logcumsumexp": lambda L, x: x.logcumsumexp(1),
    "amax": lambda L, x: x.amax(1),
    "max()": lambda L, x: x.max(),
    "prod": lambda L, x: x.prod(1),
    "norm": lambda L, x: x.norm(dim=1),
    "vector_norm": lambda L, x: L.linalg.vector_norm(x, 3),
    "std": lambda L, x: x.std(1),
    "var": lambda L, x: x.var(),
    "cdist": lambda L, x: L.cdist(x, L.ones(2, 4)),
    "logaddexp": lambda L, x: L.logaddexp(x, L.ones(4)),
    "atan2": lambda L, x: L.atan2(x, L.ones(4)),
    "lgamma": lambda L, x: x.lgamma(),
    "elu": lambda L, x: L.nn.functional.elu(x),
    "normalize": lambda L, x: L.nn.functional.normalize(x),
    "pdist": lambda L, x: L.nn.functional.pdist(x),
}
_FREE = {
    "max(dim)": lambda L, x: x.max(1).values,
    "cumsum": lambda L, x: x.cumsum(1),
    "sort": lambda L, x: x.sort(1).values,
    "median(dim)": lambda L, x: x.median(1).values,
    "mean": lambda L, x: x.mean(),
    "exp": lambda L, x: x.exp(),
}


def _run(L, op, write, compile_=lambda f: f):
    x = L.tensor(_ROWS, requires_grad=True)

    def f(x):
        table = x * 1.0
        out = op(L, table)
        if write == "whole":
            table.add_(1)
        else:
            table[0, 0] = 5.0
        return out.sum()

    loss = compile_(f)(x)
    loss.backward()
    return x.grad


@pytest.mark.parametrize("write", ["whole", "one cell"])
@pytest.mark.parametrize("name", sorted(_SAVES))
@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile], ids=["dynamic", "static"])
def test_a_write_into_a_saved_input_refuses_backward(name, write, compile_):
    with pytest.raises(RuntimeError, match="inplace"):
        _run(torch, _SAVES[name], write)
    with pytest.raises(RuntimeError, match="inplace"):
        _run(gn, _SAVES[name], write, compile_)


@pytest.mark.parametrize("name", sorted(_FREE))
@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile], ids=["dynamic", "static"])
def test_ops_that_save_no_input_still_differentiate(name, compile_):
    expected = _run(torch, _FREE[name], "one cell")
    np.testing.assert_allclose(_run(gn, _FREE[name], "one cell", compile_).numpy(),
                               expected.numpy(), rtol=1e-6)
