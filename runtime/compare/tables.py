"""The report's tables, one builder per axis of docs/compare.md; report.py renders each
`Table` both as HTML and as GitHub Markdown, so the two files show the same cells.

Units live in the headers, chosen per column from its values (`static (ms)`, `peak (MiB)`,
`dynamic/static (x)`), and every cell is a number printed with three significant digits or
`-` where nothing was measured.

    >>> [t.title for t in step_time_tables(results)]
    ['Median step time', 'Spread over rounds (fastest - slowest round)']
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .conclusions import fmt_ratio
from .plots import LABELS, time_unit

OUTCOME_TEXT = {"runs": "runs", "recompiles": "runs, recompiles", "refused": "refused",
                "differs": "DIFFERS (wrong answer)"}


@dataclass
class Table:
    title: str
    headers: list
    rows: list
    classes: list = field(default_factory=list)   # a CSS class per cell, or none
    note: str = ""
    kind: str = "numbers"    # "numbers": right-aligned after the first column; "text"; "matrix"


def _num(x: float) -> str:
    """Three significant digits, trailing zeros kept so a column reads evenly (3.00, 0.0360)."""
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return "0" if x == 0 else f"{x:#.3g}".rstrip(".")


def _times(values: list) -> tuple[str, list]:
    """(unit, cells) for one column of seconds."""
    scale, unit = time_unit([v for v in values if v is not None] or [1.0])
    return unit, ["-" if v is None else _num(v * scale) for v in values]


def _bytes(values: list) -> tuple[str, list]:
    top = max([v for v in values if v is not None] or [0])
    div, unit = (2**20, "MiB") if top >= 2**20 else (2**10, "KiB")
    return unit, ["-" if v is None else _num(v / div) for v in values]


def _ratio(x) -> str:
    """A ratio's cell; its header says (x)."""
    return "-" if x is None else fmt_ratio(x).rstrip("x")


def _columns(first: tuple, columns: list) -> tuple[list, list]:
    """headers and rows from (header, cells) columns; `kind` picks the unit in the header."""
    headers, cells = [first[0]], [first[1]]
    for header, kind, values in columns:
        if all(v is None for v in values):
            continue
        if kind == "s":
            unit, shown = _times(values)
        elif kind == "bytes":
            unit, shown = _bytes(values)
        elif kind == "x":
            unit, shown = "x", [_ratio(v) for v in values]
        else:
            unit, shown = kind, ["-" if v is None else str(v) for v in values]
        headers.append(f"{header} ({unit})" if unit else header)
        cells.append(shown)
    return headers, [list(row) for row in zip(*cells)]


def _axis(results: dict, name: str) -> dict:
    return (results.get("axes") or {}).get(name) or {}


def summary_table(rows: list) -> Table:
    headers, cells = _columns(("workload", [r["workload"] for r in rows]), [
        ("faster per step", "", [r["winner"] for r in rows]),
        ("speedup", "x", [r["speedup"] for r in rows]),
        ("break-even", "steps", [r["break_even_steps"] for r in rows]),
        ("peak memory dynamic/static", "x", [r["memory_ratio"] for r in rows])])
    return Table("Summary", headers, cells, note="Speedup: the slower graphnet mode's median "
                 "step over the faster one's. Break-even: the first step count at which "
                 "static's total time (first call included) is below dynamic's.")


def step_time_tables(results: dict) -> list:
    axis = _axis(results, "step_time")
    timed = axis.get("workloads") or {}
    if not timed:
        return []
    names = list(timed)
    variants = [v for v in LABELS if any(v in timed[n]["variants"] for n in names)]
    extra = [v for n in names for v in timed[n]["variants"] if v not in LABELS]
    variants += list(dict.fromkeys(extra))
    ratio_keys = list(dict.fromkeys(k for n in names for k in timed[n].get("ratios") or {}))

    def get(n, v, key):
        return (timed[n]["variants"].get(v) or {}).get(key)

    medians = [(LABELS.get(v, v), "s", [get(n, v, "median_s") for n in names]) for v in variants]
    ratios = [(k, "x", [(timed[n].get("ratios") or {}).get(k) for n in names])
              for k in ratio_keys]
    headers, rows = _columns(("workload", names), medians + ratios)
    spread_headers, spread_rows = ["workload"], [[n] for n in names]
    for v in variants:
        lows = [get(n, v, "min_s") for n in names]
        highs = [get(n, v, "max_s") for n in names]
        unit, lo_cells = _times(lows + highs)
        spread_headers.append(f"{LABELS.get(v, v)} ({unit})")
        for row, lo, hi in zip(spread_rows, lo_cells, lo_cells[len(names):]):
            row.append("-" if lo == "-" else f"{lo} - {hi}")
    settings = axis.get("settings") or {}
    note = (f"{settings.get('rounds', '?')} interleaved rounds of {settings.get('steps', '?')} "
            "steps; the median round is reported, ratios come from the same run.")
    return [Table("Median step time", headers, rows, note=note),
            Table("Spread over rounds (fastest - slowest round)", spread_headers, spread_rows)]


