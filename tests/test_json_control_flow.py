"""JSON dumps of graphs with `cond` / `while_loop`: each branch is written as a nested graph
(`{"$branch": {...}}`, schema version 2) and `Graph.from_json` rebuilds it, so the loaded graph
prints, verifies and computes exactly like the traced one (docs/dumps.md, json section)."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

import graphnet
from graphnet.compiler import lower, trace, trace_call, verify
from graphnet.compiler.dumps import GraphJSONError, from_json, to_json
from graphnet.compiler.ir import Graph
from test_control_flow import FancyMLPStructured
from graphnet.runtime import cli
from graphnet.runtime.dump import load_target


# ---- helpers ----------------------------------------------------------------------------------
def plain_attrs(graph: Graph) -> list:
    """Each node's attrs, a branch (a sub-graph) replaced by its JSON."""
    return [{k: ("branch", to_json(v)) if isinstance(v, Graph) else v
             for k, v in node.attrs.items()} for node in graph.nodes]


def assert_same_graph(loaded: Graph, graph: Graph) -> None:
    assert str(loaded) == str(graph)
    assert loaded.to_json() == graph.to_json()
    assert plain_attrs(loaded) == plain_attrs(graph)
    for new, old in zip(loaded.nodes, graph.nodes, strict=True):
        for key, value in old.attrs.items():
            if isinstance(value, Graph):  # rebuilt as a sub-graph, recursively equal
                assert isinstance(new.attrs[key], Graph)
                assert_same_graph(new.attrs[key], value)


def traced(fn, *inputs) -> tuple[Graph, dict]:
    """The graph of `fn(*inputs)` and its input arrays by name: the arguments, then the
    tensors it captured (parameters, constants), as the compiled function would pass them."""
    result = trace_call(fn, inputs)
    arrays = {}
    for value in result.graph.inputs:
        kind, what = result.bindings[value.name]
        assert kind in ("arg", "state"), kind
        arrays[value.name] = np.asarray((inputs[what] if kind == "arg" else what)._value)
    return result.graph, arrays


def run(graph: Graph, arrays: dict) -> list:
    return [np.asarray(a) for a in jax.jit(lower(graph))(*(arrays[v.name] for v in graph.inputs))]


def round_trip(graph: Graph) -> Graph:
    text = graph.to_json()
    data = json.loads(text)  # strict JSON
    assert data["version"] == 2
    loaded = Graph.from_json(text)
    assert_same_graph(loaded, graph)
    assert loaded == graph      # structural equality reaches into the branches
    verify(loaded)
    return loaded


