"""Embedding corners where graphnet gave other numbers than torch 2.13 without an error:
max_norm with norm_type inf, -inf or 0 (the p-norm formula gave 1, 0 or a ZeroDivisionError),
and the gradient of embedding_bag's 'max' when two rows tie (it was split between them; torch
sends it all to the first). Eager and compiled."""

import math

import numpy as np
import pytest
import torch

import graphnet as G

W = (np.random.RandomState(0).randn(6, 4) * 2).astype(np.float32)
IDX = np.array([[0, 2], [3, 2]])


def _renormed(lib, norm_type, max_norm, compiled=False):
    w = lib.tensor(W.copy())

    def look(w):
        return lib.nn.functional.embedding(lib.tensor(IDX), w, max_norm=max_norm,
                                           norm_type=norm_type)
    out = (G.compile(look) if compiled else look)(w)
    return w.numpy(), out.numpy()


@pytest.mark.parametrize("norm_type", [math.inf, -math.inf, 0.0, 2.0, 1.0, 3.0, -1.0])
@pytest.mark.parametrize("max_norm", [1.0, 0.3])
@pytest.mark.parametrize("compiled", [False, True])
def test_embedding_max_norm_uses_torch_norm_for_every_p(norm_type, max_norm, compiled):
    want_w, want_out = _renormed(torch, norm_type, max_norm)
    got_w, got_out = _renormed(G, norm_type, max_norm, compiled)
    np.testing.assert_allclose(got_w, want_w, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got_out, want_out, rtol=1e-6, atol=1e-7)
    # rows 1, 4, 5 are not read: left as they were
    np.testing.assert_array_equal(got_w[[1, 4, 5]], W[[1, 4, 5]])


BAG_W = np.array([[1., 2.], [1., 5.], [0., 5.], [3., 3.]], np.float32)
BAG_IDX = np.array([0, 1, 2, 3, 2, 0])
BAG_OFF = np.array([0, 3, 3])
BAG_G = np.array([[1., 2.], [3., 4.], [5., 6.]], np.float32)


def _bag_max(lib, compiled=False, padding_idx=None):
    w = lib.tensor(BAG_W.copy(), requires_grad=True)

    def bag(w):
        return lib.nn.functional.embedding_bag(lib.tensor(BAG_IDX), w, lib.tensor(BAG_OFF),
                                               mode="max", padding_idx=padding_idx)
    out = (G.compile(bag) if compiled else bag)(w)
    (out * lib.tensor(BAG_G)).sum().backward()
    return out.detach().numpy(), w.grad.numpy()


@pytest.mark.parametrize("padding_idx", [None, 1])
@pytest.mark.parametrize("compiled", [False, True])
def test_embedding_bag_max_tie_sends_the_gradient_to_the_first_row(compiled, padding_idx):
    want_out, want_grad = _bag_max(torch, padding_idx=padding_idx)
    got_out, got_grad = _bag_max(G, compiled, padding_idx)
    np.testing.assert_array_equal(got_out, want_out)
    np.testing.assert_array_equal(got_grad, want_grad)
