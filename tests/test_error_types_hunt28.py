"""PyTorch's error types (and words) for mistakes graphnet answered with another type: a 0-d
input to cross_entropy / nll_loss (an IndexError "tuple index out of range"), float targets
of the wrong batch size (a DtypeError about class indices), a 1-d or 4-d attn_mask (a
ShapeError, not an AssertionError), antialias with nearest (NotImplementedError, not
ValueError), F.embedding's padding_idx (ValueError, not AssertionError), and the parameter
checks of ContinuousBernoulli and Geometric, which compiled code skipped. Each case runs in
PyTorch, eager graphnet and compiled graphnet; graphnet's error is an instance of PyTorch's
type and says what PyTorch says."""

import re

import numpy as np
import pytest
import torch

import graphnet


def _raises_like_torch(call, *arrays, match):
    """`call(lib, *tensors)` raises PyTorch's exception type in all three runs."""
    with pytest.raises(Exception, match=match) as want:
        call(torch, *(torch.tensor(a) for a in arrays))
    kind = type(want.value)
    args = [graphnet.tensor(a) for a in arrays]
    with pytest.raises(kind, match=match):
        call(graphnet, *args)
    with pytest.raises(kind, match=match):
        graphnet.compile(lambda *xs: call(graphnet, *xs))(*args)


def _f32(*shape):
    return np.random.default_rng(0).random(shape).astype(np.float32)


SCALAR, LONG0 = np.float32(1.0), np.int64(0)

LOSSES = {
    "ce_0d_input_0d_long_target": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), (SCALAR, LONG0),
        "Expected floating point type for target with class probabilities, got Long"),
    "ce_0d_input_0d_float_target": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), (SCALAR, np.float32(0.5)),
        "Dimension specified as 1 but tensor has no dimensions"),
    "ce_0d_input_1d_target": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), (SCALAR, np.array([0])),
        re.escape("Dimension out of range (expected to be in range of [-1, 0], but got 1)")),
    "nll_0d_input": (
        lambda lib, x, t: lib.nn.functional.nll_loss(x, t), (SCALAR, LONG0),
        re.escape("Expected 1 or more dimensions (got 0)")),
    "nll_0d_input_float_target": (
        lambda lib, x, t: lib.nn.functional.nll_loss(x, t), (SCALAR, np.float32(0.0)),
        re.escape("Expected 1 or more dimensions (got 0)")),
    "ce_same_shape_long_target": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(x, t),
        (_f32(2, 3), np.zeros((2, 3), np.int64)),
        "Expected floating point type for target with class probabilities, got Long"),
    "ce_probs_wrong_batch": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), (_f32(2, 3), _f32(3, 3)),
        re.escape("Expected input batch_size (2) to match target batch_size (3).")),
    "ce_probs_wrong_batch_3d": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), (_f32(2, 3, 4), _f32(3, 4)),
        re.escape("Expected input batch_size (2) to match target batch_size (3).")),
    "ce_long_wrong_batch": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(x, t),
        (_f32(2, 3), np.zeros(3, np.int64)),
        re.escape("Expected input batch_size (2) to match target batch_size (3).")),
    "ce_0d_target_of_a_batch": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), (_f32(2, 3), LONG0),
        re.escape("Expected input batch_size (2) to match target batch_size (0).")),
    "nll_float_wrong_batch": (
        lambda lib, x, t: lib.nn.functional.nll_loss(x, t), (_f32(2, 3), _f32(3)),
        re.escape("Expected input batch_size (2) to match target batch_size (3).")),
    "CrossEntropyLoss_probs_wrong_batch": (
        lambda lib, x, t: lib.nn.CrossEntropyLoss()(x, t), (_f32(2, 3), _f32(3, 3)),
        re.escape("Expected input batch_size (2) to match target batch_size (3).")),
}


@pytest.mark.parametrize("name", LOSSES)
def test_class_losses_raise_torchs_type(name):
    call, arrays, match = LOSSES[name]
    _raises_like_torch(call, *arrays, match=match)


