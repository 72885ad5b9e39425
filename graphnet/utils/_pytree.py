"""`graphnet.utils._pytree`: the tree helpers of PyTorch's private `torch.utils._pytree`,
which JAX-style training code reaches for (`tree_map(lambda p, g: p - lr * g, params,
grads)` over dicts of tensors). Built on `jax.tree_util`; as in PyTorch, None is a leaf and a
tensor is a leaf. The spec is JAX's treedef (PyTorch's is its own TreeSpec): pass it back to
`tree_unflatten` here, which takes (leaves, spec) in PyTorch's order. NOTE: a dict's leaves
come in sorted key order and a rebuilt dict has its keys sorted (JAX's rule), where PyTorch
keeps insertion order; the pairing of keys and values is the same."""

from __future__ import annotations

import jax

__all__ = ["tree_all", "tree_any", "tree_flatten", "tree_leaves", "tree_map", "tree_map_",
           "tree_map_only", "tree_structure", "tree_unflatten"]


def _leaf(is_leaf):
    return (lambda x: x is None) if is_leaf is None else \
        (lambda x: x is None or is_leaf(x))


def tree_flatten(tree, is_leaf=None):
    """(leaves, spec) of `tree`."""
    return jax.tree_util.tree_flatten(tree, is_leaf=_leaf(is_leaf))


def tree_unflatten(leaves, treespec):
    """`tree_flatten`'s inverse; PyTorch's argument order (leaves first)."""
    return jax.tree_util.tree_unflatten(treespec, list(leaves))


def tree_leaves(tree, is_leaf=None) -> list:
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func, tree, *rests, is_leaf=None):
    """`func` applied to each leaf of `tree` (and the matching leaves of `rests`)."""
    return jax.tree_util.tree_map(func, tree, *rests, is_leaf=_leaf(is_leaf))


def tree_map_(func, tree, *rests, is_leaf=None):
    """`func` applied to each leaf for its effect (an in-place update); returns `tree`."""
    tree_map(func, tree, *rests, is_leaf=is_leaf)
    return tree


def tree_map_only(type_or_types, func, tree, is_leaf=None):
    """`func` applied to the leaves of the given type(s); the others stay as they are."""
    return tree_map(lambda x: func(x) if isinstance(x, type_or_types) else x, tree,
                    is_leaf=is_leaf)


def tree_all(pred, tree, is_leaf=None) -> bool:
    return all(pred(x) for x in tree_leaves(tree, is_leaf))


def tree_any(pred, tree, is_leaf=None) -> bool:
    return any(pred(x) for x in tree_leaves(tree, is_leaf))
