"""Normalisation corners where graphnet differed from torch 2.13: F.batch_norm's argument
errors (one running statistic given, none in eval, momentum=None, 1-D input), empty batches
(an error, or a ZeroDivisionError, where torch returns the empty result and keeps its running
statistics), InstanceNorm's affine step promoting a bfloat16/float16 input to float32,
InstanceNorm counted as a BatchNorm (swa_utils.update_bn reset its statistics),
F.layer_norm taking an int, F.normalize(out=), and the missing nn.SyncBatchNorm with
convert_sync_batchnorm. Eager and compiled, values, gradients and buffers."""

import numpy as np
import pytest
import torch

import graphnet as G

R = np.random.RandomState(0)
X3 = [(R.randn(4, 3, 5) * 2 + 1).astype(np.float32) for _ in range(4)]
GRAD_OUT = R.randn(4, 3, 5).astype(np.float32)


def _np(t):
    t = t.detach()
    return (t.float() if t.is_floating_point() else t).numpy()


def _close(got, want, tol=1e-5):
    np.testing.assert_allclose(_np(got), _np(want), rtol=tol, atol=tol)


def _error_types(fn):
    errors = []
    for lib in (torch, G):
        with pytest.raises(Exception) as info:
            fn(lib)
        errors.append(info.value)
    assert isinstance(errors[1], type(errors[0])), (errors[0], errors[1])
    return errors


