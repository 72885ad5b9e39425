"""Two argument rules of PyTorch's: `cat` skips a legacy empty tensor (shape [0]) for the
shapes but not for the dtype (`cat([zeros(0), int_tensor])` is float32; graphnet gave int64),
and `norm(..., dtype=)` computes in that dtype (graphnet raised a TypeError)."""

from __future__ import annotations

import numpy as np
import pytest
from parity import torch

import graphnet

CASES = {
    "cat_float_empty_and_ints": lambda T: T.cat([T.zeros(0), T.tensor([1, 2])]),
    "cat_double_empty_and_floats": lambda T: T.cat([T.tensor([1.5]),
                                                    T.zeros(0, dtype=T.float64)]),
    "cat_only_empties": lambda T: T.cat([T.zeros(0), T.zeros(0, dtype=T.int64)]),
    "norm_half_in_float32": lambda T: T.norm(T.tensor([3.0, 4.0], dtype=T.float16), dim=0,
                                             dtype=T.float32),
    "tensor_norm_dtype": lambda T: T.tensor([[1.0, 2.0], [2.0, 1.0]]).norm(
        dim=1, dtype=T.float64),
}


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name, compiled):
    want = CASES[name](torch)
    run = graphnet.compile(lambda: CASES[name](graphnet)) if compiled else \
        (lambda: CASES[name](graphnet))
    got = run()
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(np.asarray(got.tolist()), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("kwargs", [dict(p="nuc"), dict(p="nuc", keepdim=True),
                                    dict(p="nuc", dim=(1, 0))], ids=str)
def test_norm_nuc_is_the_nuclear_matrix_norm(kwargs, compiled):
    x = np.random.RandomState(3).randn(3, 4).astype(np.float32)
    t = torch.tensor(x, requires_grad=True)
    want = torch.norm(t, **kwargs)
    want.sum().backward()
    g = graphnet.tensor(x, requires_grad=True)
    fn = (lambda v: graphnet.norm(v, **kwargs))
    got = (graphnet.compile(fn) if compiled else fn)(g)
    got.sum().backward()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_norm_nuc_needs_two_dims_as_pytorch():
    for lib in (torch, graphnet):
        with pytest.raises(RuntimeError, match="dim must be a 2-tuple"):
            lib.norm(lib.ones(2, 3, 4), p="nuc")
        with pytest.raises(RuntimeError, match="dim must be a 2-tuple"):
            lib.norm(lib.ones(2, 3), p="nuc", dim=1)
