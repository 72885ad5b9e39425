"""Spectral norm's power-iteration vectors are written in place, as PyTorch's
`normalize(..., out=u)` writes them (thirty-fourth session's hypernetwork hunt): a
`state_dict()` taken before training shares `_u`/`_v` (`weight_u`/`weight_v`) and shows
the new vectors. Before, each step gave them new storage and the earlier state_dict kept
the old ones, eagerly and compiled."""

import numpy as np
import pytest
import torch

import graphnet as gn


def _models(L):
    L.manual_seed(0)
    new = L.nn.utils.parametrizations.spectral_norm(L.nn.Linear(4, 3))
    old = L.nn.utils.spectral_norm(L.nn.Linear(4, 3))
    with L.no_grad():
        for a in (new.parametrizations.weight.original, old.weight_orig):
            a.copy_(L.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)))
        new.bias.copy_(L.tensor([0.1, -0.2, 0.3]))
        old.bias.copy_(L.tensor([-0.3, 0.2, 0.1]))
        new.parametrizations.weight[0]._u.copy_(L.tensor([0.6, 0.0, 0.8]))
        new.parametrizations.weight[0]._v.copy_(L.tensor([0.5, 0.5, 0.5, 0.5]))
        old.weight_u.copy_(L.tensor([0.0, 0.6, 0.8]))
        old.weight_v.copy_(L.tensor([0.5, -0.5, 0.5, -0.5]))
    return new, old


def _train(L, compile_):
    new, old = _models(L)
    params = list(new.parameters()) + list(old.parameters())
    opt = L.optim.SGD(params, lr=0.1)
    before = {**{"new." + k: v for k, v in new.state_dict().items()},
              **{"old." + k: v for k, v in old.state_dict().items()}}

    def step(x):
        opt.zero_grad()
        loss = (new(x) * old(x)).sum()
        loss.backward()
        opt.step()
        return loss

    step = compile_(step)
    x = L.tensor(np.linspace(-2, 2, 8, dtype=np.float32).reshape(2, 4))
    for _ in range(3):
        step(x)
    after = {**{"new." + k: v for k, v in new.state_dict().items()},
             **{"old." + k: v for k, v in old.state_dict().items()}}
    return before, after


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile], ids=["dynamic", "static"])
def test_an_earlier_state_dict_shows_the_power_iteration(compile_):
    before0, after0 = _train(torch, lambda f: f)
    before, after = _train(gn, compile_)
    assert sorted(before) == sorted(before0)
    for key in ("new.parametrizations.weight.0._u", "new.parametrizations.weight.0._v",
                "old.weight_u", "old.weight_v"):
        np.testing.assert_allclose(after[key].numpy(), after0[key].numpy(), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_array_equal(before[key].numpy(), after[key].numpy())
        assert np.array_equal(before0[key].numpy(), after0[key].numpy())
