"""`Optimizer.__getstate__` / `__setstate__` as PyTorch's: a custom optimizer copied from
torch's sources (`super().__setstate__(state)`, then group defaults) deep-copies and pickles,
and `load_state_dict` ends with its `__setstate__`, which fills in what the saved groups lack."""
import copy
import pickle

import pytest
import torch

import graphnet as G


def _optimizer(lib):
    class Filling(lib.optim.Optimizer):
        def __init__(self, params, lr=0.1, nesterov=False):
            super().__init__(params, dict(lr=lr, nesterov=nesterov))

        def __setstate__(self, state):
            super().__setstate__(state)
            for group in self.param_groups:
                group.setdefault("nesterov", "filled")

        def step(self, closure=None):
            return None

    return Filling


@pytest.mark.parametrize("lib", [torch, G], ids=["torch", "graphnet"])
def test_custom_setstate_runs_on_load_copy_and_pickle(lib):
    opt = _optimizer(lib)([lib.nn.Parameter(lib.ones(2))])
    opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.3, "params": [0]}]})
    assert opt.param_groups[0]["nesterov"] == "filled"
    assert opt.param_groups[0]["lr"] == 0.3
    twin = copy.deepcopy(opt)
    assert type(twin) is type(opt) and twin.param_groups[0]["lr"] == 0.3
    assert twin.defaults["differentiable"] is False


def test_pickled_builtin_optimizer_keeps_state_and_steps():
    m = G.nn.Linear(2, 1)
    opt = G.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    m(G.ones(1, 2)).sum().backward()
    opt.step()
    back = pickle.loads(pickle.dumps(opt))
    assert back.param_groups[0]["momentum"] == 0.9
    assert [len(s) for s in back.state.values()] == [1, 1]
    assert back._optimizer_step_pre_hooks == {}


def test_builtin_optimizer_load_fills_missing_flags():
    m = G.nn.Linear(2, 1)
    opt = G.optim.SGD(m.parameters(), lr=0.1)
    saved = opt.state_dict()
    del saved["param_groups"][0]["nesterov"]
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["nesterov"] is False


def test_a_miss_names_what_changed_since_the_previous_call():
    f = G.compile(lambda a, b: a.sum() + b.sum())
    f(G.ones(3, 5), G.ones(3))
    f(G.ones(3, 8), G.ones(3))
    f(G.ones(3, 5), G.ones(3))      # the first graph again
    f(G.ones(3, 5), G.ones(3, dtype=G.float64))
    assert f.explain()["recompile_reasons"][-1] == "input 1 dtype float32 -> float64"
