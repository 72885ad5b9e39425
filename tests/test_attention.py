"""Embedding, scaled_dot_product_attention, MultiheadAttention and TransformerEncoderLayer
against PyTorch: values and gradients in dynamic and static mode, masks, reprs, state_dict."""

import numpy as np
import pytest
from parity import assert_close, check_module, np_of, to_gn, to_torch, torch

import graphnet
from graphnet import nn
from graphnet.nn import functional as F

rng = np.random.default_rng(0)
N, L, S, E, HEADS = 2, 4, 5, 8, 2  # batch, target length, source length, embed dim, heads


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def pair(make):
    """`make(nn_module)` builds the same model from graphnet.nn and torch.nn."""
    return make(nn), make(torch.nn)


def wrapped(forward, make):
    """Both libraries' versions of a model whose forward is `forward(self, lib, *inputs)`,
    with the layer under test at attribute `layer` (so parameter names match)."""
    def build(lib_nn, lib):
        class Wrap(lib_nn.Module):
            def __init__(self):
                super().__init__()
                self.layer = make(lib_nn)

            def forward(self, *inputs):
                return forward(self, lib, *inputs)
        return Wrap()
    return build(nn, graphnet), build(torch.nn, torch)


def padding_mask(batch=N, length=S):
    mask = np.zeros((batch, length), bool)
    mask[0, -2:] = True  # the first sequence has two padding positions
    return mask


def causal_bool(length=L, source=S):
    return np.triu(np.ones((length, source), bool), k=1)  # True = masked out (MHA convention)


# ---- Embedding ---------------------------------------------------------------------------------
def test_embedding_parity_padding_row_gets_no_grad():
    ours, theirs = pair(lambda m: m.Embedding(10, 3, padding_idx=0))
    indices = np.array([[1, 0, 4, 4], [9, 0, 2, 1]])
    check_module(ours, theirs, [indices])
    assert np.all(np_of(ours.weight.grad)[0] == 0)
    assert np.abs(np_of(ours.weight.grad)[4]).sum() > 0


def test_embedding_repr_init_and_errors():
    emb = nn.Embedding(10, 3, padding_idx=0)
    assert repr(emb) == repr(torch.nn.Embedding(10, 3, padding_idx=0)) == \
        "Embedding(10, 3, padding_idx=0)"
    assert repr(nn.Embedding(10, 3)) == "Embedding(10, 3)"
    assert nn.Embedding(10, 3, padding_idx=-1).padding_idx == 9
    assert np.all(np_of(emb.weight)[0] == 0) and np_of(emb.weight)[1:].std() > 0.5
    with pytest.raises(IndexError, match="out of range"):
        emb(graphnet.tensor([3, 10]))
    with pytest.raises(IndexError, match="out of range"):
        emb(graphnet.tensor([-1]))
    with pytest.raises(TypeError, match="long"):
        emb(graphnet.tensor([1.0]))
    with pytest.raises(ValueError, match="Padding_idx"):
        nn.Embedding(10, 3, padding_idx=10)


def test_embedding_from_pretrained_is_frozen():
    weights = to_gn(arr(4, 3))
    emb = nn.Embedding.from_pretrained(weights)
    assert not emb.weight.requires_grad
    assert_close(emb(graphnet.tensor([2])), np_of(weights)[[2]])


# ---- scaled_dot_product_attention ---------------------------------------------------------------
SDPA_CASES = {
    "bool_mask": (lambda T, q, k, v, m: T.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=m), [~causal_bool()]),
    "float_mask_scale": (lambda T, q, k, v, m: T.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=m, scale=0.3), [arr(L, S)]),
    "causal": (lambda T, q, k, v: T.nn.functional.scaled_dot_product_attention(
        q, k, v, is_causal=True), []),
}


@pytest.mark.parametrize("case", SDPA_CASES)
def test_scaled_dot_product_attention(case):
    fn, extra = SDPA_CASES[case]
    ours, theirs = wrapped(lambda self, lib, *xs: fn(lib, *xs), lambda m: m.Identity())
    check_module(ours, theirs, [arr(N, HEADS, L, E), arr(N, HEADS, S, E),
                                arr(N, HEADS, S, 3)] + extra)


