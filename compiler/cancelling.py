"""Differences of a value with itself, kept exact in a compiled program.

XLA-CPU always lets LLVM contract a multiply into the add or subtract that consumes it (a
fused multiply-add keeps the product unrounded). Inside one fusion, `e[:, None] - e[None]`
of a computed `e = h * (1 / |h|)` (`F.normalize`) becomes `fma(h_i, r_i, -(h_j * r_j))`: on
the diagonal, and for every pair of equal rows, the result is the rounding error of the
product (about 1e-8), not the 0 PyTorch and eager mode give. Through a distance the error is
not small: the gradient of `cdist(e, e)` or `pairwise_distance` at a zero distance is 0, at
1e-8 it is a unit vector in a random direction, and a metric-learning step trained on it
(batch-hard triplets with duplicates in the batch) moved its weights by 0.1 from PyTorch's.

So when an op that differences its inputs (`_DIFFERENCES`) reads two views of one computed
value (or `pdist`, which differences the rows of its one input), that value is stored first
(`conv_candidates.stored`: a fusion boundary on the CPU) and the views are evaluated again
from the stored copy, so the difference reads rounded values. Other readers keep the
unstored value; the cost is one boundary per such value (about 20 us)."""

from __future__ import annotations

import jax.numpy as jnp

from .ir import Node, Value

# ops whose result reads the same elements of their one tensor input (index tensors aside)
_VIEWS = frozenset(("reshape", "transpose", "permute", "expand", "squeeze", "unsqueeze",
                    "getitem", "flip", "roll", "repeat", "detach", "index_select", "gather",
                    "take_along_dim", "diagonal", "repeat_interleave", "clone", "contiguous"))
# ops that subtract (or add) elements of their tensor inputs
_DIFFERENCES = frozenset(("sub", "add", "rsub", "cdist", "pdist", "pairwise_distance", "dist",
                          "triplet_margin_loss"))
_SELF = frozenset(("pdist",))   # differences rows of its one input


def _chain(value: Value) -> tuple[Value, list[Node]]:
    """(the value `value` is a view of, the view nodes from it to `value` in order)."""
    views = []
    while value.node is not None and value.node.op in _VIEWS \
            and isinstance(value.node.inputs[0], Value):
        views.append(value.node)
        value = value.node.inputs[0]
    return value, views[::-1]


def exact_differences(node: Node, env: dict, evaluate) -> dict:
    """`env`, or a copy in which the computed values `node` differences with themselves are
    stored and their views evaluated again (`evaluate(node, env)`) from the stored copy."""
    if node.op not in _DIFFERENCES:
        return env
    chains = [_chain(v) for v in node.inputs if isinstance(v, Value)]
    roots = [root for root, _ in chains]
    shared = {root for root in roots
              if (roots.count(root) > 1 or node.op in _SELF) and root.node is not None
              and jnp.issubdtype(root.dtype, jnp.floating)}
    if not shared:
        return env
    from graphnet._ops.conv_candidates import stored

    local = dict(env)
    for root in shared:
        local[root] = stored(env[root])
    for root, views in chains:
        if root in shared:
            for view in views:
                evaluate(view, local)
    return local
