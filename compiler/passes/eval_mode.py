"""Rewrites for graphs traced in eval mode: BatchNorm folded into the conv/linear before it.

Dropout needs no rewrite here: in eval mode `F.dropout` returns its input, so an eval-mode
trace never contains a `dropout` node (tests/passes/test_pass_eval_mode.py checks that). The
BatchNorm node's op says which mode it was traced in: `batch_norm_eval` normalises with the
running statistics, `batch_norm_train` with the batch's."""

from __future__ import annotations

from ..ir import Graph, Value
from ._report import report
from ._rewrite import grad_leaves, insert_node, remove_nodes, replace_uses

FOLDABLE_PRODUCERS = ("conv", "linear")


def _state(x) -> bool:
    return isinstance(x, Value) and x.node is None and x.kind == "state"


def _foldable(bn, users: dict, outputs: set, leaves: set):
    """The conv/linear node feeding `bn` if folding is exact and safe, else None."""
    y = bn.inputs[0]
    producer = y.node if isinstance(y, Value) else None
    if producer is None or producer.op not in FOLDABLE_PRODUCERS:
        return None
    if users.get(y) != [bn] or y in outputs or y in leaves:
        return None   # someone else reads the un-normalised value
    if y.dtype.itemsize < 4:
        return None   # bfloat16/float16: w * s rounded to 8 bits moved the gradients of
        # a frozen-BN fine-tune 2-5x further from float64 than eager mode's (an unfolded
        # BatchNorm computes in float32 and rounds once)
    if producer.op == "linear" and len(y.shape) != 2:
        return None   # BatchNorm normalises dim 1, which is a linear's features only in 2-D
    state = list(bn.inputs[1:]) + list(producer.inputs[1:])
    if not all(_state(v) and v.dtype == y.dtype for v in state):
        return None   # only running stats and weights that are constant for the call
    return producer


def fold_batchnorm_into_conv(graph: Graph, bn, producer) -> None:
    """conv(x, w, b) -> bn(running mean m, var v, weight g, bias beta, eps) becomes
    conv(x, w * s, (b - m) * s + beta) with s = g / sqrt(v + eps), per output channel."""
    mean, var, *params = bn.inputs[1:]
    weight = params.pop(0) if bn.attrs.get("has_weight") else None
    beta = params.pop(0) if bn.attrs.get("has_bias") else None
    x, w, *bias = producer.inputs

    def add(op, *inputs, **attrs):
        return insert_node(graph, producer, op, list(inputs), attrs, origin=bn)

    scale = add("rsqrt", add("add", var, bn.attrs["eps"]))
    if weight is not None:
        scale = add("mul", scale, weight)
    per_channel = add("reshape", scale, shape=(w.shape[0],) + (1,) * (len(w.shape) - 1))
    new_w = add("mul", w, per_channel)
    shifted = add("sub", bias[0], mean) if bias else add("neg", mean)
    new_b = add("mul", shifted, scale)
    if beta is not None:
        new_b = add("add", new_b, beta)
    producer.inputs = (x, new_w, new_b)


def _discrete_downstream(graph: Graph, users: dict) -> set:
    """Nodes from which a discrete result is reachable: a node that makes integers or bools
    out of floats (pooling indices, argmax, sort's order, a comparison). Those results
    depend on exact ties, which an unfolded BatchNorm keeps (equal conv outputs stay equal
    after one affine map) and a folded one does not (w * s rounds per position)."""
    marked: set = set()
    for node in reversed(graph.nodes):
        floats_in = any(isinstance(v, Value) and v.dtype.kind in "fc" for v in node.inputs)
        if floats_in and any(v.dtype.kind in "iub" for v in node.outputs) or any(
                user in marked for v in node.outputs for user in users.get(v, ())):
            marked.add(node)
    return marked


def eval_mode_rewrites(graph: Graph) -> Graph:
    """Guarantee: every `batch_norm_eval` whose input is a float32/float64 conv or 2-D
    linear output read by nothing else, with weights and running statistics that are state
    inputs of one dtype, is removed; the conv/linear reads a weight and bias with the
    normalisation folded in (new nodes that depend only on state), so its output equals the
    BatchNorm's up to rounding. Graphs traced in training mode (`batch_norm_train`) are
    left alone, and so is a graph whose gradients are taken (inside, or of an output that
    requires grad) and a BatchNorm that feeds a discrete result (see `_discrete_downstream`):
    rounding moves exact ties, and with them where a max-pool's gradient or index lands."""
    if graph.differentiated or grad_leaves(graph):
        report("0 batch norms folded (gradients are taken)")
        return graph
    users, outputs, leaves = graph.users(), {o.value for o in graph.outputs}, set()
    discrete = _discrete_downstream(graph, users)
    folded = []
    for bn in [n for n in graph.nodes if n.op == "batch_norm_eval"]:
        if bn in discrete:
            continue
        producer = _foldable(bn, users, outputs, leaves)
        if producer is None:
            continue
        fold_batchnorm_into_conv(graph, bn, producer)
        replace_uses(graph, {bn.outputs[0]: producer.outputs[0]})
        folded.append(bn)
    remove_nodes(graph, set(folded))
    report(f"{len(folded)} batch norms folded")
    return graph
