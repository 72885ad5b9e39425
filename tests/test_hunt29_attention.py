"""Sequence-model defects found by the twenty-ninth session's hunt, checked against PyTorch.

- nn.MultiheadAttention on PyTorch's fused inference path (eval, no_grad, batch_first
  self-attention, no weights) never reads the `is_causal` hint: it uses the mask as given (and
  needs none). graphnet applied a causal mask there, silently, in both modes.
- LSTMCell given a one-element `hx` leaked a zip() ValueError.
- scaled_dot_product_attention with is_causal and a mask, on 4-D inputs whose values have
  another head size than the queries, computed where PyTorch refuses."""

import numpy as np
import pytest
from parity import torch

import graphnet


def _pair():
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True).eval()
    ours = graphnet.nn.MultiheadAttention(8, 2, batch_first=True).eval()
    ours.load_state_dict({k: graphnet.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    return theirs, ours


@pytest.mark.parametrize("mask", ["none", "all_allowed", "causal"])
def test_fused_path_multihead_attention_ignores_the_causal_hint(mask):
    theirs, ours = _pair()
    x = torch.randn(2, 4, 8)
    masks = {"none": None, "all_allowed": torch.zeros(4, 4, dtype=torch.bool),
             "causal": torch.ones(4, 4, dtype=torch.bool).triu(1)}
    m = masks[mask]
    with torch.no_grad():
        want = theirs(x, x, x, attn_mask=m, is_causal=True, need_weights=False)[0].numpy()
    gx = graphnet.tensor(x.numpy())
    gm = None if m is None else graphnet.tensor(m.numpy())

    def run(a, *mask_arg):
        return ours(a, a, a, attn_mask=mask_arg[0] if mask_arg else None, is_causal=True,
                    need_weights=False)[0]
    args = (gx,) if gm is None else (gx, gm)
    with graphnet.no_grad():
        for fn in (run, graphnet.compile(run)):
            np.testing.assert_allclose(fn(*args).numpy(), want, rtol=1e-5, atol=1e-6)


def test_the_unfused_path_still_trusts_the_hint():
    theirs, ours = _pair()
    x = torch.randn(2, 4, 8, requires_grad=True)   # grad mode: not PyTorch's fused path
    m = torch.zeros(4, 4, dtype=torch.bool)
    want = theirs(x, x, x, attn_mask=m, is_causal=True, need_weights=False)[0]
    gx = graphnet.tensor(x.detach().numpy(), requires_grad=True)
    got = ours(gx, gx, gx, attn_mask=graphnet.tensor(m.numpy()), is_causal=True,
               need_weights=False)[0]
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("states", [1, 3])
def test_lstm_cell_wants_two_hidden_states(states):
    for lib in (torch, graphnet):
        cell = lib.nn.LSTMCell(3, 4)
        with pytest.raises(RuntimeError, match="lstm_cell expects two hidden states"):
            cell(lib.randn(2, 3), (lib.randn(2, 4),) * states)


def test_sdpa_refuses_causal_with_a_mask_when_value_head_size_differs():
    for lib in (torch, graphnet):
        q, k = lib.randn(2, 2, 4, 3), lib.randn(2, 2, 4, 3)
        v, m = lib.randn(2, 2, 4, 5), lib.zeros(4, 4)
        with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal"):
            lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=True)
        same = lib.nn.functional.scaled_dot_product_attention(q, k, k, attn_mask=m,
                                                              is_causal=True)
        assert tuple(same.shape) == (2, 2, 4, 3)
