"""A compiled module that keeps a loss on itself in forward (`self.loss = ...`, the style
transfer tutorial's ContentLoss and StyleLoss): the kept tensor carries the call's gradient,
as eagerly, instead of arriving detached and silently dropping its term from backward."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _classes(T):
    F = T.nn.functional

    class ContentLoss(T.nn.Module):
        def __init__(self, target):
            super().__init__()
            self.target = target

        def forward(self, x):
            self.loss = F.mse_loss(x, self.target)
            return x

    class StyleLoss(T.nn.Module):
        def __init__(self, target):
            super().__init__()
            self.target = target

        def forward(self, x):
            b, c, h, w = x.shape
            f = x.reshape(b * c, h * w)
            self.loss = F.mse_loss(f @ f.t() / (b * c * h * w), self.target)
            return x

    class Aux(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = T.nn.Conv2d(3, 4, 3)

        def forward(self, x):
            y = self.conv(x)
            self.loss = (y ** 2).mean()
            return y

    return ContentLoss, StyleLoss, Aux


def _build(T, seed=0):
    ContentLoss, StyleLoss, Aux = _classes(T)
    rng = np.random.default_rng(seed)
    content = T.tensor(rng.random((1, 4, 6, 6), dtype=np.float32))
    style = T.tensor(rng.random((4, 4), dtype=np.float32))
    conv = T.nn.Conv2d(3, 4, 3, padding=1)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32) * 0.3
    with T.no_grad():
        conv.weight.copy_(T.tensor(w)), conv.bias.fill_(0.1)
    model = T.nn.Sequential(conv, ContentLoss(content), T.nn.ReLU(), StyleLoss(style))
    return model, Aux


def _step(T, model, img, compiled):
    run = gn.compile(model) if compiled else model
    out = run(img)
    total = out.mean() + model[1].loss + 100 * model[3].loss
    total.backward()
    return float(total.detach()), img.grad.numpy().copy(), model[0].weight.grad.numpy().copy()


@pytest.mark.parametrize("compiled", [False, True])
def test_losses_kept_on_modules_carry_gradients(compiled):
    x = np.random.default_rng(1).random((1, 3, 6, 6), dtype=np.float32)
    want = _step(torch, _build(torch)[0], torch.tensor(x).requires_grad_(), False)
    model = _build(gn)[0]
    for _ in range(2):   # the traced call and a cached one
        model.zero_grad()
        got = _step(gn, model, gn.tensor(x).requires_grad_(), compiled)
        assert got[0] == pytest.approx(want[0], rel=1e-5)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(got[2], want[2], rtol=1e-4, atol=1e-6)
        assert model[1].loss.requires_grad and model[3].loss.grad_fn is not None


def test_each_call_keeps_its_own_loss_and_no_grad_keeps_none():
    x1, x2 = np.random.default_rng(2).random((2, 1, 3, 6, 6), dtype=np.float32)
    ref = None
    for T in (torch, gn):
        _, Aux = _build(T)
        T.manual_seed(0)
        aux = Aux()
        if ref is not None:
            aux.load_state_dict({k: gn.tensor(v.detach().numpy())
                                 for k, v in ref.state_dict().items()})
            run = gn.compile(aux)
        else:
            ref, run = aux, aux
        a, b = T.tensor(x1).requires_grad_(), T.tensor(x2).requires_grad_()
        run(a)
        first = aux.loss
        out = run(b)
        (out.sum() * 0 + first + 3 * aux.loss).backward()
        if T is torch:
            want = a.grad.numpy(), b.grad.numpy()
        else:
            np.testing.assert_allclose(a.grad.numpy(), want[0], rtol=1e-4, atol=1e-6)
            np.testing.assert_allclose(b.grad.numpy(), want[1], rtol=1e-4, atol=1e-6)
        with T.no_grad():
            run(a)
        assert not aux.loss.requires_grad and aux.loss.grad_fn is None
