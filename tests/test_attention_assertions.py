"""MultiheadAttention's shape checks raise AssertionError where PyTorch's are asserts (the
embedding dimension, key/value widths, key_padding_mask), and a RuntimeError for a bad
attn_mask, as PyTorch; graphnet's ShapeError names the shapes either way."""

import pytest
import torch

import graphnet as gn
from graphnet._errors import ShapeError

CASES = {
    "query width": (dict(), (3, 2, 5), (3, 2, 4), (3, 2, 4), {}),
    "key width": (dict(kdim=3), (3, 2, 4), (5, 2, 4), (5, 2, 4), {}),
    "key_padding_mask": (dict(), (3, 2, 4), (5, 2, 4), (5, 2, 4),
                         {"key_padding_mask": (2, 4)}),
}


def _call(lib, case):
    options, q, k, v, masks = CASES[case]
    lib.manual_seed(0)
    module = lib.nn.MultiheadAttention(4, 2, **options)
    kwargs = {name: lib.zeros(shape, dtype=lib.bool) for name, shape in masks.items()}
    module(lib.randn(q), lib.randn(k), lib.randn(v), **kwargs)


@pytest.mark.parametrize("case", list(CASES), ids=str)
def test_asserted_checks_raise_assertion_error_in_both(case):
    with pytest.raises(AssertionError):
        _call(torch, case)
    with pytest.raises(AssertionError) as info:
        _call(gn, case)
    assert isinstance(info.value, ShapeError)
    assert "expected" in str(info.value) and "[" in str(info.value)   # names the shapes


def test_a_bad_attn_mask_is_a_runtime_error_in_both():
    for lib in (torch, gn):
        module = lib.nn.MultiheadAttention(4, 2)
        with pytest.raises(RuntimeError):
            module(lib.randn(3, 2, 4), lib.randn(5, 2, 4), lib.randn(5, 2, 4),
                   attn_mask=lib.zeros(3, 4, dtype=lib.bool))
