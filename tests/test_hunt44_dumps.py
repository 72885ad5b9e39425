"""Dump corners: the code dump of a cond/while graph runs when an argument is named `lower` or
`from_json` (it hid the imports that run a region); `.graph` of a `mode="dynamic"` function
says why it has none (it said the function was never called); `plan_dump`'s errors name
`plan_dump`; `graphnet dump FILE.py:Cls` of a Module class that needs arguments is a clear
error with exit status 2 (a traceback and 1), as is a file that fails to run."""

import subprocess
import sys

import pytest

import graphnet
from graphnet.runtime.artifact_dumps import plan_dump


@pytest.mark.parametrize("name", ["lower", "from_json"])
def test_code_dump_with_a_reserved_argument_name(name):
    source = f"def f(x, {name}):\n" \
             f"    return graphnet.cond(x.sum() > 0, lambda t: t * 2, lambda t: t - {name}, " \
             f"(x,))\n"
    scope = {"graphnet": graphnet}
    exec(source, scope)
    f = scope["f"]
    for x in ([1.0, 2.0, 3.0], [-1.0, -2.0, 0.0]):
        args = graphnet.tensor(x), graphnet.tensor([0.5, 0.5, 0.5])
        code = graphnet.trace_graph(f, *args).to_code()
        namespace = {}
        exec(code, namespace)
        assert namespace["forward"](*args).tolist() == f(*args).tolist()


def test_graph_of_a_dynamic_function_says_why():
    f = graphnet.compile(lambda x: x * 2, mode="dynamic")
    f(graphnet.ones(2))
    with pytest.raises(RuntimeError, match="mode='dynamic' runs eagerly and compiles none"):
        print(f.graph)
    g = graphnet.compile(lambda x: x * 2)
    with pytest.raises(RuntimeError, match="call it once with example inputs first"):
        print(g.graph)


def test_plan_dump_errors_name_plan_dump():
    f = graphnet.compile(graphnet.nn.Linear(4, 2))
    with pytest.raises(RuntimeError, match="^plan_dump: .* has not been called yet"):
        plan_dump(f)
    f(graphnet.ones(3, 4))
    with pytest.raises(RuntimeError, match="^plan_dump: no graph of"):
        plan_dump(f, graphnet.ones(5, 7))


@pytest.mark.parametrize("body, says", [
    ("class Net(graphnet.nn.Module):\n"
     "    def __init__(self, n):\n"
     "        super().__init__()\n"
     "        self.a = graphnet.nn.Linear(n, n)\n", "Net() raised TypeError"),
    ("class Net(:\n", "raised SyntaxError")])
def test_dump_cli_file_errors(tmp_path, body, says):
    path = tmp_path / "m.py"
    path.write_text("import graphnet\n" + body)
    run = subprocess.run([sys.executable, "-m", "graphnet.runtime.cli", "dump",
                          f"{path}:Net"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "graphnet dump: error:" in run.stderr and says in run.stderr
    assert "Traceback" not in run.stderr
