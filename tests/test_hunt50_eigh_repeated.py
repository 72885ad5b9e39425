"""eigh's gradient at a repeated eigenvalue. The backward wrote 0 for every element whose
numerator was exactly 0, meant for eigvalsh (an eigenvector cotangent of zeros), but at a
repeated eigenvalue that element is 0 / 0: a matrix square root through eigh of `P P^T` at
`P = I` (a Mahalanobis kernel or ZCA whitening at init) gave P a finite gradient with no
off-diagonal, so those entries never trained, where PyTorch's gradient is NaN."""

import numpy as np
import pytest
import torch

import graphnet as gn

W = np.array([[0.3, 0.7, 0.1], [0.3, 0.5, 0.2], [0.1, 0.4, 0.2]], np.float32)


def _sqrtm_loss(lib, p):
    values, vectors = lib.linalg.eigh(p @ p.T)
    return ((vectors * values.sqrt()) @ vectors.T * lib.tensor(W)).sum()


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("start", ["identity", "distinct"])
def test_eigh_gradients_follow_torch_at_and_away_from_a_repeated_eigenvalue(compiled, start):
    p0 = np.eye(3, dtype=np.float32) if start == "identity" else \
        np.array([[1.0, 0.2, 0.0], [0.1, 1.5, 0.3], [0.0, 0.2, 2.0]], np.float32)
    tp = torch.tensor(p0, requires_grad=True)
    _sqrtm_loss(torch, tp).backward()
    gp = gn.tensor(p0, requires_grad=True)
    loss = (gn.compile(lambda p: _sqrtm_loss(gn, p)) if compiled else
            (lambda p: _sqrtm_loss(gn, p)))(gp)
    loss.backward()
    want = tp.grad.numpy()
    if start == "identity":
        assert np.isnan(want).all() and np.isnan(gp.grad.numpy()).all()
    else:
        np.testing.assert_allclose(gp.grad.numpy(), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("compiled", [False, True])
def test_eigenvalues_alone_keep_a_finite_gradient_at_a_repeated_eigenvalue(compiled):
    a0 = np.diag([1.0, 1.0, 2.0]).astype(np.float32)

    def loss(lib, a):
        return (lib.linalg.eigvalsh(a) * lib.tensor([1.0, 2.0, 3.0])).sum() + \
            lib.linalg.eigh(a)[0].square().sum()

    ta = torch.tensor(a0, requires_grad=True)
    loss(torch, ta).backward()
    ga = gn.tensor(a0, requires_grad=True)
    (gn.compile(lambda a: loss(gn, a)) if compiled else (lambda a: loss(gn, a)))(ga).backward()
    assert np.isfinite(ga.grad.numpy()).all()
    np.testing.assert_allclose(ga.grad.numpy(), ta.grad.numpy(), rtol=1e-5, atol=1e-6)