def test_sdpa_fully_masked_row_is_zero_like_torch():
    mask = ~causal_bool()
    mask[1] = False  # query 1 may attend nothing
    q, k, v = arr(1, L, E), arr(1, S, E), arr(1, S, E)
    ours = F.scaled_dot_product_attention(to_gn(q), to_gn(k), to_gn(v), attn_mask=to_gn(mask))
    theirs = torch.nn.functional.scaled_dot_product_attention(
        to_torch(q), to_torch(k), to_torch(v), attn_mask=to_torch(mask))
    assert_close(ours, theirs)
    assert np.all(np_of(ours)[0, 1] == 0)


# ---- MultiheadAttention ---------------------------------------------------------------------
def _mha(**kwargs):
    return lambda m: m.MultiheadAttention(E, HEADS, **kwargs)


def test_mha_self_attention_masks_batch_first():
    # bool attn_mask and key_padding_mask (True = masked), averaged weights requested
    ours, theirs = wrapped(lambda self, lib, x, am, kpm: self.layer(
        x, x, x, attn_mask=am, key_padding_mask=kpm)[0], _mha(batch_first=True))
    check_module(ours, theirs, [arr(N, L, E), causal_bool(L, L), padding_mask(N, L)])


def test_mha_cross_attention_float_masks_no_weights():
    ours, theirs = wrapped(lambda self, lib, q, k, v, am, kpm: self.layer(
        q, k, v, attn_mask=am, key_padding_mask=kpm, need_weights=False)[0], _mha())
    kpm = np.where(padding_mask(), -1e9, 0.0).astype(np.float32)
    check_module(ours, theirs, [arr(L, N, E), arr(S, N, E), arr(S, N, E), arr(L, S), kpm])


@pytest.mark.parametrize("average", [True, False])
def test_mha_attention_weights(average):
    ours, theirs = wrapped(lambda self, lib, q, kv, kpm: self.layer(
        q, kv, kv, key_padding_mask=kpm, average_attn_weights=average)[1], _mha(bias=False))
    check_module(ours, theirs, [arr(L, N, E), arr(S, N, E), padding_mask()])


def test_mha_unbatched_and_per_head_mask():
    ours, theirs = wrapped(lambda self, lib, x, am: self.layer(x, x, x, attn_mask=am)[0],
                           _mha())
    check_module(ours, theirs, [arr(L, E), arr(HEADS, L, L)])


def test_mha_fully_padded_sequence_matches_torch():
    # without weights PyTorch returns zeros for a query with nothing to attend to
    kpm = padding_mask()
    kpm[0] = True
    ours, theirs = wrapped(lambda self, lib, x, kpm: self.layer(
        x, x, x, key_padding_mask=kpm, need_weights=False)[0], _mha(batch_first=True))
    check_module(ours, theirs, [arr(N, S, E), kpm])


def test_mha_is_causal_hint_and_eval_dropout():
    ours, theirs = wrapped(lambda self, lib, x, am: self.layer(
        x, x, x, attn_mask=am, need_weights=False, is_causal=True)[0], _mha(dropout=0.5))
    ours.eval(), theirs.eval()
    check_module(ours, theirs, [arr(L, N, E), causal_bool(L, L)])
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        ours.layer(to_gn(arr(L, N, E)), to_gn(arr(L, N, E)), to_gn(arr(L, N, E)),
                   is_causal=True)


def test_mha_training_dropout_is_random_but_seeded():
    mha = nn.MultiheadAttention(E, HEADS, dropout=0.5)
    x = to_gn(arr(L, N, E))
    graphnet.manual_seed(3)
    first = np_of(mha(x, x, x)[1])
    graphnet.manual_seed(3)
    np.testing.assert_array_equal(first, np_of(mha(x, x, x)[1]))
    mha.eval()
    assert not np.allclose(first, np_of(mha(x, x, x)[1]))


