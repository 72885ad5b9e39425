"""The dumps that read a compiled artifact, not just its graph (the graph-only dumps are in
graphnet.compiler.dumps). Pass the handle `graphnet.compile` returns (its latest graph is
used), its `.compiled`, or an `Artifact`.

- `hlo_dump(compiled)`: what XLA makes of a compiled graph: the StableHLO graphnet hands it,
  the HLO after XLA's optimisations (fusions, layouts), XLA's cost estimate and memory plan.
- `plan_dump(compiled)`: the fused execution plan of a compiled graph, with graphnet's
  estimated peak memory set against XLA's memory analysis of the same program.

The two peak-memory numbers of `plan_dump` measure different things on purpose. graphnet's
estimate adds up the buffers alive while each of its own kernels runs (inputs included) and
takes the largest sum. XLA's reference is its arguments + outputs + its temporary arena (its
buffer assignment's peak of live temporaries, after its own fusion), minus aliased bytes.
XLA's temporaries also hold values inside what graphnet counts as one kernel (the
matmul-form conv's patches, layout copies), so the estimate is often lower; a ratio far from
1 says where XLA's program differs from the plan. `peak_memory_in_bytes` is shown as jax
reports it; on CPU it has been seen to leave the temporaries out, so the ratio does not use
it."""

from __future__ import annotations

from graphnet import _xla as xla
from graphnet._ops import lowering_choices
from graphnet._x64 import x64_scoped

COST_KEYS = ("flops", "bytes accessed", "transcendentals", "optimal_seconds")
MEMORY_FIELDS = ("argument_size_in_bytes", "output_size_in_bytes", "alias_size_in_bytes",
                 "temp_size_in_bytes", "generated_code_size_in_bytes")


def _artifact(target, args=(), what: str = "hlo_dump"):
    """The artifact to dump: `target` itself, or the latest graph of a compiled function;
    with `args`, the latest one compiled for their shapes and dtypes (the latest graph, for a
    shorter last batch, refused the full batch's arguments)."""
    if hasattr(target, "run_fn") and hasattr(target, "lowered"):
        return target
    compiled = getattr(target, "compiled", target)
    artifacts = getattr(compiled, "artifacts", None)
    if artifacts is None:
        raise TypeError(f"{what} expects what graphnet.compile returns (or its Artifact), "
                        f"got {type(target).__name__}")
    if not artifacts:
        raise RuntimeError(f"{what}: {compiled.name} has not been called yet, so nothing is "
                           f"compiled; call it once with example inputs first")
    if not args:
        return artifacts[-1]
    for artifact in reversed(artifacts):
        if _takes(artifact, args):
            return artifact
    raise RuntimeError(f"{what}: no graph of {compiled.name} was compiled for these "
                       f"arguments' shapes and dtypes; call it with them once first")


def _takes(artifact, args) -> bool:
    """Whether `artifact`'s graph inputs have the shapes and dtypes of `args`' arrays."""
    import numpy as np

    inputs = artifact.graph.inputs
    try:
        arrays = artifact._gather(args)
    except (IndexError, AttributeError, TypeError):   # other arguments, or retired
        return False
    return len(arrays) == len(inputs) and all(
        tuple(np.shape(a)) == tuple(v.shape)
        and np.dtype(getattr(a, "dtype", v.dtype)) == np.dtype(v.dtype)
        for a, v in zip(arrays, inputs))


def _abstract_inputs(graph) -> list:
    import jax

    return [jax.ShapeDtypeStruct(v.shape, v.dtype, weak_type=v.weak_type) for v in graph.inputs]


def normalize_cost(cost) -> dict:
    """`Compiled.cost_analysis()` is a dict in new jax and a one-element list (per device) in
    old jax, and may be None; always return a dict name -> float. The main keys (`flops`,
    `bytes accessed`, ...) are always present (0.0 when XLA does not report them)."""
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else None
    result = {key: 0.0 for key in COST_KEYS}
    cost = cost or {}
    for key in sorted(cost):  # XLA's own order varies; sorted keeps dumps deterministic
        result[key] = float(cost[key])
    return result


def normalize_memory(memory) -> dict | None:
    """`Compiled.memory_analysis()` fields in bytes, or None where the backend has none."""
    if memory is None:
        return None
    result = {}
    for field in MEMORY_FIELDS + ("peak_memory_in_bytes",):
        value = getattr(memory, field, None)
        if value is not None:
            result[field] = int(value)
    return result


