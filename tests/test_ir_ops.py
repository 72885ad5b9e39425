"""Structured ops in the IR: `grad`, `cond` and `while_loop` are op-table entries with named
fields, and the passes leave them alone because of their declared properties (`mergeable`,
`foldable`, `gradient`), not their names: flipping a property changes what a pass does, and
a test op registered with the same properties is treated the same way."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

import graphnet
from graphnet._ops import OPS, defop
from graphnet._ops.control import grad_fields, grad_inputs, grad_types
from graphnet.compiler import VerifyError, lower, trace, verify
from graphnet.compiler.ir import Graph
from graphnet.compiler.passes.constant_folding import constant_folding
from graphnet.compiler.passes.cse import common_subexpression_elimination
from graphnet.compiler.passes.dce import dead_code_elimination

F32 = np.dtype(np.float32)


@pytest.fixture
def with_rule(monkeypatch):
    """`with_rule("grad", mergeable=True)`: the op's entry with one property changed, for
    this test only."""
    def change(op, **rule):
        monkeypatch.setitem(OPS, op, dataclasses.replace(OPS[op], **rule))

    return change


@pytest.fixture
def test_op(monkeypatch):
    """Register a throwaway op for this test (removed afterwards). It gets no graphnet
    function or Tensor method: those would outlive the test, and the op-parity walker (in
    the same xdist worker) would find an op without a parity case."""
    added = []

    def register(name, kind, impl, **rules):
        monkeypatch.delitem(OPS, name, raising=False)
        rules.setdefault("function", None)
        rules.setdefault("method", None)
        defop(name, kind, **rules)(impl)
        added.append(name)
        return OPS[name]

    yield register
    for name in added:   # NOTE: monkeypatch restores only what it changed itself
        OPS.pop(name, None)


def twice_differentiated(op="grad") -> Graph:
    """loss = sum(x @ w); two equal `op` nodes d(loss)/d(w), summed."""
    graph = Graph("twice")
    x, w = graph.add_input("x", (2, 3), F32, "arg"), graph.add_input("w", (3, 4), F32, "arg")
    matmul = graph.add_node("matmul", [x, w], {}, [((2, 4), F32)]).outputs[0]
    loss = graph.add_node("sum", [matmul], {"dim": None, "keepdim": False, "dtype": None},
                          [((), F32)]).outputs[0]
    inputs, attrs = grad_inputs(loss, None, [w])
    first = graph.add_node(op, inputs, attrs, [((3, 4), F32)]).outputs[0]
    second = graph.add_node(op, inputs, attrs, [((3, 4), F32)]).outputs[0]
    total = graph.add_node("add", [first, second], {}, [((3, 4), F32)]).outputs[0]
    graph.add_output("out", 0, total)
    return verify(graph)


def run(graph: Graph, *arrays) -> list:
    return [np.asarray(a) for a in jax.jit(lower(graph))(*arrays)]


X = np.arange(6, dtype=np.float32).reshape(2, 3)
W = np.ones((3, 4), np.float32)
# d(sum(x @ w))/dw = x.T @ ones: each row of dw is the column sum of x; two grads, summed.
EXPECTED_TWICE = 2 * np.repeat(X.sum(0)[:, None], 4, axis=1)


# ---- named fields ---------------------------------------------------------------------------
def test_grad_fields_name_the_loss_the_seed_and_the_leaves():
    graph = twice_differentiated()
    grad = graph.nodes[2]
    assert grad.fields == {"loss": graph.nodes[1].outputs[0], "seed": None,
                           "leaves": (graph.inputs[1],)}
    seed = graph.add_input("seed", (), F32, "arg")
    inputs, attrs = grad_inputs(grad.fields["loss"], seed, [graph.inputs[0], graph.inputs[1]])
    assert attrs == {"n_leaves": 2, "has_cotangent": True}
    assert grad_fields(inputs, attrs) == {"loss": grad.fields["loss"], "seed": seed,
                                          "leaves": tuple(graph.inputs[:2])}
    assert graph.nodes[0].fields == {"inputs": tuple(graph.inputs[:2])}  # an ordinary op


def test_a_grad_seed_of_the_wrong_shape_is_named_by_verify():
    graph = twice_differentiated()
    seed = graph.add_input("seed", (5,), F32, "arg")
    grad = graph.nodes[2]
    grad.inputs, grad.attrs = grad_inputs(grad.fields["loss"], seed, grad.fields["leaves"])
    with pytest.raises(VerifyError, match=r"node grad -> %grad: its kernel rejects these "
                                          r"inputs: cotangent %seed is f32\[5\] but the loss "
                                          r"%sum is f32\[\]"):
        verify(graph)


def test_cond_and_while_loop_fields_and_sub_graphs():
    w = graphnet.tensor([1.0, 2.0, 3.0])

    def f(x, n):
        y = graphnet.cond(x.sum() > 0, lambda t: t * w, lambda t: -t, x)
        return graphnet.while_loop(lambda i, h: i < n, lambda i, h: (i + 1, h * 2),
                                   (graphnet.tensor(0), y))

    graph = trace(f, graphnet.ones(3), graphnet.tensor(2))
    cond, loop = [n for n in graph.nodes if n.subgraphs()]
    x, n = graph.inputs[0], graph.inputs[1]
    fields = cond.fields
    assert fields["pred"].node.op == "gt"
    # each branch's operands, then what it captured (w, in the true branch only)
    assert fields["true_operands"][0] is x and len(fields["true_operands"]) == 2
    assert fields["false_operands"] == (x,)
    assert [(name, sub.name) for name, sub in cond.subgraphs()] == [
        ("true_branch", "cond_true"), ("false_branch", "cond_false")]
    assert loop.fields["carry"][1] is cond.outputs[0]
    assert loop.fields["cond_captures"] == (n,) and loop.fields["body_captures"] == ()
    assert [name for name, _ in loop.subgraphs()] == ["cond_branch", "body_branch"]
    out = graphnet.compile(f)(graphnet.ones(3), graphnet.tensor(2))
    np.testing.assert_array_equal(np.asarray(out[1]._value), [4.0, 8.0, 12.0])


# ---- sub-graphs verify and print --------------------------------------------------------------
def test_sub_graphs_verify_and_print_under_their_node():
    def f(x):
        return graphnet.while_loop(lambda h: h.sum() < 10, lambda h: h * 2, x)

    graph = trace(f, graphnet.ones(2))
    assert verify(graph) is graph
    assert str(graph) == """\
