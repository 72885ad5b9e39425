"""Small parity defects the thirty-second session's hunts found (metric learning, vision,
complex helpers): an error torch raises, or numbers where torch gives numbers."""

import pytest
import torch

import graphnet as gn

_MODES = [lambda f: f, gn.compile]


def _same_error(call, exc):
    with pytest.raises(exc) as expected:
        call(torch)
    with pytest.raises(exc) as got:
        call(gn)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("compile_", _MODES)
def test_cosine_similarity_refuses_a_negative_eps(compile_):
    f = compile_(lambda a, b: gn.nn.functional.cosine_similarity(a, b, eps=-1e-8))
    with pytest.raises(RuntimeError, match="eps must be non-negative, got: -1e-08"):
        f(gn.ones(2, 2), gn.zeros(2, 2))
    with pytest.raises(RuntimeError, match="eps must be non-negative"):
        torch.nn.functional.cosine_similarity(torch.ones(2, 2), torch.zeros(2, 2), eps=-1e-8)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("call", [
    lambda lib, dt: lib.nn.functional.pdist(lib.ones(3, 2).to(dt)),
    lambda lib, dt: lib.nn.functional.multi_margin_loss(lib.ones(2, 3).to(dt),
                                                        lib.zeros(2, dtype=lib.long))])
def test_cpu_kernels_torch_lacks_for_half_types_raise(dtype, call):
    _same_error(lambda lib: call(lib, getattr(lib, dtype)), NotImplementedError)


@pytest.mark.parametrize("compile_", _MODES)
@pytest.mark.parametrize("smoothing", [-0.1, -5.0])
def test_a_negative_label_smoothing_is_none(compile_, smoothing):
    logits = [[0.3, -1.2, 2.0], [1.1, 0.4, -0.7]]
    expected = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor([0, 2]),
                                                 label_smoothing=smoothing).item()
    f = compile_(lambda x, t: gn.nn.functional.cross_entropy(x, t, label_smoothing=smoothing))
    assert f(gn.tensor(logits), gn.tensor([0, 2])).item() == pytest.approx(expected, rel=1e-6)


def test_setting_real_copies_and_setting_imag_raises():
    for lib in (torch, gn):
        x = lib.ones(3)
        view = x.view(3)
        x.real = lib.tensor([1., 2., 3.])
        assert view.tolist() == [1., 2., 3.]
        with pytest.raises(RuntimeError, match="imag is not implemented"):
            x.imag = lib.zeros(3)


def test_module_to_channels_last_lays_out_4d_parameters():
    for lib in (torch, gn):
        m = lib.nn.Conv2d(3, 8, 3).to(memory_format=lib.channels_last)
        assert m.weight.stride() == (27, 1, 9, 3) and m.bias.stride() == (1,)
        assert m.weight.is_contiguous(memory_format=lib.channels_last)
        m.to(lib.float64, memory_format=lib.contiguous_format)
        assert m.weight.stride() == (27, 9, 3, 1) and str(m.weight.dtype).endswith("float64")
        with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last"):
            lib.nn.Conv3d(2, 3, 2).to(memory_format=lib.channels_last)


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
def test_a_parameter_shares_the_storage_of_the_tensor_it_wraps(compile_):
    for lib in (torch, gn):
        w = lib.empty(2, 3)
        p = lib.nn.Parameter(w)
        lib.nn.init.constant_(w, 0.5)   # initialised through the original tensor
        lin = lib.nn.Linear(3, 2, bias=False)
        lin.weight = p
        forward = compile_(lin) if lib is gn else lin
        assert forward(lib.ones(1, 3)).tolist() == [[1.5, 1.5]]
        with lib.no_grad():
            p.mul_(2)   # and the other way
        assert w.tolist() == [[1.0] * 3] * 2


@pytest.mark.parametrize("method", ["swapdims_", "swapaxes_"])
def test_swapping_dims_in_place_keeps_views_and_strides(method):
    for lib in (torch, gn):
        x = lib.zeros(2, 3)
        y = x.view(-1)
        getattr(x, method)(0, 1)
        x[0].fill_(1.0)
        assert y.tolist() == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        assert x.stride() == (1, 3) and not x.is_contiguous()
