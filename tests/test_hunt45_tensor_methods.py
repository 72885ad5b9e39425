"""Tensor methods a hunt found off PyTorch: dim_order of strided views, the other device
flags, index_put with a bool mask in a compiled function, heaviside's dtype rule, and the
name in max/min's error over an empty dim."""

import itertools

import numpy as np
import pytest
import torch

import graphnet as gn


def _views(lib, shape):
    t = lib.zeros(*shape)
    yield t
    for order in itertools.permutations(range(len(shape))):
        yield t.permute(*order)
    yield t[:, ::2]
    yield t[:, :1]
    if len(shape) == 4:
        yield t.contiguous(memory_format=lib.channels_last)
        yield t.contiguous(memory_format=lib.channels_last).permute(0, 3, 1, 2)


def _outcome(fn):
    try:
        return fn()
    except RuntimeError as error:
        return str(error)


@pytest.mark.parametrize("shape", [(2, 3), (1, 3), (2, 1, 4), (2, 3, 4), (2, 2, 2),
                                   (1, 2, 3, 4), (3, 4, 5, 6), (0, 3, 2)])
def test_dim_order_follows_the_strides_as_torch(shape):
    checks = [(False, False), (True, True),
              ([torch.contiguous_format, torch.channels_last],
               [gn.contiguous_format, gn.channels_last])]
    for want_view, got_view in zip(_views(torch, shape), _views(gn, shape)):
        assert got_view.stride() == want_view.stride()
        for want_check, got_check in checks:
            assert _outcome(lambda: got_view.dim_order(ambiguity_check=got_check)) == \
                _outcome(lambda: want_view.dim_order(ambiguity_check=want_check))
    assert gn.zeros(2, 3, 4).transpose(0, 1).dim_order() == (1, 0, 2)
    with pytest.raises(TypeError, match="must be a bool or a list of memory formats"):
        gn.zeros(2).dim_order(ambiguity_check="no")


def test_other_device_flags_are_false_on_cpu():
    x, ref = gn.ones(2), torch.ones(2)
    for name in ("is_mps", "is_xpu", "is_xla", "is_ipu", "is_vulkan", "is_maia", "is_mtia"):
        assert getattr(x, name) is getattr(ref, name) is False, name


A = np.random.RandomState(0).randn(3, 4).astype(np.float32)


def _put(lib, x, v, accumulate, whole_mask):
    y = x * 1.0
    mask = (x > 0) if whole_mask else lib.tensor([True, False, True])
    y.index_put_((mask,), v, accumulate=accumulate)
    z = x.index_put((mask,), v * 2, accumulate=accumulate)
    return (y * y).sum() + (z * z).sum()


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("whole_mask,value", [(True, 2.0), (False, 2.0),
                                              (False, [0.0, 1.0, 2.0, 3.0])])
def test_index_put_with_a_bool_mask_compiles_and_matches_torch(accumulate, whole_mask, value):
    results = []
    for lib, compiled in ((torch, False), (gn, False), (gn, True)):
        x = lib.tensor(A, requires_grad=True)
        v = lib.tensor(np.asarray(value, np.float32), requires_grad=True)

        def f(x, v, lib=lib):
            return _put(lib, x, v, accumulate, whole_mask)

        out = (gn.compile(f) if compiled else f)(x, v)
        out.backward()
        results.append((out.item(), x.grad.numpy(), v.grad.numpy()))
    for got in results[1:]:
        for a, b in zip(got, results[0]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_index_put_with_one_value_per_selected_row_is_refused_when_compiled():
    f = gn.compile(lambda x: x.index_put((x[:, 0] > 0,), gn.ones(2, 4)))
    with pytest.raises(gn.TraceError, match="data-dependent shape"):
        f(gn.tensor(A))


def test_heaviside_refuses_mixed_dtypes_as_torch():
    for lib in (torch, gn):
        with pytest.raises(RuntimeError, match="heaviside is not yet implemented for tensors "
                                               "with different dtypes"):
            lib.tensor([1, 0, -1]).heaviside(lib.tensor([0.5]))
        with pytest.raises(RuntimeError, match="different dtypes"):
            lib.tensor([1.0, 0.0]).heaviside(lib.tensor(0.5, dtype=lib.float64))
    np.testing.assert_allclose(gn.tensor([1.0, 0.0, -1.0]).heaviside(gn.tensor([0.5])).numpy(),
                               [1.0, 0.5, 0.0])


@pytest.mark.parametrize("compiled", [False, True])
def test_max_and_min_over_an_empty_dim_name_themselves(compiled):
    cases = [(lambda L, x: L.max(x, 1), IndexError,
              "max(): Expected reduction dim 1 to have non-zero size."),
             (lambda L, x: x.min(dim=-2, keepdim=True), IndexError,
              "min(): Expected reduction dim 1 to have non-zero size."),
             (lambda L, x: x.max(), RuntimeError,
              "max(): Expected reduction dim to be specified for input.numel() == 0."),
             (lambda L, x: L.amax(x, 1), IndexError,
              "amax(): Expected reduction dim 1 to have non-zero size.")]
    for fn, kind, message in cases:
        with pytest.raises(kind) as want:
            fn(torch, torch.zeros(2, 0, 3))
        assert str(want.value).startswith(message)
        run = gn.compile(lambda x, fn=fn: fn(gn, x)) if compiled else (lambda x: fn(gn, x))
        with pytest.raises(kind) as got:
            run(gn.zeros(2, 0, 3))
        assert str(got.value) == str(want.value)
    assert tuple(gn.zeros(2, 0, 3).max(0).values.shape) == (0, 3)


def test_uint32_is_a_public_dtype_as_in_torch():
    x = gn.tensor([1, 2], dtype=gn.uint32)
    assert x.dtype is gn.uint32 is gn.UInt32Tensor([1]).dtype
    assert repr(gn.uint32) == "graphnet.uint32" and not gn.uint32.is_signed
    assert gn.iinfo(gn.uint32).max == torch.iinfo(torch.uint32).max == 2 ** 32 - 1
    ref = torch.tensor([1, 2], dtype=torch.uint32)
    assert (x * x).tolist() == (ref * ref).tolist() == [1, 4]


def test_legacy_contiguous_format_is_contiguous_format_as_in_torch():
    assert gn.legacy_contiguous_format is gn.contiguous_format
    assert torch.legacy_contiguous_format is torch.contiguous_format
    x = gn.ones(2, 3, 4, 5).contiguous(memory_format=gn.channels_last)
    logits = gn.tensor([[0.1, 2.0, -1.0]])
    index = logits.max(-1, keepdim=True)[1]
    hard = gn.zeros_like(logits, memory_format=gn.legacy_contiguous_format).scatter_(-1, index,
                                                                                       1.0)
    assert hard.tolist() == [[0.0, 1.0, 0.0]]
    assert gn.zeros_like(x, memory_format=gn.legacy_contiguous_format).stride() == \
        (60, 20, 5, 1)
