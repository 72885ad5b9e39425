"""TransformerEncoder/Decoder(Layer) and nn.Transformer against PyTorch: values and gradients
in dynamic and static mode, masks (bool, float, causal, padding), the nested-tensor zeros of
PyTorch's inference path, reprs, state_dict keys and errors."""

import warnings

import numpy as np
import pytest
from parity import assert_close, check_module, copy_torch_params, np_of, to_gn, to_torch, torch

import graphnet
from graphnet import nn

rng = np.random.default_rng(0)
N, L, S, E, HEADS, FF = 2, 4, 5, 8, 2, 16


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def wrapped(forward, make):
    """Both libraries' models whose forward is `forward(self, *inputs)` around `self.layer`."""
    def build(lib_nn):
        class Wrap(lib_nn.Module):
            def __init__(self):
                super().__init__()
                self.layer = make(lib_nn)

            def forward(self, *inputs):
                return forward(self, *inputs)
        return Wrap()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # enable_nested_tensor warnings, checked below
        return build(nn), build(torch.nn)


def padding_mask(batch=N, length=S):
    mask = np.zeros((batch, length), bool)
    mask[0, -2:] = True   # the first sequence ends in two padding positions
    return mask


def causal_float(length):
    return np.triu(np.full((length, length), -np.inf, np.float32), k=1)


def eval_pair(ours, theirs):
    ours.eval(), theirs.eval()
    return ours, theirs


# ---- layers --------------------------------------------------------------------------------
DECODER_LAYER_CASES = {
    "post_norm": dict(),
    "pre_norm_gelu_batch_first": dict(norm_first=True, activation="gelu", batch_first=True),
    "no_bias": dict(bias=False, layer_norm_eps=1e-6),
}


@pytest.mark.parametrize("case", [
    pytest.param(name, marks=[pytest.mark.slow] if name != "pre_norm_gelu_batch_first" else [])
    for name in DECODER_LAYER_CASES])
def test_decoder_layer_masks(case):
    kwargs = DECODER_LAYER_CASES[case]
    ours, theirs = eval_pair(*wrapped(
        lambda self, t, m, tm, mkpm: self.layer(t, m, tgt_mask=tm,
                                                memory_key_padding_mask=mkpm),
        lambda m: m.TransformerDecoderLayer(E, HEADS, FF, **kwargs)))
    bf = kwargs.get("batch_first")
    tgt, mem = (arr(N, L, E), arr(N, S, E)) if bf else (arr(L, N, E), arr(S, N, E))
    check_module(ours, theirs, [tgt, mem, causal_float(L), padding_mask()])


def test_encoder_layer_callable_activation_and_causal_hint():
    ours, theirs = eval_pair(*wrapped(
        lambda self, x, m: self.layer(x, src_mask=m, is_causal=True),
        lambda m: m.TransformerEncoderLayer(E, HEADS, FF, activation=m.GELU(),
                                            batch_first=True)))
    check_module(ours, theirs, [arr(N, L, E), causal_float(L)])
    assert ours.layer.activation_relu_or_gelu == theirs.layer.activation_relu_or_gelu == 2


def test_encoder_layer_unbatched_float_padding_mask():
    ours, theirs = eval_pair(*wrapped(
        lambda self, x, kpm: self.layer(x, src_key_padding_mask=kpm),
        lambda m: m.TransformerEncoderLayer(E, HEADS, FF, dropout=0.0)))
    kpm = np.where(padding_mask(1, L)[0], -np.inf, 0.0).astype(np.float32)
    check_module(ours, theirs, [arr(L, E), kpm])


# ---- stacks --------------------------------------------------------------------------------
def _encoder(batch_first, norm=True, **kwargs):
    def make(m):
        layer = m.TransformerEncoderLayer(E, HEADS, FF, batch_first=batch_first, **kwargs)
        return m.TransformerEncoder(layer, 2, m.LayerNorm(E) if norm else None)
    return make


@pytest.mark.slow   # several eager kernels compile per layer: tens of seconds on 2 cores
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_training_grads_with_padding(batch_first):
    # grads flow: PyTorch takes its ordinary path, padded positions are not zeroed
    ours, theirs = wrapped(lambda self, x, kpm: self.layer(x, src_key_padding_mask=kpm),
                           _encoder(batch_first, dropout=0.0))
    x = arr(N, S, E) if batch_first else arr(S, N, E)
    check_module(ours, theirs, [x, padding_mask()])


@pytest.mark.slow   # several eager kernels compile per layer: tens of seconds on 2 cores
def test_encoder_causal_mask_is_causal_none_and_true():
    for is_causal in (None, True):
        ours, theirs = eval_pair(*wrapped(
            lambda self, x, m: self.layer(x, mask=m, is_causal=is_causal),
            _encoder(True)))
        check_module(ours, theirs, [arr(N, L, E), causal_float(L)])


@pytest.mark.parametrize("mask_kind", ["left_aligned", "not_aligned", "float"])
def test_encoder_inference_zeroes_padding_like_nested_tensors(mask_kind):
    ours, theirs = eval_pair(*wrapped(
        lambda self, x, kpm: self.layer(x, src_key_padding_mask=kpm), _encoder(True, False)))
    copy_torch_params(theirs, ours)
    kpm = padding_mask()
    if mask_kind == "not_aligned":
        kpm[1, 0] = True   # padding at the start: PyTorch takes the ordinary path
    x = arr(N, S, E)
    kpm_in = np.where(kpm, -np.inf, 0.0).astype(np.float32) if mask_kind == "float" else kpm
    with torch.no_grad():
        expected = theirs(to_torch(x), to_torch(kpm_in))
    with graphnet.no_grad():
        dynamic = ours(to_gn(x), to_gn(kpm_in))
        static = graphnet.compile(lambda a, b: ours(a, b))(to_gn(x), to_gn(kpm_in))
    for got in (dynamic, static):
        assert_close(got, expected, atol=1e-5)
    zeroed = np.all(np_of(expected)[0, -2:] == 0)
    assert zeroed == (mask_kind != "not_aligned")


