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
from the stored copy, so the difference reads rounded values. A distance, a regression loss
or a subtraction (`_PAIRWISE`) of two different computed values stores both: equal values
from different nodes (a one-shot prototype, an EMA teacher's output against its student's;
for a subtraction, only between values of one shape)
cancelled to 1e-9 instead of 0, and an L1 loss's sign, a distance's gradient or Adam turned
that into a full step. Other readers keep the unstored value; the cost is one boundary per
stored value (about 20 us). A subtraction inside another op's formula, or an `add` of a
value and its negation, is not covered; an `add` or `sub` of a value and a difference that
reads it (the straight-through estimator `(hard - soft).detach() + soft`) stores it."""

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
# ops whose result at equal inputs is exactly 0 and whose gradient there is a kink (a distance,
# sign in an L1 loss) or an amplifier (Adam on a 1e-9 gradient): two computed inputs are stored
# even when they come from different nodes (a prototype's mean of one support row, a teacher
# made by deepcopy and its student)
_PAIRWISE = frozenset(("sub", "rsub", "cdist", "pairwise_distance", "dist",
                       "triplet_margin_loss", "l1_loss", "mse_loss", "smooth_l1_loss",
                       "huber_loss", "margin_ranking_loss", "cosine_embedding_loss"))
# NOTE: a subtraction only between values of one shape (a student's output and its
# teacher's): `x - x.mean(-1, keepdim=True)` in a hand-written norm would pay two boundaries
# per call, and its operands are equal only for a constant row
_ELEMENTWISE = frozenset(("sub", "rsub"))
_ADDS = frozenset(("add", "sub", "rsub"))          # see _added_back
_INNER = frozenset(("sub", "rsub", "add", "neg"))


def _chain(value: Value, env: dict) -> tuple[Value, list[Node]]:
    """(the value `value` is a view of, the view nodes from it to `value` in order), walked
    up only through values this program has in `env`.
    NOTE: a view of a hoisted value (`coords_grid(...)[None].repeat(...)`, RAFT's `coords1 -
    coords0`) reaches the program as an input, its constant source never: walking up to it
    raised KeyError at the first call."""
    views = []
    while value.node is not None and value.node.op in _VIEWS \
            and isinstance(value.node.inputs[0], Value) and value.node.inputs[0] in env:
        views.append(value.node)
        value = value.node.inputs[0]
    return value, views[::-1]


def _added_back(node: Node, chains: list, env: dict) -> set:
    """The computed values an `add`/`sub` reads both directly and through its other operand,
    a difference (through views, `detach` among them) that reads them too: the straight-through
    estimator `(hard - soft).detach() + soft`, exactly `hard` in PyTorch. Unstored, a `soft`
    made by a product (softmax, `normalize`) is contracted into the add (a fused multiply-add
    keeps it unrounded) and the result is off by its rounding error: 0 became -1.3e-8, and a
    log of it NaN."""
    if node.op not in _ADDS or len(chains) != 2:
        return set()
    found = set()
    for (made, _), (read, _) in ((chains[0], chains[1]), (chains[1], chains[0])):
        inner = made.node
        if inner is None or inner.op not in _INNER or read.node is None or \
                not jnp.issubdtype(read.dtype, jnp.floating):
            continue
        if any(_chain(v, env)[0] is read for v in inner.inputs if isinstance(v, Value)):
            found.add(read)
    return found


def exact_differences(node: Node, env: dict, evaluate) -> dict:
    """`env`, or a copy in which the computed values `node` differences with themselves are
    stored and their views evaluated again (`evaluate(node, env)`) from the stored copy."""
    if node.op not in _DIFFERENCES and node.op not in _PAIRWISE:
        return env
    chains = [_chain(v, env) for v in node.inputs if isinstance(v, Value)]
    roots = [root for root, _ in chains
             if root.node is not None and jnp.issubdtype(root.dtype, jnp.floating)]
    pairwise = node.op in _PAIRWISE and len(set(roots)) > 1 and (
        node.op not in _ELEMENTWISE or len({v.shape for v in node.input_values()}) == 1)
    shared = {root for root in roots
              if pairwise or roots.count(root) > 1 or node.op in _SELF}
    shared |= _added_back(node, chains, env)
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
