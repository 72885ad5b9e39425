"""PyTorch's errors for a zero `divisor_override` (a RuntimeError: graphnet raised a plain
ValueError, missed by `except RuntimeError`) and for a `scale_factor` of the wrong length
(graphnet's message was zip()'s own). Found by the video-model hunt."""

import pytest
import torch

import graphnet


@pytest.mark.parametrize("nd", [2, 3])   # avg_pool1d has no divisor_override
@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
def test_zero_divisor_override(nd, compiled):
    def pool(L, x):
        return getattr(L.nn.functional, f"avg_pool{nd}d")(x, 2, divisor_override=0)

    with pytest.raises(RuntimeError) as want:
        pool(torch, torch.ones((1, 1) + (4,) * nd))
    fn = graphnet.compile(lambda x: pool(graphnet, x)) if compiled else \
        (lambda x: pool(graphnet, x))
    with pytest.raises(RuntimeError) as got:
        fn(graphnet.ones((1, 1) + (4,) * nd))
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("scale", [(2, 2), (2, 2, 2, 2)])
def test_scale_factor_of_the_wrong_length(scale):
    with pytest.raises(ValueError) as want:
        torch.nn.functional.interpolate(torch.ones(1, 1, 4, 4, 4), scale_factor=scale)
    with pytest.raises(ValueError) as got:
        graphnet.nn.functional.interpolate(graphnet.ones(1, 1, 4, 4, 4), scale_factor=scale)
    assert str(got.value) == str(want.value)
