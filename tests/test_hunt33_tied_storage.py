"""Parameters made from a temporary alias or view of another tensor (thirty-third session's
tied-weights hunt): `Parameter(q.detach())` and `Parameter(q.t())` share q's storage in
PyTorch; graphnet tied them to the temporary, so after it was freed the parameter stopped
following q. A decoder tied as `Parameter(enc.weight.t())` then trained on its own numbers;
and one optimizer step computed both updates from the same values, so the second store
undid the first (torch updates the shared storage one parameter after the other)."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _shared(T):
    q = T.nn.Parameter(T.zeros(2, 3))
    a = T.nn.Parameter(q.detach())
    c = T.nn.Parameter(q.data.t())
    d = T.nn.Parameter(q.t())
    opt = T.optim.SGD([q], lr=1.0)
    q.grad = T.ones(2, 3)
    opt.step()
    seen = [float(a[0, 0]), float(c[0, 0]), float(d[0, 0])]
    with T.no_grad():
        a.add_(10)
    return seen + [float(q[0, 0]), float(c[1, 0]), float(d[0, 1])]


def test_a_parameter_of_a_temporary_alias_or_view_follows_its_tensor():
    assert _shared(gn) == _shared(torch) == [-1.0, -1.0, -1.0, 9.0, 9.0, 9.0]


def _tied_autoencoder(T, compiled):
    x0 = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    enc = T.nn.Linear(6, 4, bias=False)
    dec = T.nn.Linear(4, 6, bias=False)
    with T.no_grad():
        enc.weight.copy_(T.tensor(np.linspace(-1, 1, 24, dtype=np.float32).reshape(4, 6)))
    dec.weight = T.nn.Parameter(enc.weight.t())
    opt = T.optim.SGD([enc.weight, dec.weight], lr=0.1, momentum=0.5)
    x = T.tensor(x0)

    def step():
        opt.zero_grad()
        loss = ((dec(T.tanh(enc(x))) - x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    step = gn.compile(step) if compiled else step
    return [round(float(step()), 5) for _ in range(4)]


@pytest.mark.parametrize("compiled", [False, True])
def test_a_decoder_tied_to_the_encoders_transpose_trains_as_torch(compiled):
    assert _tied_autoencoder(gn, compiled) == _tied_autoencoder(torch, False)


def test_optimizer_state_dict_numbers_a_repeated_parameter_as_torch():
    def numbering(T):
        w, b = T.nn.Parameter(T.ones(2)), T.nn.Parameter(T.ones(2))
        opt = T.optim.SGD([{"params": [w, w]}, {"params": [b]}], lr=0.1, momentum=0.9)
        w.grad, b.grad = T.ones(2), T.ones(2)
        opt.step()
        sd = opt.state_dict()
        loaded = T.optim.SGD([{"params": [w, w]}, {"params": [b]}], lr=0.1, momentum=0.9)
        loaded.load_state_dict(sd)
        return ([g["params"] for g in sd["param_groups"]], sorted(sd["state"]),
                loaded.state[w]["momentum_buffer"].tolist())

    assert numbering(gn) == numbering(torch)


def _tied_by_data(T, compiled, transposed):
    x0 = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    a = T.nn.Linear(6, 4, bias=False)
    b = T.nn.Linear(4, 6, bias=False) if transposed else T.nn.Linear(6, 4, bias=False)
    with T.no_grad():
        a.weight.copy_(T.tensor(np.linspace(-1, 1, 24, dtype=np.float32).reshape(4, 6)))
    b.weight.data = a.weight.data.t() if transposed else a.weight.data
    opt = T.optim.SGD([a.weight, b.weight], lr=0.1, momentum=0.9)
    x = T.tensor(x0)

    def step():
        opt.zero_grad()
        h = T.tanh(a(x))
        loss = ((b(h) - x) ** 2).mean() if transposed else (h * b(x).sin()).sum()
        loss.backward()
        opt.step()
        return loss

    step = gn.compile(step) if compiled else step
    losses = [round(float(step()), 5) for _ in range(4)]
    return losses, round(float(a.weight.sum()), 4), round(float(b.weight.sum()), 4)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("compiled", [False, True])
def test_weights_tied_through_data_train_as_torch(compiled, transposed):
    (got_losses, *got_sums) = _tied_by_data(gn, compiled, transposed)
    (want_losses, *want_sums) = _tied_by_data(torch, False, transposed)
    # float32 sums of matrix products: the last rounded digit may differ between CPUs
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got_sums, want_sums, rtol=1e-5, atol=1e-4)


def test_new_data_unties_a_parameter_view():
    q = gn.nn.Parameter(gn.zeros(2, 3))
    p = gn.nn.Parameter(q.t())
    p.data = gn.ones(3, 2)
    with gn.no_grad():
        q.add_(5)
    assert p.tolist() == [[1.0, 1.0]] * 3
