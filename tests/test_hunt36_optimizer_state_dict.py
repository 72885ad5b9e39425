"""An optimizer's state_dict, as PyTorch's: a state key that is no parameter (a user
optimizer's `self.state["n_steps"]`) is saved and loaded back (it was dropped, so a resumed
run counted again from zero), and each parameter's entry is the optimizer's own dict (a
later replacing update shows through a state dict taken before). Found by the
user-optimizer hunt."""

import copy

import torch

import graphnet


def test_a_counter_kept_in_state_survives_a_round_trip():
    for L in (torch, graphnet):
        w = L.nn.Parameter(L.ones(3))
        opt = L.optim.SGD([w], lr=0.1, momentum=0.9)
        w.grad = L.ones(3)
        opt.step()
        opt.state["n_steps"] = 3
        saved = copy.deepcopy(opt.state_dict())
        again = L.optim.SGD([w], lr=0.1, momentum=0.9)
        again.load_state_dict(saved)
        assert list(saved["state"]) == [0, "n_steps"]
        assert again.state["n_steps"] == 3
        assert again.state[w]["momentum_buffer"].tolist() == [1.0, 1.0, 1.0]


def test_the_state_dict_holds_the_optimizer_s_own_dicts():
    results = []
    for L in (torch, graphnet):
        w = L.nn.Parameter(L.ones(2))
        opt = L.optim.Adam([w], lr=0.1)
        w.grad = L.ones(2)
        opt.step()
        sd = opt.state_dict()
        opt.state[w]["exp_avg"] = opt.state[w]["exp_avg"] * 0 + 5.0
        assert sd["state"][0] is opt.state[w]
        results.append(sd["state"][0]["exp_avg"].tolist())
    assert results[0] == results[1] == [5.0, 5.0]
