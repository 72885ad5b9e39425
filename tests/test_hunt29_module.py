"""Module.get_submodule as PyTorch's: a path through an attribute that is not a module (a
None slot, a parameter, a number) raises "`name` is not an nn.Module"; graphnet returned
None for a None slot (found by the twenty-ninth session's hunt)."""

import pytest
from parity import torch

import graphnet


@pytest.mark.parametrize("target", ["r", "0.weight", "x", "zz", "0.zz", "0", ""])
def test_get_submodule_follows_torch(target):
    outcomes = []
    for lib in (torch, graphnet):
        m = lib.nn.Sequential(lib.nn.Linear(2, 2))
        m.r = None
        m.x = 3
        try:
            outcomes.append(type(m.get_submodule(target)).__name__)
        except AttributeError as error:
            outcomes.append(str(error))
    assert outcomes[1] == outcomes[0]
