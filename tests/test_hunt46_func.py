"""torch.func's BatchNorm recipe for vmap and `functionalize`, against PyTorch."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _pair(seed=0):
    torch.manual_seed(seed)
    ref = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3),
                              torch.nn.Sequential(torch.nn.ReLU(), torch.nn.BatchNorm1d(3)))
    net = gn.nn.Sequential(gn.nn.Linear(2, 3), gn.nn.BatchNorm1d(3),
                           gn.nn.Sequential(gn.nn.ReLU(), gn.nn.BatchNorm1d(3)))
    net.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    return ref, net


@pytest.mark.parametrize("train", [True, False])
def test_replace_all_batch_norm_modules_lets_vmap_map_a_batchnorm_model(train):
    ref, net = _pair()
    ref.train(train), net.train(train)
    assert torch.func.replace_all_batch_norm_modules_(ref) is ref
    assert gn.func.replace_all_batch_norm_modules_(net) is net
    for bn in (net[1], net[2][1]):   # the nested one too
        assert bn.running_mean is None and bn.running_var is None
        assert bn.num_batches_tracked is None and bn.track_running_stats is False
    x = np.random.default_rng(0).standard_normal((3, 4, 2)).astype(np.float32)
    want = torch.func.vmap(ref)(torch.tensor(x)).detach().numpy()
    got = gn.func.vmap(net)(gn.tensor(x))
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gn.compile(gn.func.vmap(net))(gn.tensor(x)).detach().numpy(), want,
                               rtol=1e-5, atol=1e-5)
    assert "running_mean" not in net.state_dict()


def test_functionalize_keeps_results_and_input_writes():
    def f(x):
        y = x.clone()
        y.add_(1)
        x.mul_(2)
        return y * x

    for T in (torch, gn):
        x = T.tensor([1.0, 2.0, 3.0])
        out = T.func.functionalize(f)(x)
        assert out.tolist() == [4.0, 12.0, 24.0] and x.tolist() == [2.0, 4.0, 6.0]
    x = gn.tensor([1.0, 2.0, 3.0])
    assert gn.func.functionalize(f, remove="mutations_and_views")(x).tolist() == [4.0, 12.0, 24.0]
    for T in (torch, gn):
        with pytest.raises(RuntimeError, match="received invalid argument for remove=views"):
            T.func.functionalize(f, remove="views")
