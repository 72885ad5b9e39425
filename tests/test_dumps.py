"""Graph dumps (compiler/dumps): golden MLP outputs, determinism, JSON round trips, runnable
code, Graphviz clusters, and the `graphnet dump` command. The dumps of a compiled model (XLA's
HLO/cost/memory and the memory plan) are tested in tests/test_dumps_compiled.py.

Golden files live in tests/golden/; regenerate them only deliberately, after reading the diff:
    GRAPHNET_UPDATE_GOLDEN=1 pytest tests/test_dumps.py"""

from __future__ import annotations

import json
import math
import os
import re
import stat

import jax
import numpy as np
import pytest

import graphnet
import graphnet.nn.functional as F
from graphnet.compiler import lower, trace, verify
from graphnet.compiler.dumps import GraphvizNotFound, from_json, render, to_code, to_json
from graphnet.compiler.ir import Graph
from graphnet import nn
from graphnet.runtime import cli
from graphnet.runtime.dump import dump, prepare, render_graph
from graphnet._x64 import x64

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")
FORMATS = ("text", "table", "code", "dot", "json")


def without_sources(text: str) -> str:
    # NOTE: a node's source is the caller's file:line relative to the cwd; golden files omit it.
    return re.sub(r'"source": "[^"]*"', '"source": ""', text)


def check_golden(name: str, text: str) -> None:
    path = os.path.join(GOLDEN, name)
    if os.environ.get("GRAPHNET_UPDATE_GOLDEN"):
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w") as f:
            f.write(text + "\n")
    with open(path) as f:
        expected = f.read()
    assert text + "\n" == expected, f"{name} changed; if deliberate, regenerate (module doc)"


@pytest.fixture(scope="module")
def train_graph() -> Graph:
    fn, args = prepare("mlp", train=True)
    return trace(fn, *args)


def mixed_ops(x, y, labels):
    """Many ops with public functions, some without (reshape, cat, getitem, cast)."""
    a = graphnet.tanh(F.linear(x, y)).exp().log1p() + 1.5
    b = graphnet.softmax(a, dim=1) * graphnet.log_softmax(a, 1) - a.sum(dim=(0, 1))
    c = graphnet.where(b > 0, b, 0.0).clamp(min=-math.inf, max=3.0) / 2.0
    d = F.gelu(F.leaky_relu(c, 0.2), approximate="tanh").transpose(0, 1).unsqueeze(0).squeeze(0)
    e = graphnet.cat([d.reshape(-1), d[1:, None, 0].reshape(-1)]).to(graphnet.float64)
    loss = F.cross_entropy(a, labels) + F.mse_loss(a, b) + graphnet.amax(c, dim=1).mean()
    return loss, e.sum(), graphnet.norm(x, p=math.inf), a.var(dim=0), graphnet.matmul(x, y.t())


def mixed_inputs():
    rng = np.random.default_rng(0)
    return (graphnet.from_numpy(rng.standard_normal((4, 6)).astype(np.float32)),
            graphnet.from_numpy(rng.standard_normal((5, 6)).astype(np.float32)),
            graphnet.from_numpy(np.array([0, 4, 2, 1])))


# ---- golden and determinism -------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_mlp_golden(fmt):
    check_golden(f"mlp_{fmt}.txt", without_sources(dump("mlp", fmt)))


def test_mlp_train_golden(train_graph):
    check_golden("mlp_train_text.txt", str(train_graph))
    check_golden("mlp_train_code.txt", to_code(train_graph, "train_step").rstrip("\n"))


def test_dumps_are_deterministic_across_traces():
    def traced_mlp() -> Graph:
        model, inputs = prepare("mlp", batch=8)  # a fresh model each time
        return trace(model, *inputs)

    first, second = traced_mlp(), traced_mlp()
    for fmt in FORMATS:
        assert render_graph(first, fmt) == render_graph(second, fmt), fmt
    x, y, labels = mixed_inputs()
    assert trace(mixed_ops, x, y, labels).to_code() == trace(mixed_ops, x, y, labels).to_code()


# ---- JSON -------------------------------------------------------------------------------------
def run_lowered(graph: Graph, arrays: list) -> list:
    with x64():   # as the runtime calls a lowered program (graphnet/_x64.py)
        return [np.asarray(a) for a in jax.jit(lower(graph))(*arrays)]