MHA_OPTION_CASES = {
    "kdim_vdim": dict(kdim=6, vdim=3),
    "bias_kv": dict(add_bias_kv=True),
    "zero_attn_kdim": dict(add_zero_attn=True, kdim=6, vdim=3, bias=False),
    "bias_kv_zero_attn": dict(add_bias_kv=True, add_zero_attn=True),
}


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("case", MHA_OPTION_CASES)
def test_mha_options_with_masks(case, weights):
    kwargs = MHA_OPTION_CASES[case]
    kdim, vdim = kwargs.get("kdim", E), kwargs.get("vdim", E)
    def forward(self, lib, q, k, v, am, kpm):
        out, w = self.layer(q, k, v, attn_mask=am, key_padding_mask=kpm, need_weights=weights)
        # NOTE: `0 * out` keeps the value path in torch's graph too: a loss on the weights
        # alone gives v's parameters grad None in PyTorch but zeros in graphnet (one op).
        return out if w is None else w + 0 * out.sum(-1, keepdim=True)
    ours, theirs = wrapped(forward, _mha(batch_first=True, **kwargs))
    check_module(ours, theirs, [arr(N, L, E), arr(N, S, kdim), arr(N, S, vdim),
                                causal_bool(), padding_mask()])
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)


def test_mha_separate_weights_init_and_self_attention():
    mha = nn.MultiheadAttention(E, HEADS, kdim=6, vdim=3, add_bias_kv=True)
    assert mha.in_proj_weight is None and not mha._qkv_same_embed_dim
    assert tuple(mha.k_proj_weight.shape) == (E, 6) and tuple(mha.bias_k.shape) == (1, 1, E)
    assert np.abs(np_of(mha.bias_k)).sum() > 0   # xavier-normal, not left empty
    ours, theirs = wrapped(lambda self, lib, x: self.layer(x, x, x)[0],
                           _mha(add_zero_attn=True))
    check_module(ours, theirs, [arr(L, E)])


def test_multi_head_attention_forward_functional():
    def fn(T, q, k, v, wq, wk, wv, b, wo, bk, bv, kpm):
        return T.nn.functional.multi_head_attention_forward(
            q, k, v, E, HEADS, None, b, bk, bv, True, 0.0, wo, None, key_padding_mask=kpm,
            use_separate_proj_weight=True, q_proj_weight=wq, k_proj_weight=wk,
            v_proj_weight=wv)[0]
    # NOTE: its own seed, and projection weights scaled as an init would (1/sqrt(fan-in)):
    # with unit-variance weights the attention logits reach tens, the softmax saturates and
    # its float32 gradient differs from PyTorch's by up to 2e-5 on some draws of the shared
    # generator (11 of 40 seeds), so the test passed or failed with the tests run before it.
    draw = np.random.default_rng(3)

    def weight(rows, cols):
        return (draw.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)

    def data(*shape):
        return draw.standard_normal(shape).astype(np.float32)

    ours, theirs = wrapped(lambda self, lib, *xs: fn(lib, *xs), lambda m: m.Identity())
    check_module(ours, theirs, [data(L, N, E), data(S, N, 6), data(S, N, 3), weight(E, E),
                                weight(E, 6), weight(E, 3), data(3 * E), weight(E, E),
                                data(1, 1, E), data(1, 1, E), padding_mask()])


def test_sdpa_grouped_query_attention_and_errors():
    ours, theirs = wrapped(lambda self, lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(
        q, k, v, enable_gqa=True, scale=0.3), lambda m: m.Identity())
    check_module(ours, theirs, [arr(N, 4, L, E), arr(N, 2, S, E), arr(N, 2, S, 3)])
    q, k = to_gn(arr(N, 4, L, E)), to_gn(arr(N, 3, S, E))
    with pytest.raises(RuntimeError, match="must divide"):
        F.scaled_dot_product_attention(q, k, k, enable_gqa=True)
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=graphnet.zeros(L, L,
                                                                         dtype=graphnet.int64))
    q3 = to_gn(arr(N, L, E))     # 4-D inputs take both (test_attention_edge_parity.py)
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q3, q3, q3, attn_mask=graphnet.ones(L, L), is_causal=True)


def test_sdpa_dropout_is_random_scaled_and_p1_gives_zeros():
    q = to_gn(arr(2, 64, 16))
    graphnet.manual_seed(0)
    out = np_of(F.scaled_dot_product_attention(q, q, q, dropout_p=0.5))
    clean = np_of(F.scaled_dot_product_attention(q, q, q))
    assert not np.allclose(out, clean)
    # E[dropout(weights) / (1 - p)] = weights: the mean over many draws tends to the clean result
    assert abs(out.mean() - clean.mean()) < 0.1
    np.testing.assert_array_equal(np_of(F.scaled_dot_product_attention(q, q, q, dropout_p=1.0)),
                                  0)


