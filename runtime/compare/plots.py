"""The report's figures, drawn with matplotlib's object API onto Agg canvases.

Each `*_plots(results)` returns `Plot`s (a file name, a caption and the PNG bytes) for one
axis of docs/compare.md, or [] when that axis did not run. Figures are `Figure` objects, never
pyplot's: nothing global is created or left behind, and the style is applied inside
`matplotlib.rc_context`, which restores the caller's settings. Every figure carries a title,
axis labels with units, a legend outside the data and the machine's summary line; PNGs are
written without a timestamp, so the same results give the same bytes.

    >>> [p.filename for p in step_time_plots(results)]
    ['step_time.png']
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from dataclasses import dataclass

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

STYLE = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
         "xtick.labelsize": 9, "ytick.labelsize": 9, "figure.titlesize": 12,
         "axes.grid": True, "grid.alpha": 0.3, "axes.axisbelow": True,
         "axes.spines.top": False, "axes.spines.right": False}
DPI = 120
# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies
COLORS = {"dynamic": "#D55E00", "static": "#0072B2", "plan": "#56B4E9", "jax": "#009E73",
          "torch": "#CC79A7", "torch.compile": "#E69F00", "buckets": "#009E73"}
LABELS = {"dynamic": "graphnet dynamic", "static": "graphnet static", "plan": "graphnet plan",
          "jax": "jax.jit twin", "torch": "PyTorch eager", "torch.compile": "torch.compile",
          "buckets": "static, padded to buckets"}
PHASES = {"trace": ("tracing", "#0072B2"), "passes": ("graphnet passes", "#56B4E9"),
          "jax_lowering": ("JAX lowering", "#E69F00"), "xla_compile": ("XLA compile", "#D55E00")}


@dataclass
class Plot:
    filename: str
    caption: str
    png: bytes


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def time_unit(seconds: list) -> tuple[float, str]:
    """(scale, unit) so that the largest of `seconds` reads as a plain number."""
    top = max(seconds, default=1.0)
    return (1.0, "s") if top >= 1 else (1e3, "ms") if top >= 1e-3 else (1e6, "us")


def _figure(results: dict, title: str, size=(7.0, 4.0)) -> Figure:
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    # NOTE: constrained layout makes room for the supxlabel (the machine line, under every
    # panel's labels) and for a legend placed "outside upper center", but it stacks neither
    # with a suptitle; so the title is the legend's own title, above its entries (_legend).
    machine = "\n".join(textwrap.wrap(results["machine"]["summary"], 110))
    fig.supxlabel(machine, x=0.01, ha="left", fontsize=9, color="#555555")
    fig.graphnet_title = title
    return fig


def _legend(fig: Figure, handles=None, labels=None, entries: int = 0) -> None:
    """The figure's legend above the panels, headed by the figure's title."""
    if handles is None:
        handles, labels = fig.axes[0].get_legend_handles_labels()
    entries = entries or len(labels)
    fig.legend(handles, labels, loc="outside upper center", ncols=entries if entries <= 4 else 3,
               frameon=False, title=fig.graphnet_title,
               title_fontproperties={"weight": "bold", "size": 12})


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


class PlainLog(Formatter):
    """Plain numbers (0.3, 20, 1000) on a log axis instead of 3x10^-1. Minor ticks are
    labelled when the axis spans at most two decades (with more they crowd the major labels):
    at 2 and 5 times a power of ten, also 3 within one decade, every one within 3x."""

    def __init__(self, minor: bool = False):
        self.minor = minor

    def __call__(self, value, pos=None) -> str:
        if self.minor:
            lo, hi = self.axis.get_view_interval()
            mantissa = round(value / 10 ** math.floor(math.log10(value)), 6)
            span = hi / lo if lo > 0 else math.inf
            labelled = (range(2, 10) if span <= 3 else (2, 3, 5) if span <= 12 else (2, 5))
            if span > 100 or mantissa not in labelled:
                return ""
        return f"{value:g}"


def _log(ax, which: str = "y") -> None:
    for name in which:
        axis = getattr(ax, f"{name}axis")
        getattr(ax, f"set_{name}scale")("log")
        axis.set_major_formatter(PlainLog())
        axis.set_minor_formatter(PlainLog(minor=True))


def _axis(results: dict, name: str) -> dict:
    return (results.get("axes") or {}).get(name) or {}


def step_time_plots(results: dict) -> list:
    timed = _axis(results, "step_time").get("workloads") or {}
    if not timed:
        return []
    names = list(timed)
    variants = [v for v in LABELS if any(v in timed[n]["variants"] for n in names)]
    all_s = [timed[n]["variants"][v]["median_s"] for n in names for v in variants
             if timed[n]["variants"].get(v)]
    if not all_s:
        return []
    scale, unit = time_unit(all_s)
    with matplotlib.rc_context(STYLE):
        fig = _figure(results, "Median step time per mode (error bars: min-max over rounds)")
        ax = fig.add_subplot()
        width = 0.8 / len(variants)
        for i, v in enumerate(variants):
            xs, ys, lo, hi = [], [], [], []
            for j, n in enumerate(names):
                t = timed[n]["variants"].get(v)
                if t:
                    xs.append(j - 0.4 + width * (i + 0.5))
                    ys.append(t["median_s"] * scale)
                    lo.append((t["median_s"] - t["min_s"]) * scale)
                    hi.append((t["max_s"] - t["median_s"]) * scale)
            ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, color=COLORS[v], label=LABELS[v],
                   error_kw={"elinewidth": 0.8, "ecolor": "#333333"})
        if min(all_s) > 0 and max(all_s) / min(all_s) > 20:
            _log(ax)
        ax.set_xticks(range(len(names)), names)
        ax.set_ylabel(f"step time ({unit}{', log scale' if ax.get_yscale() == 'log' else ''})")
        _legend(fig)
        return [Plot("step_time.png", "Median step time of each mode on each workload; the "
                     "error bars span the fastest and slowest round.",
                     _png(fig))]


def break_even_plots(results: dict) -> list:
    plots = []
    for name, w in (_axis(results, "compile").get("workloads") or {}).items():
        curve = w.get("break_even")
        if not curve or not curve["curve_steps"]:
            continue
        steps = curve["curve_steps"]
        with matplotlib.rc_context(STYLE):
            fig = _figure(results, f"{name}: total time of n training steps, first call included")
            ax = fig.add_subplot()
            for v, key in (("dynamic", "dynamic_total_s"), ("static", "static_total_s")):
                ax.plot(steps, curve[key], marker="o", ms=3, color=COLORS[v], label=LABELS[v])
            ahead = [s < d for s, d in zip(curve["static_total_s"], curve["dynamic_total_s"])]
            if any(ahead):
                ax.fill_between(steps, curve["static_total_s"], curve["dynamic_total_s"],
                                where=ahead, color=COLORS["static"], alpha=0.12,
                                interpolate=True, label="static ahead")
            _log(ax, "xy")
            # NOTE: the break-even goes in the legend, above the panel: inside it, a label
            # would sit on a curve for some crossing or other
            n = curve.get("steps")
            if n is not None:
                ax.axvline(n, color="#333333", ls="--", lw=1,
                           label=f"break-even: {n} step{'s' if n != 1 else ''}")
                text = f"static's total drops below dynamic's at step {n}."
            else:
                ax.plot([], [], ls="none", label=f"no break-even within {steps[-1]} steps")
                text = f"static's total stays above dynamic's for all {steps[-1]} steps sampled."
            ax.set_xlabel("training steps n (log scale)")
            ax.set_ylabel("total seconds (s, log scale)")
            _legend(fig, entries=2)
            plots.append(Plot(f"break_even_{safe_name(name)}.png",
                              f"{name}: cumulative time against steps; {text}", _png(fig)))
    return plots


def compile_plots(results: dict) -> list:
    workloads = _axis(results, "compile").get("workloads") or {}
    plots = []
    phased = {n: w["phases_s"] for n, w in workloads.items() if w.get("phases_s")}
    if phased:
        with matplotlib.rc_context(STYLE):
            fig = _figure(results, "Where static's compile time goes (share of the phases' total)",
                          size=(7.0, 1.6 + 0.45 * len(phased)))
            ax = fig.add_subplot()
            names = list(phased)[::-1]
            left = [0.0] * len(names)
            for key, (label, color) in PHASES.items():
                totals = [sum(phased[n].values()) or 1.0 for n in names]
                shares = [100 * phased[n].get(key, 0.0) / t for n, t in zip(names, totals)]
                bars = ax.barh(names, shares, left=left, color=color, label=label)
                ax.bar_label(bars, [f"{s:.0f}%" if s >= 8 else "" for s in shares],
                             label_type="center", fontsize=9,
                             color="black" if key in ("passes", "jax_lowering") else "white")
                left = [a + b for a, b in zip(left, shares)]
            ax.set_yticks(range(len(names)), [_phase_tick(n, phased[n]) for n in names])
            ax.set_xlim(0, 100)
            ax.set_xlabel("share of trace + passes + lowering + XLA compile (%)")
            ax.grid(axis="y", visible=False)
            _legend(fig)
            plots.append(Plot("compile_phases.png", "Static mode's compile work split into "
                              "tracing, graphnet's passes, JAX lowering and XLA compile; beside "
                              "each name, the four phases' seconds together and graphnet's own "
                              "share (tracing + passes).", _png(fig)))
    cached = {n: w["cache"] for n, w in workloads.items() if w.get("cache")}
    if cached:
        plots.append(_cache_plot(results, cached))
    return plots


def _phase_tick(name: str, phases: dict) -> str:
    total = sum(phases.values())
    graphnet = phases.get("trace", 0.0) + phases.get("passes", 0.0)
    share = f"{100 * graphnet / total:.1f}" if total else "0"
    return f"{name} ({_secs(total)})\ngraphnet {share}%"


def _secs(s: float) -> str:
    return f"{s:.2f} s" if s >= 0.1 else f"{s * 1e3:.0f} ms"


def _cache_plot(results: dict, cached: dict) -> Plot:
    names = list(cached)
    bars = [(v, temp) for v in ("static", "dynamic", "jax")
            if any(v in cached[n]["cold_first_call_s"] for n in names)
            for temp in ("cold", "warm")]
    values = [cached[n][f"{t}_first_call_s"].get(v) for n in names for v, t in bars]
    scale, unit = time_unit([x for x in values if x is not None])
    with matplotlib.rc_context(STYLE):
        fig = _figure(results, "First call with a cold and a warm JAX compilation cache")
        ax = fig.add_subplot()
        width = 0.8 / len(bars)
        for i, (v, temp) in enumerate(bars):
            xs = [j - 0.4 + width * (i + 0.5) for j in range(len(names))]
            ys = [(cached[n][f"{temp}_first_call_s"].get(v) or 0) * scale for n in names]
            ax.bar(xs, ys, width, color=COLORS[v], alpha=1.0 if temp == "cold" else 0.45,
                   hatch="" if temp == "cold" else "//", edgecolor="white",
                   label=f"{LABELS[v]}, {temp} cache")
        ax.set_xticks(range(len(names)), names)
        shown = [x for x in values if x]
        if shown and max(shown) / min(shown) > 30:
            _log(ax)
        ax.set_ylabel(f"first call ({unit}{', log scale' if ax.get_yscale() == 'log' else ''})")
        _legend(fig, entries=2)
        return Plot("compile_cache.png", "The same first call in a fresh process with an "
                    "empty persistent compilation cache (cold) and again with the filled cache "
                    "(warm).", _png(fig))


def plots_by_axis(results: dict) -> dict:
    """axis name -> its Plots, in the order the report shows them."""
    from .plots_sizes import memory_plots, scaling_plots, shapes_plots

    return {"step_time": step_time_plots(results),
            "compile": compile_plots(results) + break_even_plots(results),
            "scaling": scaling_plots(results), "memory": memory_plots(results),
            "shapes": shapes_plots(results)}
