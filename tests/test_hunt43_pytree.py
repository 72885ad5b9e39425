"""`graphnet.utils._pytree`, PyTorch's private tree helpers that JAX-style loops reach for:
tree_map over dicts of tensors (several trees at once), None as a leaf, flatten/unflatten
round trips in PyTorch's argument order."""

import pytest
import torch.utils._pytree as torch_pytree

import graphnet
from graphnet.utils import _pytree


def test_sgd_step_over_dicts_of_tensors_matches_torch():
    import torch

    def step(T, pytree):
        params = {"w": T.tensor([1.0, 2.0]), "b": [T.tensor([0.5]), None]}
        grads = {"w": T.tensor([0.1, 0.2]), "b": [T.tensor([1.0]), None]}
        return pytree.tree_map(lambda p, g: None if p is None else p - 0.5 * g, params, grads)
    want, got = step(torch, torch_pytree), step(graphnet, _pytree)
    assert got["w"].tolist() == pytest.approx(want["w"].tolist())
    assert got["b"][0].tolist() == want["b"][0].tolist() and got["b"][1] is None


def test_flatten_round_trip_keeps_none_as_a_leaf():
    tree = {"a": graphnet.ones(2), "b": (None, [graphnet.zeros(1)])}
    leaves, spec = _pytree.tree_flatten(tree)
    assert len(leaves) == len(torch_pytree.tree_flatten({"a": 1, "b": (None, [2])})[0]) == 3
    rebuilt = _pytree.tree_unflatten(leaves, spec)
    assert rebuilt["b"][0] is None and rebuilt["a"] is tree["a"]
    assert _pytree.tree_structure(tree) == spec and len(_pytree.tree_leaves(tree)) == 3


def test_map_only_any_all_and_in_place_map():
    tree = {"x": graphnet.ones(2), "n": 3}
    doubled = _pytree.tree_map_only(graphnet.Tensor, lambda t: t * 2, tree)
    assert doubled["x"].tolist() == [2.0, 2.0] and doubled["n"] == 3
    assert _pytree.tree_any(lambda v: v == 3, tree)
    assert not _pytree.tree_all(lambda v: isinstance(v, int), tree)
    assert _pytree.tree_map_(lambda t: t.mul_(5) if isinstance(t, graphnet.Tensor) else t,
                             tree) is tree
    assert tree["x"].tolist() == [5.0, 5.0]
