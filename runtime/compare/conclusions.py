"""The report's conclusions, written from the numbers of one run and nothing else.

`summarize(results)` gives one summary row per workload (docs/compare.md, `summary`): which
graphnet mode wins the step time and by how much, the break-even step count, the memory ratio,
and a sentence built from exactly those numbers. `overall(results)` gives the lines that span
workloads (graphnet's own overhead against jax.jit, dynamic against PyTorch eager, recompiles
under shape variation, the flexibility matrix). Every wording branch depends only on the
numbers it prints, so no sentence can contradict the table beside it.

    >>> rows = summarize(results)
    >>> rows[0]["sentence"]
    'mlp: static is 4.73x faster than dynamic per step (0.55 ms vs 2.60 ms); ...'
"""

from __future__ import annotations

import math
import statistics

# NOTE: below this ratio two timings are reported as "about the same": run-to-run noise of a
# step time on a shared CPU is a few percent, so 1.03x is no win worth a sentence.
SAME = 1.05


def break_even_steps(first_static: float, step_static: float, first_dynamic: float,
                     step_dynamic: float) -> int | None:
    """The first n >= 1 at which static's total (first call + (n-1) steps) is below dynamic's,
    from the two first calls and steady step times; None if static never gets ahead. (The
    compile axis measures its break-even on every warm-up call, breakeven.py; this one-call
    form only words the opposite case: when dynamic's faster steps catch up with static.)

    >>> break_even_steps(0.5, 0.001, 0.1, 0.003)   # 0.4 s extra, 2 ms saved per step
    202
    """
    if first_static < first_dynamic:
        return 1
    if step_static >= step_dynamic:
        return None
    def ahead(n):
        return first_static + (n - 1) * step_static < first_dynamic + (n - 1) * step_dynamic

    # static ahead at n  <=>  (n-1) * (step_dynamic - step_static) > first_static - first_dynamic
    n = math.floor((first_static - first_dynamic) / (step_dynamic - step_static)) + 2
    # NOTE: the division rounds; settle the last step on the totals themselves, as a reader
    # adding the numbers up would
    while n > 2 and ahead(n - 1):
        n -= 1
    while not ahead(n):
        n += 1
    return n


def fmt_ratio(r: float) -> str:
    return f"{r:.2f}x" if r < 10 else f"{r:.1f}x" if r < 100 else f"{r:.0f}x"


def fmt_seconds(s: float) -> str:
    """Three significant digits in s, ms or us: `fmt_seconds(0.000564)` is '564 us'."""
    if s >= 1000:
        return f"{s:.0f} s"
    value, unit = (s, "s") if s >= 1 else (s * 1e3, "ms") if s >= 1e-3 else (s * 1e6, "us")
    return f"{value:.3g} {unit}"


def fmt_bytes(n: float) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


def step_times(results: dict, workload: str) -> dict:
    """Median step seconds per variant: the step-time axis, else the compile axis's."""
    axes = results.get("axes") or {}
    timed = ((axes.get("step_time") or {}).get("workloads") or {}).get(workload)
    if timed:
        return {v: t["median_s"] for v, t in timed["variants"].items() if t}
    compiled = ((axes.get("compile") or {}).get("workloads") or {}).get(workload) or {}
    return {v: t for v, t in (compiled.get("step_s") or {}).items() if t is not None}


def summarize(results: dict) -> list:
    """One row per workload: winner, speedup, break_even_steps, memory_ratio, sentence."""
    names = list(results.get("workloads") or {}) or list(results["settings"]["workloads"])
    return [_row(results, name) for name in names]


def _row(results: dict, name: str) -> dict:
    axes = results.get("axes") or {}
    steps = step_times(results, name)
    compiled = ((axes.get("compile") or {}).get("workloads") or {}).get(name) or {}
    memory = ((axes.get("memory") or {}).get("workloads") or {}).get(name) or {}
    curve = compiled.get("break_even") or {}
    row = {"workload": name, "winner": None, "speedup": None,
           "break_even_steps": curve.get("steps"),
           "memory_ratio": memory.get("ratio_dynamic_over_static")}
    parts = []
    if "static" in steps and "dynamic" in steps:
        s, d = steps["static"], steps["dynamic"]
        row["winner"] = "static" if s <= d else "dynamic"
        row["speedup"] = max(s, d) / min(s, d)
        parts.append(_speed_clause(row["winner"], row["speedup"], s, d))
        horizon = ((axes.get("compile") or {}).get("settings") or {}).get("horizon_steps")
        parts.append(_break_even_clause(row, compiled, curve, s, d, horizon))
    else:
        parts.append("step times of both static and dynamic were not measured")
    if row["memory_ratio"] is not None:
        parts.append(_memory_clause(row["memory_ratio"], memory))
    row["sentence"] = f"{name}: " + "; ".join(p for p in parts if p) + "."
    return row


def _speed_clause(winner: str, speedup: float, s: float, d: float) -> str:
    if speedup < SAME:
        return (f"static and dynamic take about the same time per step ({fmt_ratio(speedup)}: "
                f"{fmt_seconds(s)} vs {fmt_seconds(d)})")
    loser = "dynamic" if winner == "static" else "static"
    fast, slow = (s, d) if winner == "static" else (d, s)
    return (f"{winner} is {fmt_ratio(speedup)} faster than {loser} per step "
            f"({fmt_seconds(fast)} vs {fmt_seconds(slow)})")


