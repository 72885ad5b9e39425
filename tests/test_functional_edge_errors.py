"""Edges of nn.functional where graphnet answered differently from PyTorch: an interpolation
to an output size of 0 (PyTorch raises, except in area mode, which gives an empty result;
graphnet returned empty results and raised an internal error for area), `one_hot` of an empty
tensor with num_classes=-1, and the error types of F.pad and of padding='same' with a stride
(ValueError, which `except RuntimeError` missed)."""

from __future__ import annotations

import pytest
from parity import torch

import graphnet

CALLS = {
    "nearest_to_zero": lambda L: L.nn.functional.interpolate(L.ones(1, 2, 5, 6),
                                                              scale_factor=0.1),
    "bilinear_to_zero": lambda L: L.nn.functional.interpolate(L.ones(1, 2, 5, 6), size=(0, 3),
                                                               mode="bilinear"),
    "linear_1d_to_zero": lambda L: L.nn.functional.interpolate(L.ones(1, 2, 5), size=0),
    "area_to_zero": lambda L: L.nn.functional.interpolate(L.ones(1, 2, 5, 6), size=(0, 3),
                                                           mode="area"),
    "one_hot_of_empty": lambda L: L.nn.functional.one_hot(L.zeros(0, dtype=L.int64)),
    "pad_odd_length": lambda L: L.nn.functional.pad(L.ones(2, 3), (1, 2, 3)),
    "pad_too_long": lambda L: L.nn.functional.pad(L.ones(2, 3), (1,) * 6),
    "same_padding_with_stride": lambda L: L.nn.functional.conv2d(
        L.ones(1, 1, 4, 4), L.ones(1, 1, 3, 3), stride=2, padding="same"),
}


def _outcome(fn):
    try:
        return ("shape", tuple(fn().shape))
    except Exception as err:   # noqa: BLE001  (the error is the outcome compared)
        return (type(err).__name__, str(err))


@pytest.mark.parametrize("name", list(CALLS))
def test_edges_match_torch(name):
    assert _outcome(lambda: CALLS[name](graphnet)) == _outcome(lambda: CALLS[name](torch))
