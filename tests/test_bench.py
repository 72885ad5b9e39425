"""A quick smoke run of `graphnet bench` (timings are for benchmarks, not tests)."""

import json

import pytest

from graphnet.runtime import bench
from graphnet.runtime.cli import main
from graphnet.runtime.workloads import mlp


def test_bench_quick_runs_all_variants_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    for label in ("hand-written jax.jit", "graphnet static", "graphnet dynamic", "PyTorch eager",
                  "static / hand-written jax.jit"):
        assert label in printed
    (result,) = json.loads(out.read_text())
    assert set(result["step_s"]) == {"jax", "static", "plan", "dynamic", "torch"}
    assert all(v > 0 for v in result["step_s"].values())
    assert result["ratios"]["static/jax"] > 0
    cost = result["compile_cost"]["static"]      # only the compiled variants have one
    assert set(result["compile_cost"]) == {"static", "plan"}
    assert cost["trace_s"] > 0 and cost["passes_s"] > 0 and cost["xla_s"] > 0
    assert abs(cost["fraction"] - (cost["trace_s"] + cost["passes_s"]) / cost["xla_s"]) < 1e-12
    assert f"of {cost['basis']}" in printed


def test_compile_cost_sums_every_graph_a_function_built():
    graph = {"trace_s": 0.1, "passes_s": 0.05, "first_run_s (XLA compile + run)": 1.0,
             "jax_lowering_s": 0.1, "xla_compile_s": 0.4}
    cost = bench.compile_cost({"per_graph": [graph, dict(graph, xla_compile_s=1.4)]})
    assert cost["basis"] == "JAX lowering + XLA compile"
    assert cost["xla_s"] == pytest.approx(0.2 + 1.8)
    assert cost["fraction"] == pytest.approx((0.2 + 0.1) / 2.0)
    cached = bench.compile_cost({"per_graph": [dict(graph, xla_compile_s=0.0)]})
    assert cached["basis"].startswith("first run")
    assert cached["fraction"] == pytest.approx(0.15 / 1.0)


def test_all_variants_compute_the_same_training_trajectory():
    workload = mlp(sizes=(20, 16, 4), batch=8, torch=True)
    losses = {name: [float(step()) for _ in range(3)] for name, step in workload.variants.items()}
    for name, values in losses.items():
        assert abs(values[-1] - losses["jax"][-1]) < 1e-5, (name, values, losses["jax"])


def test_machine_description_names_the_backend():
    assert "jax" in bench.machine() and "cpu" in bench.machine()
