"""scaled_dot_product_attention in float16 and bfloat16 computes in float32, as PyTorch's
kernels do: a padding mask of finfo(float16).min no longer swallows the scores of a row
masked out entirely, and large scores keep their steps."""

import numpy as np
import pytest
import torch

import graphnet as gn

F = gn.nn.functional


def _run(q, k, v, mask, dtype, compiled):
    def sdpa(a, b, c, m=None):
        return F.scaled_dot_product_attention(a, b, c, attn_mask=m)

    fn = gn.compile(sdpa) if compiled else sdpa
    args = [gn.tensor(x).to(getattr(gn, dtype)) for x in (q, k, v)]
    if mask is not None:
        args.append(gn.tensor(mask).to(getattr(gn, dtype)))
    return fn(*args).float().numpy()


def _torch(q, k, v, mask, dtype):
    args = [torch.tensor(x).to(getattr(torch, dtype)) for x in (q, k, v)]
    m = None if mask is None else torch.tensor(mask).to(getattr(torch, dtype))
    return torch.nn.functional.scaled_dot_product_attention(*args, attn_mask=m).float().numpy()


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_fully_padded_row_with_a_finfo_min_mask(dtype, compiled):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in
               ((1, 2, 2, 4), (1, 2, 5, 4), (1, 2, 5, 4)))
    low = float(torch.finfo(getattr(torch, dtype)).min)
    mask = np.zeros((2, 5), np.float32)
    mask[0, :] = low             # every key padded: PyTorch keeps the scores' differences
    mask[1, 3:] = low
    want = _torch(q, k, v, mask, dtype)
    got = _run(q, k, v, mask, dtype, compiled)
    tol = 2e-3 if dtype == "float16" else 1.6e-2      # two of the dtype's steps near 0.5
    np.testing.assert_allclose(got, want, atol=tol)
    if dtype == "float16":   # not the plain average of the values, as computed in half
        assert np.abs(got[0, 0, 0] - v[0, 0].mean(0)).max() > 0.05


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_large_scores_keep_their_steps_and_gradients_follow(dtype):
    rng = np.random.default_rng(1)
    q = (rng.standard_normal((1, 1, 3, 64)) * 3 + 30).astype(np.float32)
    k = (rng.standard_normal((1, 1, 4, 64)) * 3 + 30).astype(np.float32)
    v = rng.standard_normal((1, 1, 4, 64)).astype(np.float32)
    want = _torch(q, k, v, None, dtype)
    exact = _torch(q.astype(np.float64), k.astype(np.float64), v.astype(np.float64), None,
                   "float64")
    got = _run(q, k, v, None, dtype, False)
    step = 2e-3 if dtype == "float16" else 1.6e-2
    np.testing.assert_allclose(got, want, atol=step)
    assert np.abs(got - exact).max() <= np.abs(want - exact).max() + step
    qs = gn.tensor(q).to(getattr(gn, dtype)).requires_grad_()
    out = F.scaled_dot_product_attention(qs, gn.tensor(k).to(qs.dtype), gn.tensor(v).to(qs.dtype))
    out.float().sum().backward()
    assert qs.grad.dtype == qs.dtype and np.isfinite(qs.grad.float().numpy()).all()