def test_json_round_trip_prints_and_computes_the_same():
    x, y, labels = mixed_inputs()
    graph = trace(mixed_ops, x, y, labels)
    text = graph.to_json()
    json.loads(text)  # strict JSON: would fail on NaN/Infinity tokens
    loaded = Graph.from_json(text)
    assert loaded == graph and loaded is not graph
    assert str(loaded) == str(graph) and "-inf" in str(graph)
    assert loaded.to_json() == text
    verify(loaded)
    arrays = [x._value, y._value, labels._value]
    for a, b in zip(run_lowered(graph, arrays), run_lowered(loaded, arrays), strict=True):
        np.testing.assert_array_equal(a, b)
    assert loaded.fresh_name("linear") == graph.fresh_name("linear") == "linear_1"


def test_json_round_trip_of_a_training_step(train_graph):
    loaded = from_json(to_json(train_graph))
    assert loaded == train_graph and str(loaded) == str(train_graph)
    assert [n.attrs for n in loaded.nodes] == [n.attrs for n in train_graph.nodes]


def test_json_literals_round_trip_exactly():
    graph = Graph("literals")
    x = graph.add_input("x", (2,), np.float32, "arg")
    attrs = {"inf": math.inf, "ninf": -math.inf, "nan": math.nan, "zero": -0.0, "none": None,
             "one": (3,), "nested": (("s", 1, None, 2), ("n",)), "dtype": np.dtype(np.int64),
             "bf16": np.dtype("float32") if not hasattr(graphnet, "bfloat16")
             else graphnet.bfloat16.np, "type": np.float32, "scalar": np.float32(0.5),
             "flag": True, "text": "mean", "small": 1e-300}
    node = graph.add_node("clone", [x, 2.5, None], attrs, [((2,), np.float32)])
    graph.add_output("out", 0, node.outputs[0])
    loaded = from_json(to_json(graph))
    got = loaded.nodes[0].attrs
    assert loaded == graph     # NaN attributes included
    assert str(loaded) == str(graph) and list(got) == list(attrs)
    assert math.isnan(got["nan"]) and math.copysign(1, got["zero"]) == -1
    for key in ("inf", "ninf", "none", "one", "nested", "dtype", "bf16", "type", "flag", "text",
                "small"):
        assert got[key] == attrs[key] and type(got[key]) is type(attrs[key]), key
    assert type(got["scalar"]) is np.float32 and got["scalar"] == 0.5
    assert loaded.nodes[0].inputs[1:] == (2.5, None)


def test_folded_constants_round_trip_and_run():
    constant = pytest.importorskip("graphnet._ops.constant")
    graph = Graph("constants")
    x = graph.add_input("x", (2, 12), np.float32, "arg")
    small = np.array([1.5, -2.0], np.float32).repeat(6)[:12]
    big = np.linspace(-1, 1, 24, dtype=np.float32).reshape(2, 12)
    big[0, 0] = np.nan
    values = []
    for array in (small[:3], big):
        node = graph.add_node("constant", [], {"value": constant.ConstantValue(array)},
                              [(array.shape, array.dtype)])
        values.append(node.outputs[0])
    total = graph.add_node("add", [x, values[1]], {}, [((2, 12), np.float32)])
    graph.add_output("out", 0, total.outputs[0])
    graph.add_output("out", 1, values[0])
    loaded = from_json(to_json(graph))
    assert str(loaded) == str(graph)
    assert [n.attrs for n in loaded.nodes] == [n.attrs for n in graph.nodes]
    code = to_code(graph)
    assert "np.array([1.5, 1.5, 1.5], dtype=np.dtype(np.float32))" in code
    assert "base64.b64decode(" in code
    ones = graphnet.ones(2, 12)
    got_total, got_small = load_code(code)(ones)
    np.testing.assert_array_equal(got_total.numpy(), big + 1)
    np.testing.assert_array_equal(got_small.numpy(), small[:3])


def test_graph_equality_is_structural():
    def traced(fn=F.relu, shape=2):       # one line: the nodes' source lines are equal
        return trace(fn, graphnet.ones(shape))

    graph, same = traced(), traced()
    assert graph == same and graph is not same and hash(graph) == hash(same)
    assert graph != traced(shape=3)                          # an input shape
    assert graph != traced(F.gelu)                           # an op
    renamed = from_json(to_json(graph))
    renamed.name = "other"
    assert graph != renamed
    moved = from_json(to_json(graph))
    moved.nodes[0].source = "elsewhere.py:1"
    assert graph != moved                                    # the user's source line counts
    assert graph != "graph relu"