def _attention(lib, q, mask, batch_first=False):
    lib.manual_seed(0)
    mha = lib.nn.MultiheadAttention(4, 2, batch_first=batch_first)
    return mha(q, q, q, attn_mask=mask)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("query, mask, match", [
    ((3, 2, 4), (3,), "For batched \\(3-D\\) `query`, expected `attn_mask` to be `None`, 2-D or "
                      "3-D but found 1-D tensor instead"),
    ((3, 2, 4), (1, 1, 3, 3), "For batched \\(3-D\\) `query`, .* but found 4-D tensor instead"),
    ((3, 4), (3,), "For unbatched \\(2-D\\) `query`, .* but found 1-D tensor instead"),
    ((3, 4), (5, 3, 3), "Expected `attn_mask` shape to be \\(2, 3, 3\\) but got"),
    ((3, 2, 4), (5, 3, 3), "The shape of the 3D attn_mask is .*, but should be \\(4, 3, 3\\)"),
    ((3, 4), (2, 3), "The shape of the 2D attn_mask is .*, but should be \\(3, 3\\)."),
])
def test_attn_mask_of_the_wrong_rank_or_size_raises_torchs_type(query, mask, match,
                                                                batch_first):
    if batch_first and len(query) == 3:   # [N, L, E]: the mask's L and S are 2
        match = match.replace("\\(4, 3, 3\\)", "\\(6, 2, 2\\)")
    _raises_like_torch(lambda lib, q, m: _attention(lib, q, m, batch_first),
                       _f32(*query), np.zeros(mask, np.float32), match=match)


def test_attn_mask_rank_error_is_an_assertion_error_and_a_shape_error():
    q, mask = graphnet.zeros(3, 2, 4), graphnet.zeros(3)
    with pytest.raises(AssertionError):
        _attention(graphnet, q, mask)
    with pytest.raises(graphnet.ShapeError):
        _attention(graphnet, q, mask)


ANTIALIAS = "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes"


@pytest.mark.parametrize("shape, mode", [((1, 1, 4, 4), "nearest"), ((1, 1, 4, 4), "area"),
                                         ((1, 1, 4), "linear"), ((1, 1, 4), "bilinear"),
                                         ((1, 1, 2, 2, 2), "trilinear")])
def test_antialias_outside_its_modes_raises_value_error(shape, mode):
    _raises_like_torch(lambda lib, x: lib.nn.functional.interpolate(
        x, scale_factor=2, mode=mode, antialias=True), _f32(*shape), match=ANTIALIAS)


@pytest.mark.parametrize("padding_idx", [3, 7, -4])
def test_functional_embedding_padding_idx_out_of_range_is_an_assertion_error(padding_idx):
    _raises_like_torch(lambda lib, i, w: lib.nn.functional.embedding(i, w, padding_idx),
                       np.array([0]), _f32(3, 2),
                       match="Padding_idx must be within num_embeddings")


def test_embedding_padding_idx_is_checked_before_the_indices_dtype():
    _raises_like_torch(lambda lib, i, w: lib.nn.functional.embedding(i, w, 5),
                       _f32(2), _f32(3, 2), match="Padding_idx must be within num_embeddings")


def _distribution_mean(lib, p, kind, validate_args):
    cls = getattr(lib.distributions, kind)
    return cls(probs=p, validate_args=validate_args).mean


@pytest.mark.parametrize("kind, p, validate_args, match", [
    ("ContinuousBernoulli", 1.5, True, "The parameter probs has invalid values"),
    ("ContinuousBernoulli", -0.5, False, "The parameter probs has invalid values"),
    ("Geometric", 0.0, None, "to be positive but found invalid values"),
    ("Geometric", 0.0, True, "to be positive but found invalid values"),
])
def test_probs_checks_raise_in_compiled_code_too(kind, p, validate_args, match):
    _raises_like_torch(lambda lib, x: _distribution_mean(lib, x, kind, validate_args),
                       np.array([0.3, p], np.float32), match=match)


@pytest.mark.parametrize("kind, p, validate_args", [
    ("ContinuousBernoulli", 1.5, None),     # PyTorch checks only when validate_args is given
    ("ContinuousBernoulli", 0.0, True),
    ("Geometric", 0.0, False),
    ("Geometric", 1.0, True),
])
def test_valid_or_unchecked_probs_give_torchs_numbers(kind, p, validate_args):
    probs = np.array([0.3, p], np.float32)
    want = _distribution_mean(torch, torch.tensor(probs), kind, validate_args).numpy()
    args = graphnet.tensor(probs)
    eager = _distribution_mean(graphnet, args, kind, validate_args)
    compiled = graphnet.compile(lambda x: _distribution_mean(graphnet, x, kind,
                                                             validate_args))(args)
    for got in (eager, compiled):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)
