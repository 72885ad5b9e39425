"""Constant folding: small computations on compile-time-known values become `constant` nodes."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from graphnet._ops import OPS
from graphnet._ops.constant import ConstantValue
from graphnet._x64 import x64_scoped

from ..ir import Graph, Value
from ..lower import kernel_attrs
from ._report import report
from ._rewrite import grad_leaves, is_random, replace_uses

SOURCES = ("full", "arange", "constant")   # ops whose value is known at compile time
MAX_ELEMENTS = 100_000                     # larger results stay computed at run time


def _small(values) -> bool:
    return all(math.prod(v.shape) <= MAX_ELEMENTS for v in values)


def constant_folding(graph: Graph) -> Graph:
    """Guarantee: a node whose inputs are all literals or results of `full`/`arange`/
    `constant` nodes, with no input or output over 1e5 elements, is replaced by `constant`
    nodes holding the values its kernel computes now, at compile time. Nodes whose op is not
    `foldable` (grad, cond, while_loop), nodes with a value check (indices, labels: the
    program checks them), random draws and grad leaves are never folded, and a grad leaf
    made by `full` or `arange` (`ones(3, requires_grad=True)` in the traced code) is no
    known value: folding its users would cut its gradient to zero. The
    folded node's own inputs are left for dead-code elimination."""
    keep = grad_leaves(graph)
    known: dict = {}        # Value -> np.ndarray, for source values and folded results
    mapping: dict = {}
    nodes, folded = [], 0
    # NOTE: nodes are rebuilt in order, so a node folded here is a source for the next one.
    for node in graph.nodes:
        if any(isinstance(x, Value) and x in mapping for x in node.inputs):
            node.inputs = tuple(mapping.get(x, x) if isinstance(x, Value) else x
                                for x in node.inputs)
        values = node.input_values()
        # NOTE: a node with a value check (an index, a label) is never folded: folding would
        # evaluate it with JAX's clamping, and the program's check must see its inputs.
        foldable = (node.opdef.foldable and node.opdef.check is None and not is_random(node)
                    and bool(values) and all(v in known for v in values) and _small(values)
                    and _small(node.outputs) and not any(v in keep for v in node.outputs))
        if node.op in SOURCES and not values and _small(node.outputs) and \
                not any(v in keep for v in node.outputs):   # a leaf (ones(requires_grad=True))
            known.update(zip(node.outputs, _evaluate(node, known), strict=True))
        if not foldable:
            nodes.append(node)
            continue
        for value, array in zip(node.outputs, _evaluate(node, known), strict=True):
            const = graph.add_node("constant", [], {"value": ConstantValue(array)},
                                   [(value.shape, value.dtype)], node.module, node.source)
            graph.nodes.pop()   # add_node appends; it takes the folded node's place below
            nodes.append(const)
            known[const.outputs[0]] = array
            mapping[value] = const.outputs[0]
        folded += 1
    graph.nodes = nodes
    replace_uses(graph, mapping)
    report(f"{folded} nodes folded")
    return graph


@x64_scoped   # the kernel computes as it would at run time (graphnet/_x64.py)
def _evaluate(node, known: dict) -> list:
    # JAX arrays, not NumPy's: a kernel's `out < -1` of a uint8 array wraps the number as at
    # run time (NumPy compared it as -1: a folded clamp(min=-1) kept 200 where PyTorch gives 255)
    args = [jnp.asarray(known[x]) if isinstance(x, Value) else x for x in node.inputs]
    out = OPS[node.op].impl(*args, **kernel_attrs(node.attrs))
    outs = out if OPS[node.op].n_outputs != 1 else (out,)
    arrays = [np.asarray(o) for o in outs]
    for value, array in zip(node.outputs, arrays, strict=True):
        assert array.shape == value.shape and array.dtype == value.dtype, (value, array.dtype)
    return arrays
