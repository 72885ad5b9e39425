"""`plan_dump(compiled)`: the fused execution plan of a compiled graph, with graphnet's
estimated peak memory set against XLA's memory analysis of the same program.

The two numbers measure different things on purpose. graphnet's estimate adds up the buffers
alive while each of its own kernels runs (inputs included) and takes the largest sum. XLA's
reference is its arguments + outputs + its temporary arena (its buffer assignment's peak of
live temporaries, after its own fusion), minus aliased bytes. XLA's temporaries also hold
values inside what graphnet counts as one kernel (the matmul-form conv's patches, layout
copies), so the estimate is often lower; a ratio far from 1 says where XLA's program
differs from the plan. `peak_memory_in_bytes` is shown as jax reports it; on CPU it has been
seen to leave the temporaries out, so the ratio does not use it."""

from __future__ import annotations

from .hlo import _abstract_inputs, _artifact, normalize_memory


def plan_dump(target, *args) -> dict:
    """`{"plan": ExecutionPlan, "memory": XLA's memory fields or None}` for the latest graph of
    `target` (what `graphnet.compile` returns, after a call). With `args`, XLA compiles for the
    live inputs; without, for the graph's input types (the same program).

    >>> fast = graphnet.compile(model); fast(x)
    >>> print(format_plan_dump(plan_dump(fast, x)))
    """
    import jax

    artifact = _artifact(target)
    lowered = (artifact.lowered(args) if args
               else jax.jit(artifact.run_fn).lower(*_abstract_inputs(artifact.graph)))
    return {"plan": artifact.plan, "memory": normalize_memory(lowered.compile().memory_analysis())}


def format_plan_dump(dump: dict) -> str:
    plan, memory = dump["plan"], dump["memory"]
    lines = [str(plan), "", "// ---- planned peak vs XLA's memory analysis (bytes) ----"]
    estimate = plan.est_peak_bytes
    lines.append(f"graphnet est peak: {estimate if estimate is not None else 'not planned'}")
    if memory is None:
        lines.append("XLA: this backend reports no memory analysis")
        return "\n".join(lines)
    live = (memory["argument_size_in_bytes"] + memory["output_size_in_bytes"]
            + memory["temp_size_in_bytes"] - memory["alias_size_in_bytes"])
    lines.append(f"XLA arguments + outputs + temporaries - aliased: {live}")
    if memory.get("peak_memory_in_bytes") is not None:
        lines.append(f"XLA peak_memory_in_bytes (as jax reports it): "
                     f"{memory['peak_memory_in_bytes']}")
    if estimate is not None and live:
        lines.append(f"estimate / XLA: {estimate / live:.2f}")
    return "\n".join(lines)
