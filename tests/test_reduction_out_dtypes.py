"""Reductions and scans written into an `out=` of another dtype compute in that dtype, as
PyTorch's out= kernels do (the input cast first: cumsum of [0.6, 0.7] into an int64 out is
[0, 0]); a 16-bit float `dtype=` rounds the input, accumulates in float32 and rounds the
result; diff and F.unfold keep size-0 dims."""

import numpy as np
import pytest
import torch

import graphnet

A = (np.array([[0.6, 0.7, -1.5], [2.2, 0.3, 0.4]], np.float32) * 3)
DTYPES = ("int64", "int32", "int8", "float64", "float16", "bfloat16")


def _values(t):
    return t.float().tolist() if "bfloat16" in str(t.dtype) else t.tolist()


@pytest.mark.parametrize("fn", ["sum", "prod", "cumsum", "cumprod", "nansum"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_out_of_another_dtype(fn, dtype):
    got = []
    for T in (torch, graphnet):
        out = T.zeros(0, dtype=getattr(T, dtype))
        try:
            getattr(T, fn)(T.tensor(A), 1, out=out)
            got.append((_values(out), str(out.dtype).split(".")[-1]))
        except (RuntimeError, NotImplementedError):
            got.append("refused")
    assert got[1] == got[0]


@pytest.mark.parametrize("fn", ["sum", "cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_dtype_accumulates_in_float32(fn, dtype):
    want = _values(getattr(torch, fn)(torch.tensor(A), 1, dtype=getattr(torch, dtype)))
    x = graphnet.tensor(A)
    eager = getattr(graphnet, fn)(x, 1, dtype=getattr(graphnet, dtype))
    static = graphnet.compile(lambda x: getattr(graphnet, fn)(x, 1, dtype=getattr(graphnet,
                                                                                    dtype)))(x)
    assert _values(eager) == want and _values(static) == want


@pytest.mark.parametrize("shape,dim,n", [((0,), 0, 1), ((2, 0), 0, 2), ((0, 3), 0, 1),
                                         ((3, 0), 1, 1)])
def test_diff_over_an_empty_dim(shape, dim, n):
    want = torch.diff(torch.zeros(shape), n=n, dim=dim).shape
    assert tuple(graphnet.diff(graphnet.zeros(shape), n=n, dim=dim).shape) == tuple(want)


def test_unfold_of_an_empty_batch():
    want = torch.nn.functional.unfold(torch.zeros(0, 2, 4, 5), 2).shape
    got = graphnet.nn.functional.unfold(graphnet.zeros(0, 2, 4, 5), 2).shape
    assert tuple(got) == tuple(want) == (0, 8, 12)
    assert tuple(graphnet.nn.Unfold(2)(graphnet.zeros(0, 2, 4, 5)).shape) == (0, 8, 12)


@pytest.mark.parametrize("beta,alpha", [(1, 1), (1, 2), (0, 1), (1, 0), (0, 0)])
@pytest.mark.parametrize("mode", ["eager", "static"])
def test_bool_addr_is_logical(beta, alpha, mode):
    """PyTorch's bool addr: (beta and input) or (alpha and vec1 x vec2), a bool result
    (graphnet gave int64 [[2, 2], [2, 2]] for alpha=2)."""
    def run(T):
        b = T.tensor([[True, False], [False, False]])
        return T.addr(b, T.tensor([True, False]), T.tensor([False, True]), beta=beta,
                      alpha=alpha)
    got = graphnet.compile(lambda: run(graphnet))() if mode == "static" else run(graphnet)
    want = run(torch)
    assert str(got.dtype) == "graphnet.bool" and got.tolist() == want.tolist()


@pytest.mark.parametrize("kw", [{"alpha": 2.5}, {"beta": 0.5}])
def test_integral_addr_refuses_float_scales(kw):
    ones = (torch.ones(2, 2, dtype=torch.long), torch.ones(2, dtype=torch.long))
    with pytest.raises(RuntimeError) as want:
        torch.addr(ones[0], ones[1], ones[1], **kw)
    g = (graphnet.ones(2, 2, dtype=graphnet.long), graphnet.ones(2, dtype=graphnet.long))
    with pytest.raises(RuntimeError) as got:
        graphnet.addr(g[0], g[1], g[1], **kw)
    assert str(got.value) == str(want.value)
