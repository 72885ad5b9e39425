"""The report's figures about sizes: step time against batch size and model width (scaling),
bytes per training step (memory), and a stream of varying sequence lengths (shapes).
Same conventions as plots.py: object API only, style in `rc_context`, machine on each figure.
"""

from __future__ import annotations

import math

import matplotlib
from matplotlib.ticker import MaxNLocator
from .conclusions import fmt_ratio
from .plots import (COLORS, LABELS, STYLE, Plot, _axis, _figure, _legend, _log, _png,
                    safe_name, time_unit)

AXIS_LABELS = {"batch": "batch size", "width": "model width"}


def scaling_plots(results: dict) -> list:
    plots = []
    for curve in _axis(results, "scaling").get("curves") or []:
        name, axis, values = curve["workload"], curve["axis"], curve["values"]
        variants = [v for v in LABELS if v in curve["variants"]]
        scale, unit = time_unit([t for v in variants for t in curve["variants"][v]])
        xlabel = f"{AXIS_LABELS.get(axis, axis)} (log scale)"
        with matplotlib.rc_context(STYLE):
            fig = _figure(results, f"{name}: step time against {AXIS_LABELS.get(axis, axis)}")
            left, right = fig.subplots(1, 2, width_ratios=(3, 2))
            for v in variants:
                left.plot(values, [t * scale for t in curve["variants"][v]], marker="o", ms=4,
                          color=COLORS[v], label=LABELS[v])
            _log(left, "xy")
            left.set(xlabel=xlabel, ylabel=f"median step time ({unit}, log scale)")
            if "static" in curve["variants"]:
                base = curve["variants"]["static"]
                ratios = [1.0]
                for v in [v for v in variants if v != "static"]:
                    ratio = [t / b for t, b in zip(curve["variants"][v], base)]
                    right.plot(values, ratio, marker="o", ms=4, color=COLORS[v])
                    ratios += ratio
                right.axhline(1, color=COLORS["static"], lw=1.2)
                # NOTE: a log axis only pays when the ratios span a wide range; within 4x it
                # would show a single labelled tick
                wide = max(ratios) / min(ratios) > 4
                _log(right, "xy" if wide else "x")
                right.set(xlabel=xlabel, ylabel="step time / static's (x"
                          + (", log scale)" if wide else ")"))
                right.set_title("relative to graphnet static", fontsize=10)
            else:
                right.set_axis_off()
            for ax in (left, right):
                ax.set_xticks(values, [f"{v:g}" for v in values])
                ax.set_xticks([], minor=True)
            _legend(fig)
            plots.append(Plot(f"scaling_{safe_name(name)}_{safe_name(axis)}.png",
                              f"{name}: median step time as the {AXIS_LABELS.get(axis, axis)} "
                              "grows (left), and each mode's time over static's (right).",
                              _png(fig)))
    return plots


MEMORY_BARS = {"argument_bytes": ("static: arguments", "#0072B2"),
               "output_bytes": ("static: outputs", "#56B4E9"),
               "temp_bytes": ("static: temporaries", "#E69F00"),
               "plan_estimate_bytes": ("plan estimate", "#009E73"),
               "dynamic": ("dynamic: added at its peak", "#D55E00")}


def memory_plots(results: dict) -> list:
    workloads = {n: w for n, w in (_axis(results, "memory").get("workloads") or {}).items()
                 if w.get("static") or w.get("dynamic")}
    if not workloads:
        return []
    cols = min(len(workloads), 3)
    rows = math.ceil(len(workloads) / cols)
    with matplotlib.rc_context(STYLE):
        fig = _figure(results, "Peak memory of one training step",
                      size=(7.5, 0.9 + 2.6 * rows))
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax, (name, w) in zip(axes, workloads.items()):
            _memory_panel(ax, name, w)
        for ax in axes[len(workloads):]:
            ax.set_axis_off()
        handles = {}
        for ax in axes:
            for h, label in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(label, h)
        order = [label for label, _ in MEMORY_BARS.values()]
        order[3:3] = ["static peak (XLA)"]
        order[-1:-1] = ["dynamic: starting state"]
        labels = sorted(handles, key=order.index)
        _legend(fig, [handles[label] for label in labels], labels)
        return [Plot("memory.png", "Per workload: XLA's memory analysis of the static step "
                     "(arguments, outputs and temporaries stacked; the black line is the peak "
                     "after donated buffers are reused), graphnet's plan estimate, and "
                     "dynamic mode's measured peak: what the step added above the state it "
                     "started from (drawn under it, the size of static's arguments). Each "
                     "panel has its own scale.", _png(fig))]


