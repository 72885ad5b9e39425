"""PyTorch's `out=` argument on every public function whose PyTorch counterpart takes it
(graphnet/_out_argument.py): the result is written into `out`, which is returned, with
PyTorch's dtype, shape, tuple and autograd rules, eagerly and inside a compiled function.
Before, every such call raised a TypeError."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from parity import torch

import graphnet
from graphnet._out_argument import NAMES

CALLS = {
    "add": lambda T, o: T.add(T.tensor([1.0, 2.0]), 3, alpha=2, out=o),
    "mul_into_an_input": lambda T, o: T.mul(o, 3, out=o),
    "cat": lambda T, o: T.cat([T.ones(2), T.zeros(1)], out=o),
    "matmul": lambda T, o: T.matmul(T.ones(2, 3), T.ones(3), out=o),
    "cumsum": lambda T, o: T.cumsum(T.tensor([1.0, 2.0, 3.0]), 0, out=o),
    "where": lambda T, o: T.where(T.tensor([True, False]), T.ones(2), T.zeros(2), out=o),
    "sum": lambda T, o: T.sum(T.ones(2, 2), 0, out=o),
    "linalg.norm": lambda T, o: T.linalg.norm(T.tensor([3.0, 4.0]), out=o),
    "special.expit": lambda T, o: T.special.expit(T.zeros(3), out=o),
    "int_result_into_float": lambda T, o: T.add(T.tensor([1, 2]), 1, out=o),
}


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", list(CALLS))
def test_out_receives_the_result_and_is_returned(name, compiled):
    def run(T, compiled=False):
        out = T.tensor([5.0, 6.0])

        def call(o):
            return CALLS[name](T, o)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # a resized out warns, as in PyTorch
            got = (graphnet.compile(call) if compiled else call)(out)
        assert compiled or got is out
        return np.asarray(out.tolist()), str(out.dtype).split(".")[-1]

    want = run(torch)
    got = run(graphnet, compiled)
    np.testing.assert_allclose(got[0], want[0])
    assert got[1] == want[1]


def test_out_rules_match_torchs():
    for T in (torch, graphnet):
        grad = T.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            T.add(grad, 1, out=T.empty(2))
        with T.no_grad():
            T.add(grad, 1, out=T.empty(2))
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the "
                                               "desired output type Long"):
            T.add(T.ones(2), 1.5, out=T.empty(2, dtype=T.long))
        with pytest.raises(TypeError, match="argument 'out' must be Tensor, not list"):
            T.add(T.ones(2), 1, out=[1])
        with pytest.warns(UserWarning, match="An output with one or more elements was resized"):
            assert tuple(T.add(T.ones(2), 1, out=T.empty(3)).shape) == (2,)
        with warnings.catch_warnings():
            warnings.simplefilter("error")    # an empty out is resized silently
            assert tuple(T.add(T.ones(2), 1, out=T.empty(0)).shape) == (2,)
        values, indices = T.empty(0), T.empty(0, dtype=T.long)
        result = T.max(T.tensor([[1.0, 3.0], [4.0, 2.0]]), 1, out=(values, indices))
        assert result.values is values and result.indices is indices
        assert values.tolist() == [3.0, 4.0] and indices.tolist() == [1, 0]


def test_every_name_with_out_in_torch_takes_it():
    import inspect

    for module, names in NAMES.items():
        for name in names:
            fn = getattr(__import__(module, fromlist=["_"]), name)
            assert getattr(fn, "__out_argument__", False) or \
                "out" in inspect.signature(fn).parameters, f"{module}.{name}"
