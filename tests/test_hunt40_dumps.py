"""Dumps and explain() that say what happened: hlo/plan dumps with arguments use the graph
compiled for them; code dumps refuse what they cannot write instead of writing code that does
not run; a custom Function prints without an address; a miss names the guard of the graph
the previous call ran; `graphnet dump` on a model its inputs cannot be guessed for says what
to define."""
import os
import subprocess
import sys
import textwrap

import pytest

import graphnet as G
from graphnet.runtime.artifact_dumps import hlo_dump, plan_dump


def test_hlo_and_plan_dumps_take_the_graph_of_their_arguments():
    model = G.nn.Linear(16, 8)
    fast = G.compile(model)
    full, short = G.ones(32, 16), G.ones(4, 16)
    for x in (full, short, full):
        fast(x)
    assert "32x16" in hlo_dump(fast, full)["stablehlo"]
    assert "4x16" in hlo_dump(fast, short)["stablehlo"]
    assert plan_dump(fast, full)["plan"] is not None
    with pytest.raises(RuntimeError, match="no graph of .* was compiled for these arguments"):
        hlo_dump(fast, G.ones(5, 16))


class Square(G.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


def test_custom_function_dumps_without_address_and_refuses_code():
    w = G.ones(3, requires_grad=True)
    fast = G.compile(lambda x: Square.apply(x * w).sum())
    fast(G.ones(3))
    text = str(fast.graph)
    assert "<custom Function Square>" in text and " at 0x" not in text
    with pytest.raises(NotImplementedError, match="cannot be written as Python code"):
        fast.graph.to_code()


def test_per_sample_gradient_code_dump_is_refused_clearly():
    from graphnet.func import functional_call, grad, vmap

    model = G.nn.Linear(4, 2)
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, x, y):
        return G.nn.functional.mse_loss(functional_call(model, p, (x[None],)), y[None])

    fast = G.compile(lambda x, y: vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y))
    out = fast(G.ones(6, 4), G.zeros(6, 2))
    assert tuple(out["weight"].shape) == (6, 2, 4)
    with pytest.raises(NotImplementedError, match="cannot be written as code"):
        fast.graph.to_code()


def test_a_miss_names_the_guard_of_the_graph_last_run():
    model = G.nn.Sequential(G.nn.Linear(3, 3), G.nn.Dropout(0.1))
    fast = G.compile(model)
    x = G.ones(2, 3)
    fast(x)
    model.eval()
    fast(x)
    model.train()
    fast(x)
    model[1].p = 0.5
    fast(x)
    assert fast.explain()["recompile_reasons"][-1] == "guard failed: 1.p is the value traced"


def test_dump_cli_says_what_to_define_when_the_guess_does_not_fit(tmp_path):
    (tmp_path / "tagger.py").write_text(textwrap.dedent("""
        import graphnet as G
        class Tagger(G.nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = G.nn.Embedding(10, 8)
                self.out = G.nn.Linear(8, 3)
            def forward(self, ids):
                return self.out(self.emb(ids))
    """))
    done = subprocess.run([sys.executable, "-m", "graphnet.runtime.cli", "dump", "tagger.py:Tagger"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, GRAPHNET_AUTOTUNE="0"))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "define `example_inputs`" in done.stderr