# ---- F.batch_norm / F.layer_norm argument errors ----------------------------------------
ERROR_CASES = {
    "train_mean_only": lambda l: l.nn.functional.batch_norm(
        l.ones(4, 3), l.zeros(3), None, training=True),
    "train_var_only": lambda l: l.nn.functional.batch_norm(
        l.ones(4, 3), None, l.ones(3), training=True),
    "eval_no_stats": lambda l: l.nn.functional.batch_norm(l.ones(4, 3), None, None),
    "eval_no_var": lambda l: l.nn.functional.batch_norm(l.ones(4, 3), l.zeros(3), None),
    "momentum_none": lambda l: l.nn.functional.batch_norm(
        l.ones(4, 3), l.zeros(3), l.ones(3), training=True, momentum=None),
    "one_dim_training": lambda l: l.nn.functional.batch_norm(l.ones(5), None, None,
                                                             training=True),
    "one_value_per_channel": lambda l: l.nn.functional.batch_norm(
        l.ones(1, 3, 1), None, None, training=True),
    "layer_norm_int_shape": lambda l: l.nn.functional.layer_norm(l.ones(2, 5), 5),
    "normalize_out_with_grad": lambda l: l.nn.functional.normalize(
        l.ones(2, 3, requires_grad=True), out=l.empty(2, 3)),
    "normalize_out_int": lambda l: l.nn.functional.normalize(
        l.ones(2, 3), out=l.empty(2, 3, dtype=l.int64)),
    "sync_bn_1d_input": lambda l: l.nn.SyncBatchNorm(3)(l.ones(3)),
    "sync_bn_no_channels": lambda l: l.nn.SyncBatchNorm(0)(l.ones(2, 0)),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_errors_have_torch_types(case):
    _error_types(ERROR_CASES[case])


def test_batch_norm_error_messages_name_the_argument():
    want, got = _error_types(ERROR_CASES["eval_no_var"])
    assert str(got) == str(want) == "running_var must be defined in evaluation mode"
    want, got = _error_types(ERROR_CASES["train_mean_only"])
    assert str(got) == str(want)


def test_batch_norm_one_stat_in_training_leaves_it_untouched_in_compiled_mode_too():
    mean = G.zeros(3)
    with pytest.raises(ValueError):
        G.compile(lambda x: G.nn.functional.batch_norm(x, mean, None, training=True))(
            G.tensor(X3[0]))
    np.testing.assert_array_equal(mean.numpy(), np.zeros(3, np.float32))


# ---- empty batches -----------------------------------------------------------------------
@pytest.mark.parametrize("compiled", [False, True])
def test_batchnorm_empty_batch_keeps_running_stats(compiled):
    results = []
    for lib in (torch, G):
        bn = lib.nn.BatchNorm1d(3)
        with lib.no_grad():
            bn.running_mean.fill_(0.5)
        x = lib.zeros(0, 3, 4, requires_grad=True)
        run = G.compile(lambda t: bn(t)) if compiled and lib is G else bn
        y = run(x)
        y.sum().backward()
        results.append((y, bn.running_mean, bn.running_var, bn.num_batches_tracked,
                        bn.weight.grad, bn.bias.grad, x.grad))
    for want, got in zip(*results, strict=True):
        assert tuple(got.shape) == tuple(want.shape)
        _close(got, want)


EMPTY_CASES = {
    "batch_norm_no_channels": lambda l: l.nn.functional.batch_norm(
        l.zeros(2, 0, 3), None, None, training=True),
    "group_norm_empty_batch": lambda l: l.nn.functional.group_norm(l.zeros(0, 4, 3), 2),
    "instance_norm_empty_batch": lambda l: l.nn.functional.instance_norm(l.zeros(0, 3, 4)),
}


@pytest.mark.parametrize("case", sorted(EMPTY_CASES))
@pytest.mark.parametrize("compiled", [False, True])
def test_empty_inputs_give_empty_results(case, compiled):
    fn = EMPTY_CASES[case]
    want = fn(torch)
    got = G.compile(lambda: fn(G))() if compiled else fn(G)
    assert tuple(got.shape) == tuple(want.shape)


def test_instance_norm_empty_batch_with_affine_raises_like_torch():
    _error_types(lambda l: l.nn.functional.instance_norm(l.zeros(0, 3, 4), weight=l.ones(3)))


# ---- InstanceNorm keeps a half input's dtype -------------------------------------------
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("track", [False, True])
@pytest.mark.parametrize("compiled", [False, True])
def test_instance_norm_affine_keeps_half_dtype(dtype, track, compiled):
    results = []
    for lib in (torch, G):
        m = lib.nn.InstanceNorm1d(3, affine=True, track_running_stats=track)
        with lib.no_grad():
            m.weight.copy_(lib.tensor([0.5, -1.5, 2.0]))
            m.bias.copy_(lib.tensor([0.1, 0.2, -0.3]))
        x = lib.tensor(X3[0]).to(getattr(lib, dtype)).requires_grad_()
        run = G.compile(lambda t: m(t)) if compiled and lib is G else m
        y = run(x)
        (y.float() * lib.tensor(GRAD_OUT)).sum().backward()
        results.append((y, x.grad, m.weight.grad, m.bias.grad)
                       + ((m.running_mean, m.running_var) if track else ()))
    (want_y, *want_rest), (got_y, *got_rest) = results
    assert str(got_y.dtype).split(".")[-1] == str(want_y.dtype).split(".")[-1] == dtype
    # the same float32 computation rounded once: at most one unit in the last place apart
    _close(got_y, want_y, tol=1e-2)
    for got, want in zip(got_rest, want_rest, strict=True):
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        _close(got, want, tol=3e-2)


# ---- InstanceNorm is not a BatchNorm -----------------------------------------------------
def test_update_bn_leaves_instance_norm_statistics_alone():
    from graphnet.nn._norm import _BatchNorm

    assert not isinstance(G.nn.InstanceNorm2d(3), _BatchNorm)
    assert isinstance(G.nn.BatchNorm2d(3), _BatchNorm)
    results = []
    for lib in (torch, G):
        model = lib.nn.Sequential(lib.nn.InstanceNorm1d(3, track_running_stats=True),
                                  lib.nn.BatchNorm1d(3))
        with lib.no_grad():
            model[0].running_mean.fill_(0.25)
            model[0].num_batches_tracked.fill_(7)
        loader = [lib.tensor(x) for x in X3[:2]]
        (torch.optim.swa_utils if lib is torch else G.optim.swa_utils).update_bn(loader, model)
        results.append(model.state_dict())
    for key, want in results[0].items():
        _close(results[1][key], want)


# ---- SyncBatchNorm -----------------------------------------------------------------------
def test_sync_batchnorm_constructor_repr_and_state_dict():
    for kwargs in ({}, dict(momentum=None, affine=False), dict(track_running_stats=False),
                   dict(bias=False, eps=1e-3)):
        want, got = torch.nn.SyncBatchNorm(4, **kwargs), G.nn.SyncBatchNorm(4, **kwargs)
        assert repr(got) == repr(want)
        assert list(got.state_dict()) == list(want.state_dict())
        assert got.process_group is None


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("compiled", [False, True])
def test_sync_batchnorm_in_one_process_is_batchnorm(momentum, compiled):
    _compare_train_eval_calls(lambda lib: lib.nn.SyncBatchNorm(3, momentum=momentum),
                              (True, False, True, True), compiled)


def _compare_train_eval_calls(make, modes, compiled):
    """Calls of `make(lib)` on X3 in the train/eval `modes`, backward each time: outputs,
    input gradients, every buffer after each call and the parameters' gradients, graphnet
    (compiled or eager) against torch."""
    results = []
    for lib in (torch, G):
        m = make(lib)
        run = G.compile(lambda t: m(t)) if compiled and lib is G else m
        outs = []
        for x, mode in zip(X3, modes, strict=True):
            m.train(mode)
            x = lib.tensor(x, requires_grad=True)
            y = run(x)
            (y * lib.tensor(GRAD_OUT)).sum().backward()
            outs += [y, x.grad] + [b.clone() for b in m.buffers()]
        results.append(outs + [p.grad for p in m.parameters()])
    assert len(results[1]) == len(results[0])
    for got, want in zip(results[1], results[0], strict=True):
        _close(got, want)


def test_convert_sync_batchnorm_swaps_batchnorms_and_shares_their_state():
    def build(lib):
        model = lib.nn.Sequential(lib.nn.Conv2d(1, 3, 1), lib.nn.BatchNorm2d(3),
                                  lib.nn.Sequential(lib.nn.BatchNorm1d(3, affine=False)),
                                  lib.nn.InstanceNorm2d(3, affine=True))
        model[1].eval()
        return model

    want = torch.nn.SyncBatchNorm.convert_sync_batchnorm(build(torch))
    original = build(G)
    got = G.nn.SyncBatchNorm.convert_sync_batchnorm(original)
    assert repr(got) == repr(want)
    assert got is original   # a container is converted in place
    assert type(got[1]) is G.nn.SyncBatchNorm and not got[1].training
    assert type(got[3]) is G.nn.InstanceNorm2d
    bn = G.nn.BatchNorm1d(3)
    sync = G.nn.SyncBatchNorm.convert_sync_batchnorm(bn)
    assert type(sync) is G.nn.SyncBatchNorm
    assert sync.weight is bn.weight and sync.running_mean is bn.running_mean
    assert sync.num_batches_tracked is bn.num_batches_tracked


# ---- F.normalize(out=) -------------------------------------------------------------------
@pytest.mark.parametrize("out_shape", [(4, 3, 5), (2, 2)])
def test_normalize_writes_into_out(out_shape):
    results = []
    for lib in (torch, G):
        out = lib.zeros(*out_shape, dtype=lib.float64)
        with pytest.warns(UserWarning) if lib is torch and out_shape != (4, 3, 5) else _null():
            ret = lib.nn.functional.normalize(lib.tensor(X3[0]), p=3.0, dim=2, out=out)
        assert ret is out
        results.append(out)
    assert results[1].dtype == G.float64
    _close(results[1], results[0], tol=1e-6)


def _null():
    import contextlib

    return contextlib.nullcontext()


# ---- everyday BatchNorm use, eager equals compiled equals torch ------------------------
@pytest.mark.parametrize("kwargs", [dict(momentum=None), dict(affine=False),
                                    dict(track_running_stats=False), dict(bias=False)])
@pytest.mark.parametrize("compiled", [False, True])
def test_batchnorm_calls_switching_train_and_eval(kwargs, compiled):
    _compare_train_eval_calls(lambda lib: lib.nn.BatchNorm1d(3, **kwargs),
                              (True, True, False, True), compiled)
