"""Normalisation layers against PyTorch 2.13: values and gradients (dynamic and static),
BatchNorm running statistics (updated in place, written back by compiled code), eval mode,
state_dict keys, reprs and shape errors."""

import numpy as np
import pytest
from parity import assert_close, check_module, np_of, to_gn, to_torch, torch

import graphnet
from graphnet import nn

rng = np.random.default_rng(1)


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


X2, X1 = arr(2, 4, 6, 6), arr(2, 4, 7)  # the same shapes as test_conv_pool


def build(name, *args, **kwargs):
    """(graphnet layer, torch layer) with the same arguments; torch's affine parameters and
    running statistics get random values so that they matter (check_module copies them)."""
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
        if getattr(theirs, "running_mean", None) is not None:
            theirs.running_mean.copy_(torch.randn(theirs.running_mean.shape, generator=gen))
            theirs.running_var.copy_(torch.rand(theirs.running_var.shape, generator=gen) + 0.5)
    return ours, theirs


LAYERS = {
    "batchnorm2d_train": (("BatchNorm2d", 4), {}, X2, True),
    "batchnorm2d_eval": (("BatchNorm2d", 4), {}, X2, False),
    "batchnorm2d_weight_only": (("BatchNorm2d", 4), dict(bias=False), X2, True),
    "batchnorm2d_untracked_eval_uses_batch_stats": (
        ("BatchNorm2d", 4), dict(track_running_stats=False), X2, False),
    "batchnorm1d_3d_momentum_none": (("BatchNorm1d", 4), dict(momentum=None), X1, True),
    "batchnorm1d_2d_no_affine": (("BatchNorm1d", 4), dict(affine=False), X1[:, :, 0], True),
    "layernorm": (("LayerNorm", 6), {}, X2, True),
    "layernorm_2d_shape_no_affine": (("LayerNorm", (4, 7)), dict(elementwise_affine=False), X1,
                                     True),
    "layernorm_no_bias": (("LayerNorm", 7), dict(bias=False), X1, True),
    "groupnorm": (("GroupNorm", 2, 4), {}, X2, True),
    "groupnorm_no_affine": (("GroupNorm", 4, 4), dict(affine=False), X1, True),
    "local_response_norm": (("LocalResponseNorm", 3), dict(alpha=0.1, k=2.0), X2, True),
    "local_response_norm_even_size": (("LocalResponseNorm", 2), {}, X1, True),
}


@pytest.mark.parametrize("case", list(LAYERS))
def test_layer_parity(case):
    args, kwargs, x, training = LAYERS[case]
    ours, theirs = build(*args, **kwargs)
    ours.train(training), theirs.train(training)
    check_module(ours, theirs, [x])


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("mode", ["dynamic", "static"])
def test_batchnorm_running_stats_after_three_steps(mode, momentum):
    ours, theirs = nn.BatchNorm2d(4, momentum=momentum), torch.nn.BatchNorm2d(4, momentum=momentum)
    run = ours if mode == "dynamic" else graphnet.compile(lambda x: ours(x))
    for step in range(3):
        x = arr(2, 4, 6, 6) * (step + 1) + step
        assert_close(run(to_gn(x)), theirs(to_torch(x)), what=f"step {step}")
    assert ours.num_batches_tracked.dtype == graphnet.int64
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 3
    for name in ("running_mean", "running_var"):
        assert_close(getattr(ours, name), getattr(theirs, name), 1e-6, 1e-6, what=name)
    ours.eval(), theirs.eval()  # eval normalises with the running statistics
    x = arr(2, 4, 6, 6)
    eval_run = ours if mode == "dynamic" else graphnet.compile(lambda x: ours(x))
    assert_close(eval_run(to_gn(x)), theirs(to_torch(x)), what="eval")
    assert int(ours.num_batches_tracked) == 3


def test_batchnorm_training_step_compiles_with_backward_and_buffers():
    """A whole compiled train step: forward, backward, SGD, running stats written back."""
    ours, theirs = build("BatchNorm2d", 4)
    ours.load_state_dict({k: graphnet.from_numpy(v.numpy().copy())
                          for k, v in theirs.state_dict().items()})
    opt = graphnet.optim.SGD(ours.parameters(), lr=0.1)
    t_opt = torch.optim.SGD(theirs.parameters(), lr=0.1)

    @graphnet.compile
    def step(x):
        opt.zero_grad()
        loss = (ours(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    for _ in range(2):
        t_opt.zero_grad()
        t_loss = (theirs(to_torch(X2)) ** 2).mean()
        t_loss.backward()
        t_opt.step()
        assert_close(step(to_gn(X2)), t_loss)
    for name, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[name], value, 1e-6, 1e-6, what=name)


def test_state_dict_keys_and_reprs_equal_torch():
    layers = [("BatchNorm2d", 16), ("BatchNorm1d", 4, 1e-3, None, False, False),
              ("BatchNorm2d", 4, 1e-5, 0.2, True, True, None, None, {"bias": False}),
              ("LayerNorm", 10), ("LayerNorm", (3, 4), 1e-5, False), ("LayerNorm", 5, 1e-6, True,
                                                                       False),
              ("GroupNorm", 2, 4), ("GroupNorm", 2, 4, 1e-5, False),
              ("LocalResponseNorm", 2), ("LocalResponseNorm", 3, 1e-3, 0.5, 2.0)]
    for name, *args in layers:
        kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
        ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args,
                                                                                     **kwargs)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        for key, value in theirs.state_dict().items():
            np.testing.assert_array_equal(np_of(ours.state_dict()[key]), value.numpy())
    assert repr(nn.BatchNorm2d(16)) == ("BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, "
                                        "bias=True, track_running_stats=True)")


def test_shape_errors_name_module_path_and_shapes():
    model = nn.Sequential(nn.Identity(), nn.BatchNorm2d(16))
    with pytest.raises(graphnet.ShapeError) as err:
        model(to_gn(arr(2, 6, 4, 4)))
    assert str(err.value) == "1 (BatchNorm2d): expected input [N, 16, H, W], got [2, 6, 4, 4]"
    with pytest.raises(graphnet.ShapeError, match=r"^BatchNorm1d: expected input \[N, 4\] or "
                                                  r"\[N, 4, L\], got \[2, 4, 6, 6\]$"):
        nn.BatchNorm1d(4)(to_gn(X2))
    with pytest.raises(graphnet.ShapeError, match=r"LayerNorm: expected input \[\*, 3, 4\], "
                                                  r"got \[2, 4, 7\]"):
        nn.LayerNorm((3, 4))(to_gn(X1))
    with pytest.raises(graphnet.ShapeError, match=r"GroupNorm: expected input \[N, 6, \*\]"):
        nn.GroupNorm(2, 6)(to_gn(X1))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(4)(to_gn(X1[:1, :, 0]))
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)
