"""`func.grad` of a loss built on `vmap(jacrev)` / `vmap(hessian)` (a PINN's Laplacian),
compiled: the vmap's body indexes by Python ints only, which leave nothing unchecked, so it
is differentiated (it was refused as if it read labels); a body that indexes with a traced
tensor is still refused."""

import numpy as np
import pytest
import torch

import graphnet as gn
from graphnet._errors import TraceError

X = np.random.RandomState(1).rand(6, 2).astype(np.float32)


def _net(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(2, 8), lib.nn.Tanh(), lib.nn.Linear(8, 1))


def _loss(lib, m, transform):
    F = lib.func

    def u(p, x):
        return F.functional_call(m, p, (x.unsqueeze(0),)).squeeze()

    def loss(p, xs):
        if transform == "hessian":
            h = F.vmap(F.hessian(u, argnums=1), in_dims=(None, 0))(p, xs)
            return h.diagonal(dim1=-2, dim2=-1).sum(-1).pow(2).mean()
        return F.vmap(F.jacrev(u, argnums=1), in_dims=(None, 0))(p, xs).pow(2).mean()

    return loss


@pytest.mark.parametrize("transform", ["jacrev", "hessian"])
def test_grad_of_a_vmapped_jacobian_loss_compiles_to_torch_values(transform):
    tm, gm = _net(torch), _net(gn)
    gm.load_state_dict({k: gn.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    want = torch.func.grad(_loss(torch, tm, transform))(
        {k: v.detach() for k, v in tm.named_parameters()}, torch.tensor(X))
    got = gn.compile(gn.func.grad(_loss(gn, gm, transform)))(
        {k: v.detach().clone() for k, v in gm.named_parameters()}, gn.tensor(X))
    for name, g in want.items():
        np.testing.assert_allclose(got[name].numpy(), g.numpy(), rtol=1e-4, atol=1e-6)


def test_a_vmapped_body_indexing_with_a_traced_tensor_is_still_refused():
    def loss(p, x, idx):
        per = gn.func.vmap(lambda xi, ii: (xi * p)[ii].sum())(x, idx)
        return gn.autograd.grad(per.sum(), p, create_graph=True)[0].sum()

    with pytest.raises(TraceError, match="reads labels or indices"):
        gn.compile(loss)(gn.ones(3, requires_grad=True), gn.rand(4, 3), gn.tensor([0, 2, 1, 2]))