def assert_same_numbers(loaded: Graph, graph: Graph, arrays: dict) -> list:
    expected = run(graph, arrays)
    for got, want in zip(run(loaded, arrays), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    return expected


# ---- cond and while_loop ----------------------------------------------------------------------
def test_cond_with_a_captured_tensor_round_trips_and_takes_both_branches():
    w = graphnet.tensor([1.0, 2.0, 3.0])
    graph, arrays = traced(
        lambda x: graphnet.cond(x.sum() > 0, lambda t: t * w, lambda t: t + w, x),
        graphnet.ones(3))
    loaded = round_trip(graph)
    assert "graph cond_true(" in str(loaded) and "graph cond_false(" in str(loaded)
    assert len(loaded.nodes[-1].attrs["true_branch"].inputs) == 2  # x and captured w
    (up,) = assert_same_numbers(loaded, graph, arrays)
    (down,) = assert_same_numbers(loaded, graph, dict(arrays, x=-arrays["x"]))
    np.testing.assert_array_equal(up, [1.0, 2.0, 3.0])    # true branch: x * w
    np.testing.assert_array_equal(down, [0.0, 1.0, 2.0])  # false branch: x + w


def test_while_loop_with_tuple_carry_round_trips():
    def collatz_steps(n, steps):
        def body(n, steps):
            n = graphnet.where(n % 2 == 0, n // 2, 3 * n + 1)
            return n, steps + 1

        return graphnet.while_loop(lambda n, s: n > 1, body, (n, steps))

    graph, arrays = traced(collatz_steps, graphnet.tensor(27), graphnet.tensor(0))
    loaded = round_trip(graph)
    n, steps = assert_same_numbers(loaded, graph, arrays)
    assert n == 1 and steps == 111


def test_cond_nested_in_a_while_body_round_trips():
    def f(x, n):
        def body(x, n):
            x = graphnet.cond(x.sum() > 0, lambda t: t - 1, lambda t: t * 0.5, x)
            return x, n + 1

        return graphnet.while_loop(lambda x, n: n < 4, body, (x, n))

    graph, arrays = traced(f, graphnet.full((3,), 2.5), graphnet.tensor(0))
    loaded = round_trip(graph)
    body = loaded.nodes[0].attrs["body_branch"]
    assert [n.op for n in body.nodes].count("cond") == 1
    x, n = assert_same_numbers(loaded, graph, arrays)
    np.testing.assert_allclose(x, [-0.25] * 3)  # 2.5 -> 1.5 -> 0.5 -> -0.5 -> -0.25
    assert n == 4


def test_module_graph_traced_and_compiled_round_trips():
    graphnet.manual_seed(0)
    model = FancyMLPStructured()
    x = graphnet.rand(2, 20)
    fast = graphnet.compile(model)
    with graphnet.no_grad():
        expected = model(x).item()
        fast(x)
    traced_graph, arrays = traced(model, x)
    for graph in (traced_graph, fast.graph):  # before and after the optimisation passes
        loaded = round_trip(graph)
        (out,) = assert_same_numbers(loaded, graph, arrays)
        assert abs(float(out) - expected) < 1e-5


# ---- versions and errors ----------------------------------------------------------------------
def cond_graph() -> Graph:
    return trace(lambda x: graphnet.cond(x.sum() > 0, lambda t: t * 2, lambda t: -t, x),
                 graphnet.ones(3))


def test_branch_free_graphs_stay_version_1_and_version_1_files_still_load():
    graph = trace(lambda x: (x * 2).exp(), graphnet.ones(3))
    data = json.loads(to_json(graph))
    assert data["version"] == 1
    assert str(from_json(json.dumps(data))) == str(graph)


def test_unknown_versions_and_branches_in_version_1_are_refused():
    data = json.loads(to_json(cond_graph()))
    with pytest.raises(GraphJSONError, match="version 3 is not supported; this graphnet reads "
                                             "versions 1, 2"):
        from_json(json.dumps(dict(data, version=3)))
    with pytest.raises(GraphJSONError, match="only version 2 has"):
        from_json(json.dumps(dict(data, version=1)))


def test_errors_inside_a_branch_name_the_branch_node():
    data = json.loads(to_json(cond_graph()))
    branch = data["nodes"][-1]["attrs"]["true_branch"]["$branch"]
    branch["nodes"][0]["inputs"][0] = {"$ref": "x"}  # the outer graph's value: not in scope
    with pytest.raises(GraphJSONError, match=r"node 2 \(cond\) attribute true_branch \(branch\): "
                                             r"node 0 \(mul\): reads %x"):
        from_json(json.dumps(data))


# ---- graphnet dump ----------------------------------------------------------------------------
GATE_SOURCE = '''import graphnet
from graphnet import nn

graphnet.manual_seed(0)


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = self.fc(x)
        return graphnet.cond(y.sum() > 0, lambda t: t.relu(), lambda t: t.tanh() * 2, y)


example_inputs = lambda: graphnet.ones(3, 4)
'''


def test_cli_dumps_a_module_with_cond_as_json(tmp_path, capsys):
    # NOTE: `graphnet dump FILE.py:NAME` takes a module, a module class or a function returning
    # (module, example_inputs), not a bare function; a module whose forward calls cond is it.
    source = tmp_path / "gate.py"
    source.write_text(GATE_SOURCE)
    out = tmp_path / "gate.json"
    target = f"{source}:Gate"
    assert cli.main(["dump", target, "--format", "json"]) == 0
    printed = capsys.readouterr().out
    assert cli.main(["dump", target, "--format", "json", "--out", str(out)]) == 0
    assert printed == out.read_text()
    loaded = Graph.from_json(out.read_text())
    assert json.loads(out.read_text())["version"] == 2
    assert [n.op for n in loaded.nodes][-1] == "cond"
    verify(loaded)
    model, inputs = load_target(target)
    graph, arrays = traced(model, *inputs)
    assert str(loaded) == str(graph)
    assert_same_numbers(loaded, graph, arrays)
