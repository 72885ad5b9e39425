"""nn.utils helpers against PyTorch: get_total_norm, clip_grads_with_norm_, the deprecated
clip_grad_norm, parameters_to_vector / vector_to_parameters, conv/linear + BatchNorm fusion,
skip_init and the memory-format converters."""

import warnings

import numpy as np
import pytest
from parity import assert_close, copy_torch_params, np_of, to_gn, torch

import graphnet
from graphnet import nn

rng = np.random.default_rng(0)


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), 0])
def test_get_total_norm_matches_torch(norm_type):
    arrays = [arr(3, 4), arr(5), arr(2, 2) * 0]
    ours = nn.utils.get_total_norm([to_gn(a) for a in arrays], norm_type)
    theirs = torch.nn.utils.get_total_norm([torch.tensor(a) for a in arrays], norm_type)
    assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    assert nn.utils.get_total_norm([]).tolist() == 0.0


def test_clip_grads_with_norm_and_deprecated_alias():
    grads = [arr(3, 4) * 5, arr(4)]
    ours = [nn.Parameter(graphnet.zeros(*g.shape)) for g in grads]
    theirs = [torch.nn.Parameter(torch.zeros(*g.shape)) for g in grads]
    for o, t, g in zip(ours, theirs, grads):
        o.grad, t.grad = to_gn(g), torch.tensor(g)
    total = nn.utils.get_total_norm([p.grad for p in ours])
    nn.utils.clip_grads_with_norm_(ours, 1.0, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 1.0,
                                         torch.nn.utils.get_total_norm([p.grad for p in theirs]))
    for o, t in zip(ours, theirs):
        assert_close(o.grad, t.grad)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        norm = nn.utils.clip_grad_norm(ours, 0.5)
    assert_close(norm, torch.tensor(1.0), atol=1e-5)
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)


def test_error_if_nonfinite_eager_and_static_refusal():
    p = nn.Parameter(graphnet.zeros(2))
    p.grad = graphnet.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)

    def step(x):
        (p * x).sum().backward()
        return nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)

    with pytest.raises(graphnet.TraceError, match="error_if_nonfinite=False"):
        graphnet.compile(step)(graphnet.ones(2))


def test_parameters_to_vector_round_trip_dynamic_and_static():
    t_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    g_model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    copy_torch_params(t_model, g_model)
    t_vec = torch.nn.utils.parameters_to_vector(t_model.parameters())
    g_vec = nn.utils.parameters_to_vector(g_model.parameters())
    assert_close(g_vec, t_vec)
    (g_vec * graphnet.arange(g_vec.numel()).float()).sum().backward()
    (t_vec * torch.arange(t_vec.numel()).float()).sum().backward()
    for g, t in zip(g_model.parameters(), t_model.parameters()):
        assert_close(g.grad, t.grad)
    compiled = graphnet.compile(lambda: nn.utils.parameters_to_vector(g_model.parameters()) * 2)
    assert_close(compiled(), t_vec * 2)
    new = arr(g_vec.numel())
    nn.utils.vector_to_parameters(to_gn(new), g_model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), t_model.parameters())
    for g, t in zip(g_model.parameters(), t_model.parameters()):
        assert isinstance(g, nn.Parameter)
        assert_close(g, t)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        nn.utils.vector_to_parameters([1.0], g_model.parameters())


def _trained_bn(lib, features, dims):
    bn = getattr(lib.nn, f"BatchNorm{dims}d")(features)
    bn.running_mean.copy_(lib.tensor(arr(features)))
    bn.running_var.copy_(lib.tensor(np.abs(arr(features)) + 0.5))
    with lib.no_grad():
        bn.weight.copy_(lib.tensor(arr(features)))
        bn.bias.copy_(lib.tensor(arr(features)))
    return bn.eval()


def test_fuse_conv_bn_eval_matches_torch():
    t_conv, g_conv = torch.nn.Conv2d(3, 4, 3), nn.Conv2d(3, 4, 3)
    copy_torch_params(t_conv, g_conv)
    t_bn = _trained_bn(torch, 4, 2)
    g_bn = nn.BatchNorm2d(4)
    copy_torch_params(t_bn, g_bn)
    t_fused = torch.nn.utils.fuse_conv_bn_eval(t_conv.eval(), t_bn)
    g_fused = nn.utils.fuse_conv_bn_eval(g_conv.eval(), g_bn.eval())
    assert g_fused is not g_conv and isinstance(g_fused.weight, nn.Parameter)
    assert_close(g_fused.weight, t_fused.weight)
    assert_close(g_fused.bias, t_fused.bias)
    x = arr(2, 3, 6, 6)
    assert_close(g_fused(to_gn(x)), g_bn(g_conv(to_gn(x))), atol=1e-5)
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        nn.utils.fuse_conv_bn_eval(g_conv.train(), g_bn)
    w, b = nn.utils.fuse_conv_bn_weights(to_gn(arr(3, 4, 1, 1)), None, g_bn.running_mean,
                                         g_bn.running_var, 1e-5, None, None, transpose=True)
    assert tuple(w.shape) == (3, 4, 1, 1) and tuple(b.shape) == (4,)


def test_fuse_linear_bn_eval_matches_torch():
    t_lin, g_lin = torch.nn.Linear(3, 4, bias=False), nn.Linear(3, 4, bias=False)
    copy_torch_params(t_lin, g_lin)
    t_bn = _trained_bn(torch, 4, 1)
    g_bn = nn.BatchNorm1d(4)
    copy_torch_params(t_bn, g_bn)
    t_fused = torch.nn.utils.fuse_linear_bn_eval(t_lin.eval(), t_bn)
    g_fused = nn.utils.fuse_linear_bn_eval(g_lin.eval(), g_bn.eval())
    assert_close(g_fused.weight, t_fused.weight)
    assert_close(g_fused.bias, t_fused.bias)
    with pytest.raises(AssertionError, match="linear.out_features == bn.num_features"):
        nn.utils.fuse_linear_bn_eval(nn.Linear(3, 5).eval(), g_bn)


def test_skip_init_and_memory_format():
    layer = nn.utils.skip_init(nn.Linear, 4, 3, bias=False)
    assert isinstance(layer, nn.Linear) and tuple(layer.weight.shape) == (3, 4)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        nn.utils.skip_init(int)

    class NoDevice(nn.Module):
        def __init__(self):
            super().__init__()
    with pytest.raises(RuntimeError, match="must support a 'device' arg"):
        nn.utils.skip_init(NoDevice)
    model = nn.Sequential(nn.Conv2d(1, 2, 3))
    before = np_of(model[0].weight)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.utils.convert_conv2d_weight_memory_format(model, None) is model
        assert nn.utils.convert_conv3d_weight_memory_format(model, None) is model
    np.testing.assert_array_equal(np_of(model[0].weight), before)