def compile_tables(results: dict) -> list:
    workloads = _axis(results, "compile").get("workloads") or {}
    if not workloads:
        return []
    names = list(workloads)

    def pick(key, sub):
        return [((workloads[n].get(key) or {}).get(sub)) for n in names]

    headers, rows = _columns(("workload", names), [
        ("tracing", "s", pick("phases_s", "trace")),
        ("passes", "s", pick("phases_s", "passes")),
        ("JAX lowering", "s", pick("phases_s", "jax_lowering")),
        ("XLA compile", "s", pick("phases_s", "xla_compile")),
        ("static first call", "s", pick("first_call_s", "static")),
        ("dynamic first call", "s", pick("first_call_s", "dynamic")),
        ("break-even", "steps", pick("break_even", "steps"))])
    horizon = (_axis(results, "compile").get("settings") or {}).get("horizon_steps")
    never = f", or only after more than {horizon:,} steps" if horizon else ""
    tables = [Table("Compile cost and break-even", headers, rows, note="The four phases split "
                    "static mode's compile work; break-even '-': static's total time never "
                    f"drops below dynamic's (its step is not faster){never}.")]
    cached = [n for n in names if workloads[n].get("cache")]
    if cached:
        def cache(n, temp, v):
            return workloads[n]["cache"][f"{temp}_first_call_s"].get(v)

        timed = [v for v in ("static", "dynamic", "jax")
                 if any(v in workloads[n]["cache"]["cold_first_call_s"] for n in cached)]
        headers, rows = _columns(("workload", cached), [
            (f"{'jax.jit' if v == 'jax' else v} {temp} cache", "s",
             [cache(n, temp, v) for n in cached])
            for v in timed for temp in ("cold", "warm")])
        tables.append(Table("First call, cold and warm persistent compilation cache",
                            headers, rows))
    return tables


def scaling_tables(results: dict) -> list:
    tables = []
    for curve in _axis(results, "scaling").get("curves") or []:
        variants = [v for v in LABELS if v in curve["variants"]]
        columns = [(LABELS[v], "s", curve["variants"][v]) for v in variants]
        if "static" in curve["variants"] and "dynamic" in curve["variants"]:
            columns.append(("dynamic/static", "x", [d / s for d, s in zip(
                curve["variants"]["dynamic"], curve["variants"]["static"])]))
        headers, rows = _columns((curve["axis"], [f"{v:g}" for v in curve["values"]]), columns)
        tables.append(Table(f"{curve['workload']}: median step time against {curve['axis']}",
                            headers, rows))
    return tables


def memory_tables(results: dict) -> list:
    workloads = _axis(results, "memory").get("workloads") or {}
    if not workloads:
        return []
    names = list(workloads)

    def pick(part, key):
        return [(workloads[n].get(part) or {}).get(key) for n in names]

    headers, rows = _columns(("workload", names), [
        ("static arguments", "bytes", pick("static", "argument_bytes")),
        ("static outputs", "bytes", pick("static", "output_bytes")),
        ("static temporaries", "bytes", pick("static", "temp_bytes")),
        ("static aliased", "bytes", pick("static", "alias_bytes")),
        ("static peak", "bytes", pick("static", "peak_bytes")),
        ("plan estimate", "bytes", pick("static", "plan_estimate_bytes")),
        ("dynamic live before the step", "bytes", pick("dynamic", "baseline_bytes")),
        ("dynamic added at its peak", "bytes", pick("dynamic", "peak_bytes")),
        ("dynamic/static", "x", [workloads[n].get("ratio_dynamic_over_static") for n in names]),
        ("device static peak", "bytes", pick("device", "static_peak_bytes")),
        ("device dynamic peak", "bytes", pick("device", "dynamic_peak_bytes"))])
    return [Table("Peak memory of one training step", headers, rows, note="Static: XLA's "
                  "memory analysis (peak = arguments + outputs + temporaries - aliased). "
                  "Dynamic: what the step added at its peak above everything live before it, "
                  "tracked by graphnet. dynamic/static = (dynamic's added bytes + static's "
                  "arguments, the state both start from) / static's peak. Device: the "
                  "accelerator's own peak statistics above the bytes in use before the step, "
                  "where there is one.")]


