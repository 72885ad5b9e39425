"""InstanceNorm1d/2d/3d, BatchNorm3d, RMSNorm and their functional forms against PyTorch:
values, gradients and running statistics in dynamic and static mode, reprs, state_dicts."""

import numpy as np
import pytest
from parity import assert_close, check_module, copy_torch_params, np_of, to_gn, to_torch, torch

import graphnet
from graphnet import nn
from graphnet.nn import functional as F

rng = np.random.default_rng(0)


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def pair(make):
    return make(nn), make(torch.nn)


INSTANCE_CASES = {
    "1d_plain": (lambda m: m.InstanceNorm1d(3), (2, 3, 6)),
    "1d_unbatched_affine": (lambda m: m.InstanceNorm1d(3, affine=True), (3, 6)),
    "2d_affine_no_bias": (lambda m: m.InstanceNorm2d(3, affine=True, bias=False), (2, 3, 4, 4)),
    "3d_tracked": (lambda m: m.InstanceNorm3d(2, track_running_stats=True), (2, 2, 3, 3, 2)),
}


@pytest.mark.parametrize("case", INSTANCE_CASES)
def test_instance_norm_train_values_grads_and_running_stats(case):
    make, shape = INSTANCE_CASES[case]
    ours, theirs = pair(make)
    x = arr(*shape) * 2 + 1
    check_module(ours, theirs, [x])
    if ours.track_running_stats:
        # check_module ran dynamic then static: two updates, torch ran one
        theirs(to_torch(x))
        for name in ("running_mean", "running_var"):
            assert_close(getattr(ours, name), getattr(theirs, name), what=name)
        assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 0


def test_instance_norm_eval_uses_running_stats_and_repr():
    ours, theirs = pair(lambda m: m.InstanceNorm2d(3, affine=True, track_running_stats=True))
    x = arr(2, 3, 4, 4) + 3
    theirs(to_torch(x))
    copy_torch_params(theirs, ours)
    ours.eval(), theirs.eval()
    check_module(ours, theirs, [x], copy=False)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    plain = nn.InstanceNorm1d(4)
    assert repr(plain) == repr(torch.nn.InstanceNorm1d(4)) and list(plain.state_dict()) == []


def test_instance_norm_errors_like_torch():
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.InstanceNorm1d(3)(graphnet.randn(1, 3, 4, 4))
    with pytest.raises(ValueError, match="match num_features"):
        nn.InstanceNorm1d(4, affine=True)(graphnet.randn(2, 3, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(4)(graphnet.randn(2, 3, 5))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(graphnet.randn(2, 3, 1))


def test_functional_instance_norm_updates_given_stats():
    x = arr(4, 3, 5)
    mean, var = np.zeros(3, np.float32), np.ones(3, np.float32)
    tm, tv, gm, gv = to_torch(mean), to_torch(var), to_gn(mean), to_gn(var)
    out_t = torch.nn.functional.instance_norm(to_torch(x), tm, tv, momentum=0.3)
    out_g = graphnet.compile(lambda a: F.instance_norm(a, gm, gv, momentum=0.3))(to_gn(x))
    assert_close(out_g, out_t)
    assert_close(gm, tm, what="running_mean")
    assert_close(gv, tv, what="running_var")
    assert np.abs(np_of(tm)).sum() > 0


def test_batchnorm3d():
    ours, theirs = pair(lambda m: m.BatchNorm3d(3))
    check_module(ours, theirs, [arr(2, 3, 2, 3, 2)])
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with pytest.raises(ValueError):
        ours(graphnet.randn(2, 3, 4, 4))


RMS_CASES = {
    "last_dim": (lambda m: m.RMSNorm(8), (2, 5, 8)),
    "two_dims_eps": (lambda m: m.RMSNorm([5, 8], eps=1e-3), (2, 5, 8)),
    "no_affine": (lambda m: m.RMSNorm(8, elementwise_affine=False), (3, 8)),
}


@pytest.mark.parametrize("case", RMS_CASES)
def test_rms_norm_module(case):
    make, shape = RMS_CASES[case]
    ours, theirs = pair(make)
    check_module(ours, theirs, [arr(*shape) * 3])
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_functional_rms_norm_weight_and_errors():
    x, w = arr(2, 3, 4), arr(4)
    expected = torch.nn.functional.rms_norm(to_torch(x), [4], to_torch(w))
    assert_close(F.rms_norm(to_gn(x), [4], to_gn(w)), expected)
    half = F.rms_norm(to_gn(x).half(), (4,))
    assert half.dtype == graphnet.float16
    assert_close(half.float(), torch.nn.functional.rms_norm(to_torch(x).half(), (4,)).float(),
                 atol=2e-3, rtol=2e-3)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.rms_norm(to_gn(x), (3,))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        nn.RMSNorm(5)(to_gn(x))
    assert np_of(nn.RMSNorm(4).weight).tolist() == [1.0] * 4
