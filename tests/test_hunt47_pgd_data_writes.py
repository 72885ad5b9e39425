"""A leaf that requires grad given new values through `.data` inside graphnet.compile (a PGD
attack's `delta.data = (delta + a * delta.grad.sign()).clamp(-eps, eps)`, or a hand-written
SGD's `w.data = w - lr * w.grad`): the leaf takes values of its own, and the next backward
through it gives PyTorch's gradient instead of refusing a shared graph value."""

import numpy as np
import pytest
import torch

import graphnet as gn

RNG = np.random.RandomState(0)
W = RNG.randn(5, 16).astype(np.float32)
X = RNG.rand(4, 16).astype(np.float32)
Y = RNG.randint(0, 5, 4)


def _write(variant, lib, delta, d):
    if variant == "assign_data":
        delta.data = d.data
    elif variant == "assign_detach":
        delta.data = d.detach()
    elif variant == "copy_into_data":
        delta.data.copy_(d)
    else:
        delta.data[:] = d


def _pgd(lib, w, x, y, variant, steps=3):
    delta = lib.zeros_like(x).requires_grad_()
    for _ in range(steps):
        loss = lib.nn.functional.cross_entropy((x + delta) @ w.t(), y)
        loss.backward()
        d = (delta + 0.03 * delta.grad.sign()).clamp(-0.07, 0.07)
        _write(variant, lib, delta, d)
        delta.grad.zero_()
    return delta.detach()


@pytest.mark.parametrize("variant", ["assign_data", "assign_detach", "copy_into_data",
                                     "setitem_data"])
def test_pgd_attack_through_data_compiles_to_torch_values(variant):
    want = _pgd(torch, torch.tensor(W), torch.tensor(X), torch.tensor(Y), variant).numpy()
    attack = gn.compile(lambda w, x, y: _pgd(gn, w, x, y, variant))
    got = attack(gn.tensor(W), gn.tensor(X), gn.tensor(Y))
    np.testing.assert_allclose(got.numpy(), want, atol=1e-7)
    assert np.abs(want).max() > 0.05      # the attack moved


def test_hand_written_sgd_through_data_matches_torch():
    def train(lib, w, steps=3):
        x, y = lib.tensor(X), lib.tensor(Y)
        for _ in range(steps):
            loss = lib.nn.functional.cross_entropy(x @ w.t(), y)
            loss.backward()
            w.data = w - 0.5 * w.grad
            w.grad = None
        return loss.detach()

    tw = torch.tensor(W, requires_grad=True)
    want = train(torch, tw)
    gw = gn.tensor(W, requires_grad=True)
    got = gn.compile(lambda w: train(gn, w))(gw)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5)
    np.testing.assert_allclose(gw.detach().numpy(), tw.detach().numpy(), rtol=1e-5, atol=1e-6)