def _break_even_clause(row: dict, compiled: dict, curve: dict, s: float, d: float,
                       horizon: int | None) -> str:
    first = compiled.get("first_call_s") or {}
    if "static" not in first:
        return ""
    fs, fd = first["static"], first.get("dynamic")
    if s >= d:
        if fd is not None and fs < fd:
            # NOTE: the compile axis's own step times, which its break-even also uses
            step = compiled.get("step_s") or {}
            k = break_even_steps(fd, step.get("dynamic", d), fs, step.get("static", s))
            later = (f"dynamic's total drops below static's after about {k} steps" if k
                     else "static stays ahead in total")
            return (f"static's first call is cheaper ({fmt_seconds(fs)} vs {fmt_seconds(fd)}), "
                    f"but {later}")
        return f"static's {fmt_seconds(fs)} first call never pays off"
    cost = f"static's first call takes {fmt_seconds(fs)}"
    measured = row["break_even_steps"]
    if measured == 1:
        versus = f" (dynamic's takes {fmt_seconds(fd)})" if fd is not None and fd > fs else ""
        return f"{cost}{versus} and static is ahead in total time from the first call"
    if measured is not None:
        return f"{cost} and pays off after {measured} steps"
    if not curve:
        return cost
    within = (f"within {horizon:,} steps" if horizon else
              f"within the {max(curve.get('curve_steps') or [0])} steps sampled")
    return f"{cost} and does not pay off {within}"


def memory_amounts(memory: dict) -> tuple[int, int] | None:
    """(dynamic's bytes, static's bytes) behind `ratio_dynamic_over_static`: dynamic's peak
    above its baseline plus the state the step starts from (static's arguments), against
    static's peak, as the memory axis defines the ratio; None when the stored ratio is not
    that quotient (then only the ratio is quoted, never numbers that disagree with it)."""
    static, dynamic = memory.get("static") or {}, memory.get("dynamic") or {}
    ratio = memory.get("ratio_dynamic_over_static")
    if ratio is None or not static.get("peak_bytes") or "peak_bytes" not in dynamic:
        return None
    amounts = dynamic["peak_bytes"] + static["argument_bytes"], static["peak_bytes"]
    return amounts if math.isclose(amounts[0] / amounts[1], ratio, rel_tol=1e-6) else None


def _memory_clause(ratio: float, memory: dict) -> str:
    amounts = memory_amounts(memory)
    shown = f" ({fmt_bytes(amounts[0])} vs {fmt_bytes(amounts[1])})" if amounts else ""
    if ratio >= SAME:
        return f"dynamic peaks at {fmt_ratio(ratio)} static's memory{shown}"
    if ratio <= 1 / SAME:
        return f"dynamic peaks at {fmt_ratio(ratio)} static's memory, less than static{shown}"
    return f"both peak at about the same memory (dynamic {fmt_ratio(ratio)} static){shown}"


def overall(results: dict) -> list:
    """Sentences that span workloads, each from the numbers it quotes."""
    lines = []
    for a, b, label in (("static", "jax", "the hand-written jax.jit twin (graphnet's overhead)"),
                        ("dynamic", "torch", "PyTorch eager"),
                        ("plan", "static", "static (the plan executor's cost)")):
        line = _ratio_line(results, a, b, label)
        if line:
            lines.append(line)
    lines += _shapes_lines(results) + _flexibility_lines(results)
    return lines


def _ratio_line(results: dict, a: str, b: str, label: str) -> str | None:
    ratios = {}
    for name in results.get("workloads") or {}:
        steps = step_times(results, name)
        if a in steps and b in steps:
            ratios[name] = steps[a] / steps[b]
    if not ratios:
        return None
    median = statistics.median(ratios.values())
    verdict = ("slower" if median >= SAME else "faster" if median <= 1 / SAME
               else "about as fast")
    count = f"{len(ratios)} workload{'s' if len(ratios) > 1 else ''}"
    spread = ""
    if len(ratios) > 1:
        lo, hi = min(ratios, key=ratios.get), max(ratios, key=ratios.get)
        spread = f", from {fmt_ratio(ratios[lo])} ({lo}) to {fmt_ratio(ratios[hi])} ({hi})"
    return (f"graphnet {a} against {label}: {a} takes {fmt_ratio(median)} the step time, "
            f"{verdict} (median over {count}{spread}).")


def _shapes_lines(results: dict) -> list:
    lines = []
    shapes = ((results.get("axes") or {}).get("shapes") or {}).get("workloads") or {}
    for name, w in shapes.items():
        p = w["policies"]
        if "static" not in p:
            continue
        distinct = len(set(w["lengths"]))
        text = (f"{name}, {len(w['lengths'])} calls with {distinct} distinct lengths: static "
                f"compiled {p['static']['compiles']} times ({fmt_seconds(p['static']['compile_s'])}"
                f" compiling, {fmt_seconds(p['static']['total_s'])} in all)")
        if "buckets" in p and w.get("buckets"):
            b = w["buckets"]
            text += (f"; padding to {len(b['boundaries'])} buckets compiled "
                     f"{p['buckets']['compiles']} times ({fmt_seconds(p['buckets']['total_s'])} "
                     f"in all) with {b['padding_waste']:.0%} of padded positions wasted")
        if "dynamic" in p:
            text += f"; dynamic took {fmt_seconds(p['dynamic']['total_s'])}"
        lines.append(text + ".")
    return lines


def _flexibility_lines(results: dict) -> list:
    flex = (results.get("axes") or {}).get("flexibility")
    if not flex:
        return []
    parts = []
    for mode in flex["modes"]:
        outcomes = [f["cells"][mode]["outcome"] for f in flex["features"]
                    if (f["cells"].get(mode) or {}).get("outcome")]
        counts = {o: outcomes.count(o) for o in ("runs", "recompiles", "refused", "differs")}
        shown = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
        parts.append(f"{mode}: {shown} (of {len(outcomes)})")
    return ["Flexibility, features per outcome: " + "; ".join(parts) + "."]
