"""Parameter and tensor subclasses made PyTorch's way: geoopt's `ManifoldParameter.__new__`
calls `super().__new__(cls, data, requires_grad)` and keeps a `manifold`; `ManifoldTensor`
calls `Tensor._make_subclass(cls, data, requires_grad)`. graphnet's Parameter was built in
`__init__` (object.__new__ refused the arguments) and `_make_subclass` was missing."""

import copy
import pickle

import numpy as np
import pytest
import torch

import graphnet as gn


def _manifold_parameter(lib):
    class ManifoldParameter(lib.nn.Parameter):
        def __new__(cls, data=None, requires_grad=True, manifold=None):
            inst = super().__new__(cls, data, requires_grad)
            inst.manifold = manifold
            return inst

    return ManifoldParameter


def _manifold_tensor(lib):
    class ManifoldTensor(lib.Tensor):
        def __new__(cls, data, manifold=None, requires_grad=False):
            inst = lib.Tensor._make_subclass(cls, data, requires_grad)
            inst.manifold = manifold
            return inst

    return ManifoldTensor


@pytest.mark.parametrize("lib", [torch, gn], ids=["torch", "graphnet"])
def test_parameter_subclass_with_its_own_new(lib):
    mp = _manifold_parameter(lib)
    data = lib.arange(6.0).reshape(3, 2)
    p = mp(data, manifold="poincare")
    assert type(p) is mp and isinstance(p, lib.nn.Parameter)
    assert p.manifold == "poincare" and p.requires_grad and tuple(p.shape) == (3, 2)
    assert p.data_ptr() == data.data_ptr()       # shares the data's storage, as PyTorch
    frozen = mp(lib.ones(2), requires_grad=False)
    assert not frozen.requires_grad and frozen.manifold is None
    module = lib.nn.Module()
    module.w = p
    assert [n for n, _ in module.named_parameters()] == ["w"]
    with pytest.raises(TypeError):
        lib.nn.Parameter(lib.ones(2), tag=1)     # Parameter itself takes no other argument


@pytest.mark.parametrize("lib", [torch, gn], ids=["torch", "graphnet"])
def test_make_subclass_wraps_a_tensor(lib):
    mt = _manifold_tensor(lib)
    data = lib.tensor([1.0, 2.0, 3.0])
    t = mt(data, manifold="sphere", requires_grad=True)
    assert type(t) is mt and t.manifold == "sphere" and t.requires_grad and t.is_leaf
    assert t.data_ptr() == data.data_ptr()
    assert (t * 2).sum().item() == 12.0
    plain = lib.Tensor._make_subclass(mt, data)
    assert not plain.requires_grad
    with pytest.raises(TypeError):
        lib.Tensor._make_subclass(mt, [1.0, 2.0])


def _riemannian_steps(lib, static):
    torch.manual_seed(0)
    start = np.random.default_rng(0).uniform(-0.3, 0.3, (5, 2)).astype(np.float32)
    mp = _manifold_parameter(lib)
    emb = mp(lib.tensor(start), manifold="poincare")

    def step(i, j):
        d = (emb[i] - emb[j]).norm(dim=-1)
        loss = d.square().mean()
        loss.backward()
        with lib.no_grad():
            scale = (1 - emb.square().sum(-1, keepdim=True)) ** 2 / 4
            emb.sub_(0.5 * scale * emb.grad)
            emb.grad = None
        return loss

    if static:
        step = gn.compile(step)
    i, j = lib.tensor([0, 1, 2]), lib.tensor([3, 4, 0])
    losses = [float(step(i, j)) for _ in range(3)]
    return losses, emb.detach().numpy(), type(emb).__name__, emb.manifold


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
def test_subclassed_parameter_trains_as_in_torch(static):
    want = _riemannian_steps(torch, False)
    got = _riemannian_steps(gn, static)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-6)
    assert got[2:] == want[2:] == ("ManifoldParameter", "poincare")


def test_parameters_still_copy_and_pickle():
    p = gn.nn.Parameter(gn.tensor([1.0, 2.0]))
    p.tag = "kept"
    for q in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert type(q) is gn.nn.Parameter and q.requires_grad and q.tolist() == [1.0, 2.0]
        assert q.data_ptr() != p.data_ptr()
    assert pickle.loads(pickle.dumps(p)).tag == "kept"
    lazy = gn.nn.parameter.UninitializedParameter()
    assert repr(lazy) == "<UninitializedParameter>" and lazy.requires_grad