def shapes_tables(results: dict) -> list:
    axis = _axis(results, "shapes")
    tables = []
    for name, w in (axis.get("workloads") or {}).items():
        policies = [p for p in ("dynamic", "static", "buckets") if p in w["policies"]]
        data = [w["policies"][p] for p in policies]
        headers, rows = _columns(("policy", [LABELS.get(p, p) for p in policies]), [
            ("compiles", "", [d["compiles"] for d in data]),
            ("compiling", "s", [d["compile_s"] for d in data]),
            ("total", "s", [d["total_s"] for d in data]),
            ("mean per call", "s", [d["total_s"] / max(len(d["per_call_s"]), 1)
                                    for d in data])])
        lengths = w["lengths"]
        note = (f"{len(lengths)} calls, lengths {min(lengths, default=0)} to "
                f"{max(lengths, default=0)} ({len(set(lengths))} distinct)")
        distribution = (axis.get("settings") or {}).get("distribution")
        note += f", drawn from {distribution}." if distribution else "."
        if w.get("buckets"):
            note += (f" Proposed bucket boundaries {w['buckets']['boundaries']}: "
                     f"{w['buckets']['padding_waste']:.1%} of the padded positions are padding.")
        tables.append(Table(f"{name}: varying sequence lengths", headers, rows, note=note))
    return tables


def flexibility_table(results: dict) -> list:
    flex = _axis(results, "flexibility")
    if not flex:
        return []
    modes = flex["modes"]
    rows, classes = [], []
    for feature in flex["features"]:
        row, row_classes = [f"{feature['name']}: {feature['description']}"], ["feature"]
        for mode in modes:
            cell = feature["cells"].get(mode)
            if not cell:
                row.append("-")
                row_classes.append("")
                continue
            text = OUTCOME_TEXT[cell["outcome"]]
            if cell.get("compiles"):
                text += f" ({cell['compiles']} compile{'s' if cell['compiles'] != 1 else ''})"
            text += f": {cell['detail']}" if cell.get("detail") else ""
            if cell.get("remedy"):
                text += f". Remedy: {cell['remedy']}"
            row.append(text)
            row_classes.append(f"outcome-{cell['outcome']}")
        rows.append(row)
        classes.append(row_classes)
    note = ("runs: same result as plain Python; recompiles: same result, compiling again on "
            "every call; refused: a clear error with its remedy; differs: a silently different "
            "result (a bug).")
    return [Table("Flexibility: each cell is a small program run in that mode",
                  ["feature"] + modes, rows, classes, note=note, kind="matrix")]


def numerics_tables(results: dict) -> list:
    axis = _axis(results, "numerics")
    workloads = axis.get("workloads") or {}
    if not workloads:
        return []
    names = list(workloads)
    variants = list(dict.fromkeys(v for n in names for v in workloads[n]["max_abs_diff"]))
    headers = ["workload"] + [f"{LABELS.get(v, v)} vs dynamic" for v in variants]
    rows = [[n] + ["-" if (d := workloads[n]["max_abs_diff"].get(v)) is None else f"{d:.2g}"
                   for v in variants] for n in names]
    steps = (axis.get("settings") or {}).get("steps")
    return [Table("Largest absolute parameter difference from dynamic mode", headers, rows,
                  note=f"After {steps} training steps from the same weights and data."
                  if steps else "")]


def data_parallel_tables(results: dict) -> list:
    axis = _axis(results, "data_parallel")
    devices = axis.get("devices") or []
    if not devices:
        return []
    unit, times = _times(axis["step_s"])
    rows = []
    for i, n in enumerate(devices):
        kinds = axis["collectives"][i] or {}
        rows.append([str(n), times[i], f"{axis['bytes_per_step'][i]:,}",
                     ", ".join(f"{k} x{v['count']}" for k, v in kinds.items()) or "none",
                     f"{axis['max_abs_diff_vs_1'][i]:.2g}"])
    return [Table("Data-parallel training step", ["devices", f"median step ({unit})",
                                                  "bytes per step", "collectives",
                                                  "parameters vs 1 device"], rows,
                  note=(axis.get("settings") or {}).get("note", ""))]
