"""The weight a forward pre-hook computes (pruning, weight_norm, spectral_norm) is a new
tensor after every compiled call, as after every eager forward (thirty-fourth session's
pruning hunt). Before, the compiled step wrote the new values into the tensor the module
held, so `w1 = lin.weight` taken after the first step showed the second step's weight."""

import numpy as np
import pytest
import torch
import torch.nn.utils.prune  # noqa: F401  (a submodule torch does not import)

import graphnet as gn
import graphnet.nn.utils.prune  # noqa: F401

_W = np.array([[1.0, 2.0, 3.0], [4.0, -5.0, 6.0]], np.float32)
_X = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)


def _prune(L, lin):
    L.nn.utils.prune.l1_unstructured(lin, "weight", amount=2)
    return lin


def _weight_norm(L, lin):
    return L.nn.utils.weight_norm(lin)


def _spectral_norm(L, lin):
    return L.nn.utils.spectral_norm(lin)


def _run(L, wrap, compile_):
    lin = L.nn.Linear(3, 2)
    with L.no_grad():
        lin.weight.copy_(L.tensor(_W))
        lin.bias.zero_()
    lin = wrap(L, lin)
    if hasattr(lin, "weight_u"):
        with L.no_grad():
            lin.weight_u.copy_(L.tensor([0.6, 0.8]))
            lin.weight_v.copy_(L.tensor([0.6, 0.0, 0.8]))
    opt = L.optim.SGD(lin.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = lin(x).pow(2).sum()
        loss.backward()
        opt.step()
        return loss

    step = compile_(step)
    kept = []
    for i in range(4):
        step(L.tensor(_X))
        kept.append(lin.weight)
        if i == 1:
            with L.no_grad():   # an eager evaluation between compiled steps
                lin.eval()
                lin(L.tensor(_X))
                lin.train()
    return [w.detach().numpy().copy() for w in kept], [w is lin.weight for w in kept], step


@pytest.mark.parametrize("wrap", [_prune, _weight_norm, _spectral_norm],
                         ids=["prune", "weight_norm", "spectral_norm"])
@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile], ids=["dynamic", "static"])
def test_a_weight_taken_after_a_step_keeps_that_steps_values(wrap, compile_):
    expected, expected_is = _run(torch, wrap, lambda f: f)[:2]
    got, got_is, step = _run(gn, wrap, compile_)
    assert got_is == expected_is
    for w, w0 in zip(got, expected, strict=True):
        np.testing.assert_allclose(w, w0, rtol=1e-5, atol=1e-6)
    if compile_ is gn.compile:   # and it compiled once, not once per call
        assert step.explain()["graphs"] == 1


def test_a_weight_read_before_the_hook_still_reads_the_new_one():
    results = []
    for L, compile_ in ((torch, lambda f: f), (gn, gn.compile)):
        lin = L.nn.Linear(3, 2)
        with L.no_grad():
            lin.weight.copy_(L.tensor(_W))
            lin.bias.zero_()
        _prune(L, lin)
        opt = L.optim.SGD(lin.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = lin(x).pow(2).sum() + lin.weight.abs().sum()
            loss.backward()
            opt.step()
            return loss

        step = compile_(step)
        results.append([float(step(L.tensor(_X))) for _ in range(3)])
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5)
