"""Two PyTorch behaviours: a float size raises TypeError in every factory (`int(s)` quietly
truncated it, so a negative-sample count `B * 0.5` gave fewer samples), and an eval-mode
batch norm's backward reads running statistics restored with `.data =` after the forward
(the semi-supervised "BN controller"; graphnet refused it), while an in-place write to them
still raises."""

import numpy as np
import pytest
import torch

import graphnet


@pytest.mark.parametrize("lib", [torch, graphnet], ids=["torch", "graphnet"])
@pytest.mark.parametrize("call", [
    lambda L: L.zeros(2.0), lambda L: L.zeros((2.0, 3)), lambda L: L.ones([2, 3.5]),
    lambda L: L.empty(2, 3.0), lambda L: L.full((2.0,), 1.0), lambda L: L.rand(2.5),
    lambda L: L.randn(2, 1.5), lambda L: L.randint(0, 5, (2.5,)), lambda L: L.randperm(3.0),
    lambda L: L.zeros(True),
], ids=["zeros", "zeros_tuple", "ones_list", "empty", "full", "rand", "randn", "randint",
        "randperm", "bool"])
def test_a_float_or_bool_size_raises_type_error(lib, call):
    with pytest.raises(TypeError):
        call(lib)


def test_integer_sizes_of_every_kind_still_work():
    assert tuple(graphnet.zeros(np.int64(2), 3).shape) == (2, 3)
    assert tuple(graphnet.zeros((graphnet.tensor(2), 3)).shape) == (2, 3)
    assert tuple(graphnet.full(3, 1.0).shape) == (3,)
    assert tuple(graphnet.randperm(np.int64(4)).shape) == (4,)
    assert tuple(graphnet.zeros(graphnet.Size([2, 3])).shape) == (2, 3)


def _bn_restore(lib, compiled):
    bn = lib.nn.BatchNorm1d(3).eval()
    with lib.no_grad():
        bn.running_var.fill_(2.0)
        bn.weight.fill_(1.5)
    x = lib.tensor(np.arange(12.0, dtype=np.float32).reshape(4, 3), requires_grad=True)

    def f(x):
        y = bn(x)
        bn.running_var.data = lib.full((3,), 4.0)
        y.sum().backward()
        return y

    if compiled:
        f = graphnet.compile(f)
    f(x)
    return x.grad.numpy(), bn.weight.grad.numpy()


@pytest.mark.parametrize("compiled", [False, True])
def test_eval_batch_norm_backward_reads_restored_running_stats(compiled):
    want = _bn_restore(torch, False)
    got = _bn_restore(graphnet, compiled)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5)
    assert got[0][0, 0] == pytest.approx(1.5 / np.sqrt(4.0 + 1e-5), rel=1e-6)


def test_eval_batch_norm_running_stats_written_in_place_still_raise():
    bn = graphnet.nn.BatchNorm1d(3).eval()
    x = graphnet.ones(4, 3, requires_grad=True)
    y = bn(x)
    with graphnet.no_grad():
        bn.running_var.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
