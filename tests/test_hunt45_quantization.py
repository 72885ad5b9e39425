"""Quantization primitives: a compiled per-channel fake quantization checks its zero
points as PyTorch does, and torch._int_mm's int8 product with int32 accumulation."""

import numpy as np
import pytest
import torch

import graphnet as gn

X = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)


def _per_channel(lib, x, scale, zero_point):
    return lib.fake_quantize_per_channel_affine(x, scale, zero_point, 1, 0, 255)


@pytest.mark.parametrize("compiled", [False, True])
def test_per_channel_zero_point_out_of_range_raises_in_both_modes(compiled):
    scale = np.array([0.1, 0.2, 0.05], np.float32)
    good = np.array([0, 128, 255], np.int32)
    run = gn.compile(lambda x, s, z: _per_channel(gn, x, s, z)) if compiled else \
        (lambda x, s, z: _per_channel(gn, x, s, z))
    got = run(gn.tensor(X), gn.tensor(scale), gn.tensor(good)).numpy()
    want = _per_channel(torch, torch.tensor(X), torch.tensor(scale), torch.tensor(good))
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-6)
    for bad in ([0, 300, 1], [-1, 0, 0]):
        with pytest.raises(RuntimeError, match="`zero_point` must be between `quant_min` and "
                                               "`quant_max`"):
            _per_channel(torch, torch.tensor(X), torch.tensor(scale),
                         torch.tensor(bad, dtype=torch.int32))
        with pytest.raises(RuntimeError, match="`zero_point` must be between `quant_min` and "
                                               "`quant_max`"):
            run(gn.tensor(X), gn.tensor(scale), gn.tensor(np.array(bad, np.int32)))


@pytest.mark.parametrize("compiled", [False, True])
def test_int_mm_matches_torch(compiled):
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, (20, 64)).astype(np.int8)
    b = rng.integers(-128, 128, (64, 5)).astype(np.int8)
    want = torch._int_mm(torch.tensor(a), torch.tensor(b))
    run = gn.compile(gn._int_mm) if compiled else gn._int_mm
    got = run(gn.tensor(a), gn.tensor(b))
    assert got.dtype == gn.int32 and want.dtype == torch.int32
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_int_mm_refuses_as_torch():
    a8, b8 = np.zeros((4, 8), np.int8), np.zeros((8, 3), np.int8)
    cases = [(lambda L: L._int_mm(L.tensor(a8).int(), L.tensor(b8)),
              "Expected self dtype to be int8 or uint8 but got int"),
             (lambda L: L._int_mm(L.tensor(a8), L.tensor(b8)[:4]),
              "self.size(1) needs to match mat2.size(0) but got 8 and 4"),
             (lambda L: L._int_mm(L.tensor(a8)[0], L.tensor(b8)),
              "Expected self to be of dimension 2 but got 1"),
             (lambda L: L._int_mm(L.tensor(a8), L.tensor(b8).float()),
              "Expected mat2 dtype to be of type int8 but got float"),
             (lambda L: L._int_mm(L.tensor(a8), L.tensor(b8).to(L.uint8)),
              "Expected mat2 dtype to be of type int8 but got unsigned char")]
    for call, message in cases:
        for lib in (torch, gn):
            with pytest.raises(RuntimeError, match=f"int_mm_out_cpu: {message}".replace(
                    "(", r"\(").replace(")", r"\)")):
                call(lib)
