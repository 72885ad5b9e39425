"""`verify(graph)`: each IR invariant it guards is broken once, and the error names the node
and the values involved; a traced graph (with branches) passes."""

import numpy as np
import pytest

import graphnet
import graphnet.nn.functional as F
from graphnet.compiler import VerifyError, trace, verify
from graphnet.compiler.ir import Graph, Value


def small():
    return trace(lambda x, w: F.relu(x.matmul(w)) + 1.0, graphnet.randn(3, 4),
                 graphnet.randn(4, 5))


def test_a_traced_graph_passes_and_is_returned():
    graph = small()
    assert verify(graph) is graph


def test_use_before_definition():
    graph = small()
    graph.nodes[0], graph.nodes[1] = graph.nodes[1], graph.nodes[0]
    with pytest.raises(VerifyError, match=r"node relu -> %relu: input %matmul is used before "
                                          r"it is defined"):
        verify(graph)


def test_a_value_from_another_graph_is_undefined():
    graph = small()
    stranger = Value("stranger", (3, 5), np.dtype(np.float32))
    graph.nodes[1].inputs = (stranger,)
    with pytest.raises(VerifyError, match="input %stranger is used before it is defined"):
        verify(graph)


def test_duplicate_names_and_dangling_outputs():
    graph = small()
    graph.nodes[1].outputs[0].name = "matmul"
    with pytest.raises(VerifyError, match=r"duplicate value name %matmul"):
        verify(graph)
    graph = small()
    graph.outputs[0].value = Value("gone", (3, 5), np.dtype(np.float32))
    with pytest.raises(VerifyError, match=r"output out:0 reads undefined %gone"):
        verify(graph)


def test_recorded_types_must_match_the_kernel():
    graph = small()
    graph.nodes[1].outputs[0].shape = (3, 6)
    with pytest.raises(VerifyError, match=r"node relu -> %relu: %relu recorded as f32\[3,6\] "
                                          r"but the kernel gives float32\[3, 5\]"):
        verify(graph)
    assert verify(graph, check_shapes=False) is graph


def test_inputs_the_kernel_rejects_and_unknown_ops():
    graph = small()
    graph.nodes[0].inputs = (graph.inputs[1], graph.inputs[1])     # [4,5] @ [4,5]
    with pytest.raises(VerifyError, match=r"node matmul -> %matmul: its kernel rejects"):
        verify(graph)
    graph = small()
    graph.nodes[1].op = "frobnicate"
    with pytest.raises(VerifyError, match=r"unknown op 'frobnicate'"):
        verify(graph)


def test_branches_are_verified_too():
    graph = trace(lambda x: graphnet.cond(x.sum() > 0, lambda t: t * 2, lambda t: -t, x),
                  graphnet.ones(3))
    verify(graph)
    (cond,) = [n for n in graph.nodes if n.op == "cond"]
    branch: Graph = cond.attrs["true_branch"]
    branch.nodes[0].outputs[0].shape = (4,)
    with pytest.raises(VerifyError, match=r"node cond -> .*: branch true_branch: node mul -> "
                                          r"%mul: %mul recorded as f32\[4\]"):
        verify(graph)
