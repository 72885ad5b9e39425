"""Attention corners where graphnet differed from torch 2.13: the masks TransformerEncoderLayer
hands to self-attention (fused kernel vs ordinary path), TransformerEncoder's unchecked
nested-tensor padding, F.scaled_dot_product_attention's mask + is_causal and argument errors,
and everyday MultiheadAttention options. Eager and compiled, against torch."""

import warnings

import numpy as np
import pytest
from parity import copy_torch_params, np_of, to_gn, to_torch, torch

import graphnet as G
from graphnet import nn
from graphnet.nn import functional as F

rng = np.random.default_rng(0)
N, L, S, E, HEADS, FF = 2, 3, 5, 8, 2, 16


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def _opt(to, a):
    return None if a is None else to(a)


def _compare(make, call, inputs, grad=False, atol=1e-5):
    """torch vs graphnet eager and compiled: `call(module, *inputs)` -> tensor or tuple."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, ours = make(torch.nn).eval(), make(nn).eval()
    copy_torch_params(theirs, ours)
    with torch.set_grad_enabled(grad):
        expected = call(theirs, *[_opt(to_torch, a) for a in inputs])
    present = [a for a in inputs if a is not None]

    def run(*xs):
        it = iter(xs)
        return call(ours, *[None if a is None else next(it) for a in inputs])
    with G.set_grad_enabled(grad):
        got = [run(*map(to_gn, present)), G.compile(run)(*map(to_gn, present))]
    expected = expected if isinstance(expected, tuple) else (expected,)
    for result in got:
        result = result if isinstance(result, tuple) else (result,)
        for g, e in zip(result, expected, strict=True):
            assert (g is None) == (e is None)
            if e is not None:
                np.testing.assert_allclose(np_of(g), np_of(e), atol=atol, rtol=1e-5,
                                           equal_nan=True)
    return np_of(expected[0])


def _layer(**kwargs):
    return lambda m: m.TransformerEncoderLayer(E, HEADS, FF, batch_first=True, **kwargs)


def _with_hook(m):
    layer = _layer()(m)
    layer.register_forward_hook(lambda *args: None)
    return layer


# ---- TransformerEncoderLayer masks -----------------------------------------------------------
@pytest.mark.parametrize("make", [_layer(activation=lambda z: z.tanh()), _with_hook],
                         ids=["custom_activation", "forward_hook"])
def test_encoder_layer_off_fused_path_fully_padded_sequence_gives_numbers(make):
    # Off its fused kernel, torch hands self_attn float masks, so MultiheadAttention takes its
    # ordinary path too and a fully padded sequence gives numbers, not NaN.
    kpm = np.zeros((N, S), bool)
    kpm[0, -2:] = True
    kpm[1] = True
    out = _compare(make, lambda m, x, k: m(x, src_key_padding_mask=k), [arr(N, S, E), kpm])
    assert not np.isnan(out).any()


def _finite_masks():
    attn = np.zeros((S, S), np.float32)
    attn[0, 1], attn[2, 3], attn[4, :] = 0.5, -1e9, 0.25   # row 4: nonzero everywhere
    pad = np.zeros((N, S), np.float32)
    pad[0, -1] = 0.7
    attn3 = np.zeros((N * HEADS, S, S), np.float32)
    attn3[1, 2, 0], attn3[3, :, 1] = 2.0, -0.5
    cancel = np.zeros((S, S), np.float32)
    cancel[:, -1] = -0.7          # + pad's 0.7: sample 0's last key stays open
    return {"attn": (attn, None), "padding": (None, pad), "attn_and_bool_padding":
            (attn, np.arange(S)[None, :] >= np.array([[3], [5]])),
            "attn3d_and_padding": (attn3, pad), "cancelling": (cancel, pad),
            "bool_attn_and_float_padding": (attn != 0, pad)}


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("case", list(_finite_masks()))
def test_encoder_layer_float_masks_fused_kernel_masks_nonzero(case, grad):
    # torch's fused inference kernel (no grad) casts the merged float mask to bool: any
    # nonzero value masks the position; its ordinary path (grad enabled) adds the values.
    attn, pad = _finite_masks()[case]
    _compare(_layer(), lambda m, x, a, k: m(x, src_mask=a, src_key_padding_mask=k),
             [arr(N, S, E), attn, pad], grad=grad)


# ---- TransformerEncoder nested-tensor path ---------------------------------------------------
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_encoder_unchecked_padding_acts_left_aligned(kind):
    # mask_check=False: torch keeps the first (number of unpadded) positions of each row,
    # wherever the padding really is, and zeroes the rest.
    kpm = np.zeros((3, S), bool)
    kpm[0, -2:] = True
    kpm[1, [0, 2]] = True
    kpm[2] = True
    if kind == "float":
        kpm = np.where(kpm, -np.inf, 0.0).astype(np.float32)
        kpm[0, 0] = 0.3          # a finite nonzero value counts as padding too

    def make(m):
        return m.TransformerEncoder(_layer()(m), 2, enable_nested_tensor=True,
                                    mask_check=False)
    out = _compare(make, lambda m, x, k: m(x, src_key_padding_mask=k), [arr(3, S, E), kpm])
    assert np.all(out[1, 3:] == 0) and np.all(out[2] == 0) and np.all(out[1, :3] != 0)


# ---- F.scaled_dot_product_attention ----------------------------------------------------------
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_mask_and_is_causal_both_apply(kind):
    q, k, v = arr(2, 2, 4, 3), arr(2, 2, 6, 3), arr(2, 2, 6, 3)
    mask = rng.random((4, 6)) > 0.4
    mask[0] = False              # with the causal mask: a row that attends to nothing
    mask = mask if kind == "bool" else np.where(mask, 0.0, -np.inf).astype(np.float32)
    tq, tk, tv = (to_torch(a, requires_grad=True) for a in (q, k, v))
    expected = torch.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=to_torch(mask), is_causal=True)
    expected.sum().backward()

    def step(a, b, c, m):
        out = F.scaled_dot_product_attention(a, b, c, attn_mask=m, is_causal=True)
        out.sum().backward()
        return out, a.grad, b.grad, c.grad
    for fn in (step, G.compile(step)):
        got = fn(*(to_gn(a, requires_grad=True) for a in (q, k, v)), to_gn(mask))
        for g, e in zip(got, (expected, tq.grad, tk.grad, tv.grad), strict=True):
            np.testing.assert_allclose(np_of(g), np_of(e), atol=1e-5, rtol=1e-5)


SDPA_ERRORS = {
    "negative_dropout": (lambda lib, q: (q, q, q), dict(dropout_p=-0.1), "dropout"),
    "dropout_above_one": (lambda lib, q: (q, q, q), dict(dropout_p=1.5),
                          "dropout probability has to be between 0 and 1"),
    "mixed_dtypes": (lambda lib, q: (q, q.double(), q), {}, "same dtype"),
    "one_dim_query": (lambda lib, q: (q[0, 0, 0], q, q), {}, "at least 2 dimensional"),
    "float64_mask": (lambda lib, q: (q, q, q), dict(attn_mask=np.zeros((3, 3))),
                     "Expected attn_mask dtype"),
}


@pytest.mark.parametrize("case", list(SDPA_ERRORS))
def test_sdpa_argument_errors_match_torch(case):
    qkv, kwargs, message = SDPA_ERRORS[case]
    q = arr(2, 2, 3, 4)
    for lib, to, sdpa in ((torch, to_torch, torch.nn.functional.scaled_dot_product_attention),
                          (G, to_gn, F.scaled_dot_product_attention)):
        kw = {key: to(val) if isinstance(val, np.ndarray) else val
              for key, val in kwargs.items()}
        with pytest.raises(RuntimeError, match=message):
            sdpa(*qkv(lib, to(q)), **kw)
    with pytest.raises(RuntimeError, match=message):
        G.compile(lambda x: F.scaled_dot_product_attention(
            *qkv(G, x), **{key: to_gn(val) if isinstance(val, np.ndarray) else val
                          for key, val in kwargs.items()}))(to_gn(q))


def test_sdpa_float32_mask_accepted_for_float64_query():
    q, mask = arr(2, 3, 4).astype(np.float64), arr(3, 3)
    expected = torch.nn.functional.scaled_dot_product_attention(
        to_torch(q), to_torch(q), to_torch(q), attn_mask=to_torch(mask))
    got = F.scaled_dot_product_attention(to_gn(q), to_gn(q), to_gn(q), attn_mask=to_gn(mask))
    assert got.dtype == G.float64
    np.testing.assert_allclose(np_of(got), np_of(expected), atol=1e-6)


# ---- MultiheadAttention everyday options -----------------------------------------------------
def _mha_cases():
    kpm = np.zeros((N, S), bool)
    kpm[0, -2:] = True
    x, kv = arr(N, L, E), arr(N, S, E)
    causal = np.triu(np.ones((L, S), bool), 1)
    return {
        "per_head_weights": ({}, [x, kv, None, None], dict(average_attn_weights=False)),
        "kdim_vdim": (dict(kdim=6, vdim=5), [x, arr(N, S, 6), arr(N, S, 5), kpm], {}),
        "add_bias_kv": (dict(add_bias_kv=True), [x, kv, kv, kpm, causal], {}),
        "add_zero_attn": (dict(add_zero_attn=True), [x, kv, kv, kpm, arr(N * HEADS, L, S)],
                          dict(average_attn_weights=False)),
        "float_padding": ({}, [x, kv, kv, np.where(kpm, -np.inf, 0).astype(np.float32)], {}),
        "finite_float_padding": ({}, [x, kv, kv, arr(N, S)], dict(need_weights=False)),
    }


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("case", list(_mha_cases()))
def test_multihead_attention_options(case, grad):
    options, inputs, call_kwargs = _mha_cases()[case]
    inputs = inputs + [None] * (5 - len(inputs))
    if inputs[2] is None:
        inputs[2] = inputs[1]

    def call(m, q, k, v, kpm, mask):
        return m(q, k, v, key_padding_mask=kpm, attn_mask=mask, **call_kwargs)
    _compare(lambda m: m.MultiheadAttention(E, HEADS, batch_first=True, **options), call,
             inputs, grad=grad)


@pytest.mark.parametrize("module", ["MultiheadAttention", "TransformerEncoderLayer",
                                    "TransformerEncoder"])
def test_mismatched_mask_types_warn_like_torch(module):
    x, pad, mask = arr(N, L, E), np.zeros((N, L), bool), np.zeros((L, L), np.float32)

    def layer(lib):
        return lib.nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.0, batch_first=True)
    for lib, to in ((torch, to_torch), (G, to_gn)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = {"MultiheadAttention": lambda: lib.nn.MultiheadAttention(E, HEADS, batch_first=True),
                 "TransformerEncoderLayer": lambda: layer(lib),
                 "TransformerEncoder": lambda: lib.nn.TransformerEncoder(
                     layer(lib), 2)}[module]()
        args = (to(x), to(x), to(x)) if module == "MultiheadAttention" else (to(x),)
        masks = [to(pad), to(mask)]
        with pytest.warns(UserWarning, match="Support for mismatched") as record:
            m(*args, *([masks[0], False, masks[1]] if module == "MultiheadAttention"
                       else masks[::-1]))
        assert len([w for w in record if "mismatched" in str(w.message)]) == 1


@pytest.mark.parametrize("shape", [(2, 4, 3), (4, 3), (1, 1, 2, 4, 3)])
def test_sdpa_mask_and_is_causal_refused_off_4d_as_torch(shape):
    q = arr(*shape)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        torch.nn.functional.scaled_dot_product_attention(
            to_torch(q), to_torch(q), to_torch(q), attn_mask=torch.ones(4, 4), is_causal=True)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        F.scaled_dot_product_attention(to_gn(q), to_gn(q), to_gn(q), attn_mask=G.ones(4, 4),
                                       is_causal=True)
