"""Dumps of a compiled model (compiler/dumps): XLA's StableHLO, optimized HLO, cost and memory
analysis (`hlo_dump`), and graphnet's memory plan set against XLA's peak (`plan_dump`)."""

from __future__ import annotations

import graphnet
from graphnet.runtime.artifact_dumps import format_plan_dump, hlo_dump, plan_dump
from graphnet.runtime.artifact_dumps import normalize_cost
from graphnet.runtime.dump import dump, prepare


# ---- hlo --------------------------------------------------------------------------------------
def test_hlo_dump_reports_programs_cost_and_memory():
    model, (x,) = prepare("mlp", batch=8)
    compiled = graphnet.compile(model)
    compiled(x)
    result = hlo_dump(compiled, x)
    assert "stablehlo.dot_general" in result["stablehlo"] and "HloModule" in result["optimized_hlo"]
    assert result["cost"]["flops"] >= 2 * 8 * (784 * 256 + 256 * 256 + 256 * 10)
    memory = result["memory"]
    assert memory is None or memory["argument_size_in_bytes"] >= 4 * (784 * 256 + 8 * 784)
    assert memory is None or {"output_size_in_bytes", "temp_size_in_bytes",
                              "generated_code_size_in_bytes"} <= set(memory)
    abstract = hlo_dump(compiled.compiled.artifacts[-1])  # no args: the graph's input types
    assert abstract["stablehlo"] == result["stablehlo"]


def test_normalize_cost_accepts_old_and_new_jax_shapes():
    assert normalize_cost([{"flops": 3}])["flops"] == 3.0
    assert normalize_cost({"flops": 2.0, "b": 1})["b"] == 1.0
    assert normalize_cost(None)["bytes accessed"] == 0.0


# ---- plan -------------------------------------------------------------------------------------
def test_plan_dump_sets_the_planned_peak_against_xla():
    model, (x,) = prepare("mlp", batch=8)
    compiled = graphnet.compile(model)
    compiled(x)
    result = plan_dump(compiled, x)
    plan = result["plan"]
    assert plan is compiled.compiled.artifacts[-1].plan and len(plan.order) == 3
    # the peak is k0: every input is live from the start (all parameters and x), plus the
    # first hidden activation k0 writes; float32 throughout
    params = 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10
    assert plan.est_peak_bytes == 4 * (params + 8 * 784 + 8 * 256)
    text = format_plan_dump(result)
    assert text.startswith(str(plan))
    assert f"graphnet est peak: {plan.est_peak_bytes}" in text
    memory = result["memory"]
    if memory is not None:
        reference = (memory["argument_size_in_bytes"] + memory["output_size_in_bytes"]
                     + memory["temp_size_in_bytes"] - memory["alias_size_in_bytes"])
        assert f"estimate / XLA: {plan.est_peak_bytes / reference:.2f}" in text
    assert dump("mlp", "plan", batch=8) == text


def test_plan_dump_says_when_the_backend_has_no_memory_analysis():
    model, (x,) = prepare("mlp", batch=2)
    compiled = graphnet.compile(model)
    compiled(x)
    text = format_plan_dump({"plan": compiled.compiled.artifacts[-1].plan, "memory": None})
    assert text.endswith("XLA: this backend reports no memory analysis")