@x64_scoped   # lowered as it runs: int64 labels stay i64 (graphnet/_x64.py)
def hlo_dump(target, *args) -> dict:
    """Lower and compile the latest graph of `target` and report what XLA produced.

    With `args` (the call's arguments, as passed to the compiled function) the program is
    lowered for the live inputs (`Artifact.lowered(args)`); without, for the graph's input
    shapes and dtypes (the same program). Returns a dict with `stablehlo` (text), `optimized_hlo`
    (text), `cost` (name -> float, see normalize_cost) and `memory` (name -> bytes, or None).

    >>> step = graphnet.compile(train_step); step(x, y)
    >>> print(hlo_dump(step, x, y)["cost"]["flops"])
    """

    artifact = _artifact(target, args)
    if args:
        lowered = artifact.lowered(args)
    else:
        lowered = _jit(artifact).lower(*_abstract_inputs(artifact.graph))
    compiled = lowered.compile()
    return {"stablehlo": lowered.as_text(), "optimized_hlo": compiled.as_text(),
            "cost": normalize_cost(compiled.cost_analysis()),
            "memory": normalize_memory(compiled.memory_analysis())}


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def format_hlo_dump(dump: dict) -> str:
    """The dump as text: both programs, XLA's main cost figures, one line per memory field."""
    lines = ["// ---- StableHLO (what graphnet hands XLA) ----", dump["stablehlo"].rstrip(),
             "", "// ---- optimized HLO (after XLA's passes) ----", dump["optimized_hlo"].rstrip(),
             "", "// ---- cost analysis (XLA's estimate) ----"]
    lines += [f"cost {key}: {_number(dump['cost'][key])}" for key in COST_KEYS]
    per_operand = len(dump["cost"]) - len(COST_KEYS)
    if per_operand:
        lines.append(f"cost: {per_operand} more per-operand entries in hlo_dump(...)['cost']")
    lines.append("// ---- memory analysis (bytes) ----")
    if dump["memory"] is None:
        lines.append("memory: not reported by this backend")
    else:
        lines += [f"memory {key}: {value}" for key, value in dump["memory"].items()]
    return "\n".join(lines)


@x64_scoped
def plan_dump(target, *args) -> dict:
    """`{"plan": ExecutionPlan, "memory": XLA's memory fields or None}` for the latest graph of
    `target` (what `graphnet.compile` returns, after a call). With `args`, XLA compiles for the
    live inputs; without, for the graph's input types (the same program).

    >>> fast = graphnet.compile(model); fast(x)
    >>> print(format_plan_dump(plan_dump(fast, x)))
    """

    artifact = _artifact(target, args, "plan_dump")
    lowered = (artifact.lowered(args) if args
               else _jit(artifact).lower(*_abstract_inputs(artifact.graph)))
    return {"plan": artifact.plan, "memory": normalize_memory(lowered.compile().memory_analysis()),
            "lowerings": lowering_choices.for_graph(artifact.graph, _overrides(artifact)),
            **xla.explained(artifact.jitted, getattr(artifact, "xla_options", None))}


def _overrides(artifact) -> dict:
    refined = getattr(artifact, "refinement", None)
    return refined.overrides if refined is not None else {}


def _jit(artifact):
    """The artifact's program jitted with its compile options (graphnet/_xla.py)."""
    refined = getattr(artifact, "refinement", None)
    options = {"option_set": artifact.xla_options} if refined is not None else {}
    return xla.jit(artifact.run_fn, xla.graph_has_conv(artifact.graph), program=True,
                   **options)


def format_plan_dump(dump: dict) -> str:
    plan, memory = dump["plan"], dump["memory"]
    lines = [str(plan)]
    if "lowerings" in dump:
        lines += ["", "// ---- lowerings chosen (conv and pool autotuning) ----"]
        lines += lowering_choices.format_rows(dump["lowerings"], dump.get("xla_options"))
        lines += [f"compiled again without it: a library fusion may compute wrong values "
                  f"({why})" for why in dump.get("xla_risky_fusions", [])]
    lines += ["", "// ---- planned peak vs XLA's memory analysis (bytes) ----"]
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