def test_json_refuses_other_schemas_and_versions():
    from graphnet.compiler.dumps import GraphJSONError

    text = json.loads(to_json(trace(F.relu, graphnet.ones(2))))
    with pytest.raises(GraphJSONError, match="version 3 is not supported"):
        from_json(json.dumps(dict(text, version=3)))
    with pytest.raises(GraphJSONError, match="schema"):
        from_json("{}")
    del text["nodes"][0]["op"]
    with pytest.raises(GraphJSONError, match="malformed"):
        from_json(json.dumps(text))


# ---- code -------------------------------------------------------------------------------------
def load_code(code: str, name: str = "forward"):
    namespace: dict = {}
    exec(compile(code, "<graph code>", "exec"), namespace)
    return namespace[name]


def test_code_of_the_mlp_runs_and_matches_the_model():
    model, (x,) = prepare("mlp", batch=4)
    x = graphnet.randn(4, 784)
    forward = load_code(trace(model, x).to_code())
    with graphnet.no_grad():
        np.testing.assert_allclose(forward(x, *model.parameters()).numpy(),
                                   model(x).numpy(), rtol=1e-6, atol=1e-6)


def test_code_retraces_to_the_same_ops_and_numbers():
    x, y, labels = mixed_inputs()
    graph = trace(mixed_ops, x, y, labels)
    code = graph.to_code()
    assert "graphnet._dispatch.dispatch('reshape'" in code
    assert "graphnet.nn.functional.linear(x, y)" in code
    assert "graphnet.nn.functional.cross_entropy(" in code and "probs_target" not in code
    forward = load_code(code)
    again = trace(forward, x, y, labels)
    assert [(n.op, n.attrs) for n in again.nodes] == [(n.op, n.attrs) for n in graph.nodes]
    for got, want in zip(forward(x, y, labels), mixed_ops(x, y, labels), strict=True):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_code_of_a_training_step_runs_and_matches_the_compiled_step():
    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(),  # one shape: fewer kernels to compile
                          nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)), nn.Linear(4, 4))
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def train_step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    x, y = graphnet.randn(4, 4), graphnet.from_numpy(np.array([0, 1, 3, 2]))
    train_step(x, y)  # eagerly: creates the momentum buffers, so one compile suffices
    step = graphnet.compile(train_step)
    step(x, y)
    artifact = step.compiled.artifacts[-1]
    code = artifact.graph.to_code("train_step")
    assert "run_grad(grad_fn, (p_0_weight," in code and "dispatch('dropout'" in code
    inputs = [(x, y)[obj] if kind == "arg" else graphnet.Tensor._wrap(obj._value)
              if kind == "state" else obj() for kind, obj in artifact.sources]
    loss, updates = load_code(code, "train_step")(*inputs)
    expected = step(x, y)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    named = dict(model.named_parameters())
    for name, value in updates["state"].items():
        if name in named:
            np.testing.assert_allclose(value.detach().numpy(), named[name].detach().numpy(),
                                       rtol=1e-5, atol=1e-6)
    for name, value in updates["grad"].items():
        np.testing.assert_allclose(value.numpy(), named[name].grad.numpy(), rtol=1e-5, atol=1e-6)


def test_code_of_backward_with_a_cotangent():
    w = graphnet.randn(3, 3, requires_grad=True)

    def f(x, g):
        y = (x @ w).tanh()
        y.backward(g)
        return y * 2

    x, g = graphnet.randn(2, 3), graphnet.randn(2, 3)
    step = graphnet.compile(f)
    out = step(x, g)
    code = step.graph.to_code("f")
    assert "run_grad(grad_fn, (p_const,), cotangent=g)" in code
    result, updates = load_code(code, "f")(x, g, w.detach())
    np.testing.assert_allclose(result.numpy(), out.detach().numpy(), rtol=1e-6)   # as torch's
    np.testing.assert_allclose(updates["grad"]["const"].numpy(), w.grad.numpy(), rtol=1e-5)