graph f(%x: f32[2]):
  %while_loop: f32[2] = while_loop(%x, cond_branch=while_cond, body_branch=while_body, \
n_carry=1, n_cond=0)
    graph while_cond(%arg0: f32[2]):
      %sum: f32[] = sum(%arg0, dim=None, keepdim=False, dtype=None)
      %lt: b8[] = lt(%sum, 10)
      return %lt
    graph while_body(%arg0: f32[2]):
      %mul: f32[2] = mul(%arg0, 2)
      return %mul
  return %while_loop"""
    dot = graph.to_dot()     # each branch a dashed cluster, its outputs feeding the node
    assert '  subgraph "cluster_n0_body_branch_" {\n' \
           '    label="body_branch: while_body"; style=dashed;' in dot
    assert '    n0_body_branch_n0 [label="mul\\nf32[2]"];\n' in dot
    assert "  n0_cond_branch_o0 -> n0 [style=dashed];\n" in dot
    body = graph.nodes[0].attrs["body_branch"]
    body.nodes[0].op = "frobnicate"
    with pytest.raises(VerifyError, match=r"node while_loop -> %while_loop: branch "
                                          r"body_branch: node frobnicate -> %mul: unknown op"):
        verify(graph)


# ---- passes ask the op's properties -----------------------------------------------------------
def test_cse_keeps_two_equal_grad_nodes_because_grad_is_not_mergeable(with_rule):
    graph = common_subexpression_elimination(twice_differentiated())
    assert graph.count("grad") == 2
    np.testing.assert_array_equal(run(graph, X, W)[0], EXPECTED_TWICE)
    with_rule("grad", mergeable=True)    # the property, not the name, decides
    assert common_subexpression_elimination(twice_differentiated()).count("grad") == 1


def constant_control_flow(x):
    """A cond and a while_loop whose inputs are all known at compile time."""
    start = graphnet.full((2,), 3.0)
    y = graphnet.cond(start.sum() > 0, lambda t: t * 2, lambda t: -t, start)
    z = graphnet.while_loop(lambda h: h.sum() < 100, lambda h: h * 2, start)
    return x + y + z


def test_constant_folding_leaves_cond_and_while_loop_alone_because_they_are_not_foldable(
        with_rule):
    x = graphnet.zeros(2)
    graph = dead_code_elimination(constant_folding(trace(constant_control_flow, x)))
    assert (graph.count("cond"), graph.count("while_loop")) == (1, 1)
    (out,) = run(graph, np.zeros(2, np.float32))
    np.testing.assert_array_equal(out, [6.0 + 96.0] * 2)     # 3*2, and 3 doubled 5 times
    with_rule("cond", foldable=True)
    with_rule("while_loop", foldable=True)
    folded = dead_code_elimination(constant_folding(trace(constant_control_flow, x)))
    assert (folded.count("cond"), folded.count("while_loop")) == (0, 0)
    np.testing.assert_array_equal(run(folded, np.zeros(2, np.float32))[0], out)


def test_a_test_op_with_the_same_properties_is_left_alone_the_same_way(test_op):
    test_op("test_opaque_double", "opaque", lambda a: a * 2, foldable=False, mergeable=False)
    graph = Graph("custom")
    x = graph.add_input("x", (3,), F32, "arg")
    const = graph.add_node("full", [], {"shape": (3,), "value": 1.0, "dtype": F32},
                           [((3,), F32)]).outputs[0]
    outs = [graph.add_node("test_opaque_double", [src], {}, [((3,), F32)]).outputs[0]
            for src in (const, const, x, x)]
    for i, v in enumerate(outs):
        graph.add_output("out", i, v)
    verify(graph)
    graph = common_subexpression_elimination(constant_folding(graph))
    assert graph.count("test_opaque_double") == 4      # neither folded nor merged
    np.testing.assert_array_equal(run(graph, np.ones(3, np.float32)), [[2.0] * 3] * 4)


def test_a_test_op_declared_as_a_gradient_is_lowered_as_one(test_op):
    def no_kernel(*inputs, n_leaves, has_cotangent):
        raise AssertionError("a gradient op is lowered with its forward region")

    test_op("test_grad", "opaque", no_kernel, n_outputs=0, differentiable=False,
            fields=grad_fields, types=grad_types, foldable=False, mergeable=False,
            gradient=True)
    graph = common_subexpression_elimination(twice_differentiated("test_grad"))
    assert graph.count("test_grad") == 2 and graph.differentiates()
    np.testing.assert_array_equal(run(graph, X, W)[0], EXPECTED_TWICE)


def test_a_test_op_declared_random_is_a_draw_and_so_are_its_key_readers(test_op):
    # A "draw" op whose impl is deterministic: only its declared `random` keeps two equal
    # nodes apart (and a node reading a key it made), so the mechanism is the property.
    U32 = np.dtype(np.uint32)
    test_op("test_draw", "opaque", lambda k: k + np.uint32(1), random=True)
    graph = Graph("draws")
    key = graph.add_input("key", (2,), U32, "arg")
    draws = [graph.add_node("test_draw", [key], {}, [((2,), U32)]).outputs[0] for _ in "ab"]
    readers = [graph.add_node("neg", [d], {}, [((2,), U32)]).outputs[0] for d in draws[:1] * 2]
    for i, v in enumerate(draws + readers):
        graph.add_output("out", i, v)
    graph = common_subexpression_elimination(verify(graph))
    assert graph.count("test_draw") == 2 and graph.count("neg") == 2
