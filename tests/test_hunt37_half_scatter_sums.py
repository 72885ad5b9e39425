"""float16/bfloat16 sums by index, as PyTorch's CPU kernels take them: scatter_add,
scatter_reduce's sum and mean, index_add of 2 or more dims and the gradients of gather and
index_select (2 or more dims) add in float32 and round once; 1-d index_add and index_put's
accumulate (the gradient of `x[idx]`) add in the half type. graphnet added all of them in the
half type, so a graph node with 1000 incoming bfloat16 messages of 3.0 had degree 256 and sum
1024 (torch: 1000 and 3008) in both modes. GNN hunt."""

import numpy as np
import pytest
import torch

import graphnet

N = 1000


def _hub(L, dtype):
    """Messages into a hub: 1000 edges into node 0, a few into node 1."""
    rng = np.random.default_rng(0)
    dst = np.where(np.arange(N) % 50 == 0, 1, 0).astype(np.int64)
    msg = (3.0 + rng.normal(0, 0.1, (N, 4))).astype(np.float32)
    t = getattr(L, dtype)
    return L.tensor(dst), L.tensor(msg).to(t), t


CASES = {
    "scatter_add": lambda L, d, m, t: L.zeros(2, 4, dtype=t).scatter_add(
        0, d[:, None].expand(N, 4), m),
    "scatter_add 1-d": lambda L, d, m, t: L.ones(2, dtype=t).scatter_add(0, d, m[:, 0]),
    "scatter_reduce sum": lambda L, d, m, t: L.zeros(2, 4, dtype=t).scatter_reduce(
        0, d[:, None].expand(N, 4), m, "sum"),
    "scatter_reduce mean": lambda L, d, m, t: L.ones(2, 4, dtype=t).scatter_reduce(
        0, d[:, None].expand(N, 4), m, "mean"),
    "scatter_reduce mean, no self": lambda L, d, m, t: L.ones(2, 4, dtype=t).scatter_reduce(
        0, d[:, None].expand(N, 4), m, "mean", include_self=False),
    "index_add": lambda L, d, m, t: L.zeros(2, 4, dtype=t).index_add(0, d, m),
    "index_add 1-d": lambda L, d, m, t: L.zeros(2, dtype=t).index_add(0, d, m[:, 0]),
    "degree": lambda L, d, m, t: L.zeros(2, dtype=t).scatter_add(0, d, L.ones(N, dtype=t)),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_sums_by_index_match_torch(case, dtype):
    want = CASES[case](torch, *_hub(torch, dtype)).float().numpy()
    fn = CASES[case]
    for run in (fn, graphnet.compile(fn)):
        got = run(graphnet, *_hub(graphnet, dtype)).float().numpy()
        np.testing.assert_allclose(got, want, rtol=2 ** -8 if dtype == "bfloat16" else 2 ** -11)


GRADS = {
    "gather": lambda L, w, d: w.gather(0, d[:, None].expand(N, 4)),
    "gather 1-d": lambda L, w, d: w[:, 0].gather(0, d),
    "index_select": lambda L, w, d: w.index_select(0, d),
    "index_select 1-d": lambda L, w, d: w[:, 0].index_select(0, d),
    "getitem": lambda L, w, d: w[d],
}


@pytest.mark.parametrize("case", sorted(GRADS))
def test_half_gradients_of_gathers_match_torch(case):
    results = []
    for L in (torch, graphnet):
        d, _, t = _hub(L, "bfloat16")
        w = L.ones(2, 4, dtype=t, requires_grad=True)
        GRADS[case](L, w, d).sum().backward()
        results.append(w.grad.float().numpy())
    np.testing.assert_array_equal(results[1], results[0])