# ---- dot --------------------------------------------------------------------------------------
def nested_graph() -> Graph:
    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.Linear(4, 3), nn.ReLU()))
    return trace(model, graphnet.randn(2, 4))


def test_dot_nests_module_clusters():
    dot = nested_graph().to_dot()
    outer, inner = dot.index('subgraph "cluster_1" {'), dot.index('subgraph "cluster_1.0" {')
    assert outer < inner and '    subgraph "cluster_1.1" {' in dot
    assert 'label="relu\\nf32[2,3]"' in dot and 'label="out 0", shape=octagon' in dot
    assert 'label="1.0.weight\\nf32[3,4]", shape=ellipse, fillcolor="#e5e5e5"' in dot
    assert dot.count("{") == dot.count("}")


def test_render_without_graphviz_writes_the_source_and_says_how(tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz") as err:
        render(nested_graph(), str(tmp_path / "g.svg"))
    assert str(tmp_path / "g.dot") in str(err.value)
    assert (tmp_path / "g.dot").read_text().startswith('digraph "Sequential"')


def test_render_calls_dot(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "dot"  # stands in for Graphviz: copies its input to -o
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\ncp "$2" "$4"\necho "$1" > "$4.format"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    out = render(nested_graph(), str(tmp_path / "g.png"), format="png")
    assert open(out).read().startswith("digraph") and open(out + ".format").read() == "-Tpng\n"


# ---- the command ------------------------------------------------------------------------------
def test_cli_prints_every_format(capsys):
    assert cli.main(["dump", "mlp"]) == 0
    with open(os.path.join(GOLDEN, "mlp_text.txt")) as f:
        assert capsys.readouterr().out == f.read()
    assert cli.main(["dump", "mlp", "--format", "table", "--batch", "2"]) == 0
    assert "placeholder  input     arg" in capsys.readouterr().out
    assert cli.main(["dump", "mlp", "--format", "hlo", "--batch", "2"]) == 0
    out = capsys.readouterr().out
    assert "func.func public @main" in out and re.search(r"^cost flops: [1-9]", out, re.M)
    assert "memory argument_size_in_bytes:" in out or "not reported" in out


def test_cli_train_step(capsys):
    assert cli.main(["dump", "mlp", "--train"]) == 0
    with open(os.path.join(GOLDEN, "mlp_train_text.txt")) as f:
        assert capsys.readouterr().out == f.read()


def test_cli_user_file_and_out(tmp_path, capsys):
    source = tmp_path / "models.py"
    source.write_text(
        "import graphnet\nfrom graphnet import nn\n\n"
        "class Tiny(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(3, 2)\n"
        "    def forward(self, x):\n        return self.fc(x).tanh()\n\n"
        "net = Tiny()\n\n"
        "def build():\n    return nn.Sequential(nn.Linear(5, 2)), graphnet.ones(4, 5)\n")
    for name, expect in (("Tiny", "%x: f32[7,3]"), ("net", "%x: f32[7,3]"),
                         ("build", "%input: f32[4,5]")):
        assert cli.main(["dump", f"{source}:{name}", "--batch", "7"]) == 0
        assert expect in capsys.readouterr().out
    (tmp_path / "given.py").write_text("import graphnet\nfrom models import Tiny\n"
                                       "example_inputs = lambda: graphnet.ones(2, 3)\n")
    assert cli.main(["dump", f"{tmp_path / 'given.py'}:Tiny"]) == 0  # also imports a sibling
    assert "%x: f32[2,3]" in capsys.readouterr().out
    out = tmp_path / "tiny.json"
    assert cli.main(["dump", f"{source}:Tiny", "--format", "json", "--out", str(out)]) == 0
    assert Graph.from_json(out.read_text()).nodes[0].op == "linear"
    assert cli.main(["dump", f"{source}:missing"]) == 2
    assert "defines no 'missing'" in capsys.readouterr().err
    assert cli.main(["dump", "resnet9000"]) == 2
    assert "unknown model 'resnet9000'" in capsys.readouterr().err


def test_cli_draws_dot_or_says_how(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert cli.main(["dump", "mlp", "--format", "dot", "--out", str(tmp_path / "m.svg")]) == 1
    assert "apt-get install graphviz" in capsys.readouterr().err
    with open(os.path.join(GOLDEN, "mlp_dot.txt")) as f:
        assert (tmp_path / "m.dot").read_text() == f.read()