def test_encoder_nested_tensor_flags_and_warning():
    layer = nn.TransformerEncoderLayer(E, HEADS, FF)   # batch_first=False
    with pytest.warns(UserWarning, match="batch_first was not True"):
        enc = nn.TransformerEncoder(layer, 2)
    assert enc.enable_nested_tensor and not enc.use_nested_tensor
    enc = nn.TransformerEncoder(layer, 3, enable_nested_tensor=False, mask_check=False)
    assert not enc.use_nested_tensor and enc.num_layers == 3 and len(enc.layers) == 3
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight


@pytest.mark.slow   # several eager kernels compile per layer: tens of seconds on 2 cores
def test_decoder_stack():
    def make(m):
        layer = m.TransformerDecoderLayer(E, HEADS, FF, batch_first=True, dropout=0.0)
        return m.TransformerDecoder(layer, 2, m.LayerNorm(E))
    ours, theirs = wrapped(
        lambda self, t, m, tm, tkpm: self.layer(t, m, tgt_mask=tm, tgt_key_padding_mask=tkpm),
        make)
    check_module(ours, theirs, [arr(N, L, E), arr(N, S, E), causal_float(L),
                                padding_mask(N, L)])


@pytest.mark.slow   # several eager kernels compile per layer: tens of seconds on 2 cores
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_full(batch_first):
    def make(m):
        return m.Transformer(E, HEADS, 1, 2, FF, dropout=0.0, batch_first=batch_first)
    ours, theirs = wrapped(lambda self, s, t, tm, skpm: self.layer(
        s, t, tgt_mask=tm, src_key_padding_mask=skpm, memory_key_padding_mask=skpm), make)
    src, tgt = (arr(N, S, E), arr(N, L, E)) if batch_first else (arr(S, N, E), arr(L, N, E))
    check_module(ours, theirs, [src, tgt, causal_float(L), padding_mask()], atol=2e-5)


def test_generate_square_subsequent_mask():
    ours = nn.Transformer.generate_square_subsequent_mask(4)
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert ours.dtype == graphnet.float32
    np.testing.assert_array_equal(np_of(ours), np_of(theirs))
    static = graphnet.compile(lambda: nn.Transformer.generate_square_subsequent_mask(3))()
    np.testing.assert_array_equal(np_of(static), causal_float(3))


def test_reprs_state_dicts_and_init():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = [(lib.Transformer(E, HEADS, 2, 1, FF), lib.TransformerDecoderLayer(E, HEADS, FF),
                  lib.TransformerEncoder(lib.TransformerEncoderLayer(E, HEADS, FF), 2,
                                         lib.LayerNorm(E)))
                 for lib in (nn, torch.nn)]
    for ours, theirs in zip(*pairs):
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        ours.load_state_dict({k: graphnet.from_numpy(np_of(v).copy())
                              for k, v in theirs.state_dict().items()})
    model = pairs[0][0]
    w = np_of(model.encoder.layers[0].linear1.weight)   # xavier-uniform: |w| <= sqrt(6/24)
    assert np.abs(w).max() <= np.sqrt(6 / (E + FF)) + 1e-6 and w.std() > 0.1
    assert np.all(np_of(model.encoder.layers[0].self_attn.in_proj_bias) == 0)


def test_errors_match_torch():
    model = nn.Transformer(E, HEADS, 1, 1, FF)
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        model(graphnet.randn(S, 3, E), graphnet.randn(L, N, E))
    with pytest.raises(RuntimeError, match="feature number"):
        model(graphnet.randn(S, N, E), graphnet.randn(L, N, 4))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerDecoderLayer(E, HEADS, activation="tanh")
    layer = nn.TransformerEncoderLayer(E, HEADS, FF)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        layer(graphnet.randn(L, N, E), is_causal=True)


@pytest.mark.parametrize("grad", [False, True])
def test_fully_padded_sequence_nan_on_fused_inference_path_zero_elsewhere(grad):
    # PyTorch's fused inference kernels (eval, no grad, batch_first) leave NaN for a query
    # with nothing to attend to; its SDPA path (here: grad enabled) gives zeros.
    kpm = padding_mask()
    kpm[1] = True
    x = arr(N, S, E)
    for make, call in [
            (lambda m: m.TransformerEncoderLayer(E, HEADS, FF, batch_first=True),
             lambda layer, a, k: layer(a, src_key_padding_mask=k)),
            (lambda m: m.MultiheadAttention(E, HEADS, batch_first=True),
             lambda layer, a, k: layer(a, a, a, key_padding_mask=k, need_weights=False)[0])]:
        ours, theirs = eval_pair(make(nn), make(torch.nn))
        copy_torch_params(theirs, ours)
        with torch.set_grad_enabled(grad):
            expected = np_of(call(theirs, to_torch(x), to_torch(kpm)))
        with graphnet.set_grad_enabled(grad):
            got = [call(ours, to_gn(x), to_gn(kpm)),
                   graphnet.compile(lambda a, k: call(ours, a, k))(to_gn(x), to_gn(kpm))]
        assert np.isnan(expected[1]).all() != grad
        for g in got:
            np.testing.assert_allclose(np_of(g), expected, atol=1e-5, rtol=1e-5)