def test_mha_repr_state_dict_and_errors():
    ours, theirs = nn.MultiheadAttention(E, HEADS), torch.nn.MultiheadAttention(E, HEADS)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.q_proj_weight is None and np.all(np_of(ours.in_proj_bias) == 0)
    with pytest.raises(AssertionError, match="divisible"):   # PyTorch's type
        nn.MultiheadAttention(E, 3)
    with pytest.raises(graphnet.ShapeError, match=r"MultiheadAttention.*\[4, 2, 6\]"):
        ours(*(to_gn(arr(L, N, 6)),) * 3)
    x = to_gn(arr(L, N, E))
    with pytest.raises(graphnet.ShapeError, match=r"attn_mask.*\[3, 3\]"):
        ours(x, x, x, attn_mask=graphnet.zeros(3, 3, dtype=graphnet.bool))
    with pytest.raises(graphnet.ShapeError, match=r"key_padding_mask.*\[2, 3\]"):
        ours(x, x, x, key_padding_mask=graphnet.zeros(2, 3, dtype=graphnet.bool))


# ---- TransformerEncoderLayer --------------------------------------------------------------
TEL_CASES = {
    "post_norm_relu": dict(),
    "pre_norm_gelu_batch_first": dict(norm_first=True, activation="gelu", batch_first=True),
}


@pytest.mark.parametrize("case", TEL_CASES)
def test_transformer_encoder_layer_eval(case):
    kwargs = TEL_CASES[case]
    ours, theirs = wrapped(lambda self, lib, x, kpm: self.layer(x, src_key_padding_mask=kpm),
                           lambda m: m.TransformerEncoderLayer(E, HEADS, 16, **kwargs))
    ours.eval(), theirs.eval()
    x = arr(N, L, E) if kwargs.get("batch_first") else arr(L, N, E)
    check_module(ours, theirs, [x, padding_mask(N, L)])


def test_transformer_encoder_layer_causal_mask_dynamic():
    ours, theirs = wrapped(lambda self, lib, x, m: self.layer(x, src_mask=m),
                           lambda m: m.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0))
    mask = np.where(causal_bool(L, L), -np.inf, 0.0).astype(np.float32)
    check_module(ours, theirs, [arr(L, N, E), mask])


def test_transformer_encoder_layer_repr_and_state_dict():
    for kwargs in [dict(), dict(activation=nn.GELU(), norm_first=True)]:
        theirs_kwargs = dict(kwargs)
        if "activation" in kwargs:
            theirs_kwargs["activation"] = torch.nn.GELU()
        ours = nn.TransformerEncoderLayer(E, HEADS, 16, **kwargs)
        theirs = torch.nn.TransformerEncoderLayer(E, HEADS, 16, **theirs_kwargs)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
    with pytest.raises(graphnet.ShapeError, match=r"TransformerEncoderLayer.*d_model=8"):
        ours(graphnet.randn(L, N, 5))


@pytest.mark.parametrize("indices, padding_idx", [([1, 1, 2], None),
                                                  ([[0, 3, 3], [3, 1, 0]], None),
                                                  ([[0, 3, 3], [3, 1, 0]], 3)])
@pytest.mark.parametrize("compiled", [False, True])
def test_embedding_scale_grad_by_freq_divides_each_rows_gradient_by_its_count(
        indices, padding_idx, compiled):
    weight = np.arange(12.0, dtype=np.float32).reshape(4, 3)

    def run(L, compile_it):
        emb = L.nn.Embedding(4, 3, padding_idx=padding_idx, scale_grad_by_freq=True)
        with L.no_grad():
            emb.weight.copy_(L.tensor(weight))

        def step(i):
            out = emb(i)
            (out * L.arange(1.0, out.numel() + 1).reshape(out.shape)).sum().backward()
            return out.detach()

        out = (compile_it(step) if compile_it else step)(L.tensor(indices))
        return repr(emb).replace("torch", "graphnet"), out.numpy(), emb.weight.grad.numpy()

    want, got = run(torch, None), run(graphnet, graphnet.compile if compiled else None)
    assert got[0] == want[0]
    np.testing.assert_allclose(got[1], want[1])
    np.testing.assert_allclose(got[2], want[2], rtol=1e-6)
