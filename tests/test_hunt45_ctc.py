"""CTC loss where its gradient is not finite, and its argument errors, as PyTorch's."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import graphnet as gn
import graphnet.nn.functional as F

RNG = np.random.default_rng(5)
MASKED = RNG.standard_normal((6, 2, 4))
MASKED[:, :, 3] = -np.inf          # a class no frame may emit, absent from the targets


def _grad(lib, functional, log_probs, targets, input_lengths, target_lengths, compiled=False,
          **kw):
    lp = lib.tensor(log_probs, requires_grad=True)

    def loss(lp, targets):
        return functional.ctc_loss(lp, targets, input_lengths, target_lengths, **kw)

    run = gn.compile(loss) if compiled else loss
    out = run(lp, lib.tensor(targets))
    out.backward()
    return out.detach().numpy(), lp.grad.numpy()


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("padding", [0, 3])
def test_gradient_nan_pattern_matches_torch_and_ignores_padding(padding, compiled):
    targets = [[1, 2, padding], [2, padding, padding]]
    for reduction in ("sum", "mean"):
        want_loss, want = _grad(torch, TF, MASKED, targets, [6, 5], [2, 1],
                                reduction=reduction)
        got_loss, got = _grad(gn, F, MASKED, targets, [6, 5], [2, 1], compiled,
                              reduction=reduction)
        np.testing.assert_allclose(got_loss, want_loss, rtol=1e-6)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(want), rtol=1e-6,
                                   atol=1e-7)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_impossible_alignment_gradient_matches_torch(zero_infinity):
    log_probs = RNG.standard_normal((4, 2, 4))
    targets = [[1, 2, 1], [3, 1, 2]]
    args = (log_probs, targets, [2, 4], [3, 2])
    _, want = _grad(torch, TF, *args, reduction="sum", zero_infinity=zero_infinity)
    _, got = _grad(gn, F, *args, reduction="sum", zero_infinity=zero_infinity)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(want), rtol=1e-6, atol=1e-7)
    assert np.isnan(want[0, 0]).all() != zero_infinity


def _error(lib, functional, call):
    with pytest.raises(Exception) as info:
        call(lib, functional)
    return type(info.value), str(info.value).split("\n")[0][:120]


@pytest.mark.parametrize("case", ["targets_3d", "no_frames", "no_batch", "float_length",
                                  "whole_float_length", "bool_length"])
def test_argument_errors_match_torch(case):
    lp = RNG.standard_normal((6, 2, 4)).astype(np.float32)
    calls = {
        "targets_3d": lambda L, Fn: Fn.ctc_loss(L.tensor(lp), L.ones(2, 3, 1, dtype=L.long),
                                                [6, 6], [2, 2]),
        "no_frames": lambda L, Fn: Fn.ctc_loss(L.zeros(0, 2, 4), L.ones(2, 3, dtype=L.long),
                                               [0, 0], [0, 0]),
        "no_batch": lambda L, Fn: Fn.ctc_loss(L.zeros(6, 0, 4), L.ones(0, 3, dtype=L.long),
                                              [], []),
        "float_length": lambda L, Fn: Fn.ctc_loss(L.tensor(lp), L.ones(2, 3, dtype=L.long),
                                                  [6.9, 5.0], [2, 2]),
        "whole_float_length": lambda L, Fn: Fn.ctc_loss(
            L.tensor(lp), L.ones(2, 3, dtype=L.long), [6, 5], [2.0, 2]),
        "bool_length": lambda L, Fn: Fn.ctc_loss(L.tensor(lp), L.ones(2, 3, dtype=L.long),
                                                 (6, 5), [True, 2]),
    }
    assert _error(gn, F, calls[case]) == _error(torch, TF, calls[case])
