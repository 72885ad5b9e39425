"""Attention code's arguments as PyTorch takes them: under bf16 autocast,
scaled_dot_product_attention casts a float32 key and value (a float32 KV cache) before its
dtype check; repeat_interleave refuses a float count (`n_heads / n_kv`) instead of truncating."""
import numpy as np
import pytest
import torch

import graphnet as G


def _sdpa(lib, q, kv, w):
    with lib.autocast("cpu", dtype=lib.bfloat16):
        query = lib.nn.functional.linear(q, w)
        key = value = kv
        return lib.nn.functional.scaled_dot_product_attention(query, key, value,
                                                              is_causal=True)


@pytest.mark.parametrize("static", [False, True])
def test_sdpa_under_autocast_casts_mixed_inputs(static):
    rng = np.random.default_rng(0)
    q = rng.standard_normal((1, 2, 4, 8)).astype(np.float32)
    kv = rng.standard_normal((1, 2, 4, 8)).astype(np.float32)
    w = rng.standard_normal((8, 8)).astype(np.float32) / 3
    want = _sdpa(torch, *map(torch.tensor, (q, kv, w)))
    fn = G.compile(lambda *a: _sdpa(G, *a)) if static else (lambda *a: _sdpa(G, *a))
    got = fn(*map(G.tensor, (q, kv, w)))
    assert got.dtype == G.bfloat16 and want.dtype == torch.bfloat16
    np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), atol=2e-2)


def test_sdpa_without_autocast_still_refuses_mixed_dtypes():
    q = G.ones(1, 2, 3, 4, dtype=G.bfloat16)
    with pytest.raises(RuntimeError, match="same dtype"):
        G.nn.functional.scaled_dot_product_attention(q, G.ones(1, 2, 3, 4), G.ones(1, 2, 3, 4))


@pytest.mark.parametrize("static", [False, True])
@pytest.mark.parametrize("repeats", [2.5, 2.0, True])
def test_repeat_interleave_refuses_non_integer_counts(repeats, static):
    with pytest.raises(TypeError):
        torch.ones(1, 3, 2).repeat_interleave(repeats, dim=1)
    fn = (lambda x: x.repeat_interleave(repeats, dim=1))
    with pytest.raises(TypeError, match="repeat_interleave\\(\\) received an invalid"):
        (G.compile(fn) if static else fn)(G.ones(1, 3, 2))


def test_repeat_interleave_takes_numpy_integers():
    out = G.ones(1, 3, 2).repeat_interleave(np.int64(2), dim=1)
    assert tuple(out.shape) == (1, 6, 2)