def _memory_panel(ax, name: str, w: dict) -> None:
    static, dynamic = w.get("static") or {}, w.get("dynamic") or {}
    sizes = [sum(static.get(k, 0) for k in ("argument_bytes", "output_bytes", "temp_bytes")),
             static.get("plan_estimate_bytes") or 0,
             dynamic.get("peak_bytes", 0) + static.get("argument_bytes", 0)]
    div, unit = (2**20, "MiB") if max(sizes) >= 2**20 else (2**10, "KiB")
    bottom = 0.0
    for key in ("argument_bytes", "output_bytes", "temp_bytes"):
        if key in static:
            label, color = MEMORY_BARS[key]
            ax.bar(0, static[key] / div, 0.6, bottom=bottom, color=color, label=label)
            bottom += static[key] / div
    if "peak_bytes" in static:
        ax.hlines(static["peak_bytes"] / div, -0.35, 0.35, color="black", lw=2,
                  label="static peak (XLA)")
    if static.get("plan_estimate_bytes"):
        label, color = MEMORY_BARS["plan_estimate_bytes"]
        ax.bar(1, static["plan_estimate_bytes"] / div, 0.6, color=color, label=label)
    if "peak_bytes" in dynamic:
        # NOTE: dynamic's peak is counted above its baseline; the state the step starts from
        # (static's arguments) goes under it, as in the axis's ratio, so the bars compare
        start = static.get("argument_bytes", 0) / div
        if start:
            ax.bar(2, start, 0.6, color=MEMORY_BARS["argument_bytes"][1], alpha=0.45,
                   hatch="//", edgecolor="white", label="dynamic: starting state")
        label, color = MEMORY_BARS["dynamic"]
        ax.bar(2, dynamic["peak_bytes"] / div, 0.6, bottom=start, color=color, label=label)
    ax.set_xticks([0, 1, 2], ["static\n(XLA)", "plan", "dynamic"])
    ax.set_ylabel(unit)
    ratio = w.get("ratio_dynamic_over_static")
    ax.set_title(name + (f"\ndynamic/static {fmt_ratio(ratio)}" if ratio is not None else ""),
                 fontsize=10)
    ax.margins(y=0.12)


def shapes_plots(results: dict) -> list:
    plots = []
    shapes = _axis(results, "shapes")
    for name, w in (shapes.get("workloads") or {}).items():
        policies = {p: w["policies"][p] for p in ("dynamic", "static", "buckets")
                    if p in w["policies"]}
        with matplotlib.rc_context(STYLE):
            fig = _figure(results, f"{name}: a stream of {len(w['lengths'])} calls with "
                          "varying sequence length", size=(7.5, 6.0))
            grid = fig.add_gridspec(2, 2, height_ratios=(1.1, 1))
            timeline = fig.add_subplot(grid[0, :])
            cumulative, lengths = fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])
            calls = range(len(w["lengths"]))
            for p, data in policies.items():
                timeline.plot(calls, data["per_call_s"], color=COLORS[p], lw=0.6, alpha=0.5)
                timeline.plot(calls, data["per_call_s"], color=COLORS[p], ls="none", marker=".",
                              ms=5, label=f"{LABELS[p]}: {data['compiles']} compiles")
                marked = data.get("compile_calls") or []
                timeline.plot(marked, [data["per_call_s"][i] for i in marked], ls="none",
                              marker="o", ms=5, mfc="none", color=COLORS[p])
                running, total = [], 0.0
                for t in data["per_call_s"]:
                    total += t
                    running.append(total)
                cumulative.plot(calls, running, color=COLORS[p], lw=1.5)
            _log(timeline)
            timeline.set(xlabel="call index", ylabel="seconds per call (s, log scale)")
            if any(d.get("compile_calls") for d in policies.values()):
                timeline.plot([], [], ls="none", marker="o", mfc="none", color="#333333",
                              label="call that compiled")
            cumulative.set(xlabel="call index", ylabel="cumulative seconds (s)")
            cumulative.set_title("total time so far", fontsize=10)
            _lengths_panel(lengths, w)
            _legend(fig, *timeline.get_legend_handles_labels(), entries=2)
            plots.append(Plot(f"shapes_{safe_name(name)}.png",
                              f"{name}: seconds per call for each policy (top), the running "
                              "total (bottom left), and the lengths drawn with the proposed "
                              "bucket boundaries (bottom right). "
                              f"Lengths: {shapes.get('settings', {}).get('distribution', '')}",
                              _png(fig)))
    return plots


def _lengths_panel(ax, w: dict) -> None:
    lengths = w["lengths"]
    lo, hi = min(lengths), max(lengths)
    width = max(1, math.ceil((hi - lo + 1) / 40))   # whole positions per bin, at most ~40 bins
    ax.hist(lengths, bins=[lo - 0.5 + width * i for i in range((hi - lo) // width + 2)],
            color="#999999", edgecolor="white")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="sequence length (positions)", ylabel="calls")
    buckets = w.get("buckets")
    if buckets:
        for b in buckets["boundaries"]:
            ax.axvline(b, color=COLORS["buckets"], ls="--", lw=1)
        ax.set_title(f"lengths; dashed: buckets ({buckets['padding_waste']:.0%} padding)",
                     fontsize=10)
    else:
        ax.set_title("lengths", fontsize=10)
