"""A realistic `graphnet compare` results dict (schema graphnet-compare/1) for the report's
tests: five workloads, every axis, numbers of the size a 2-core CPU run gives. Built from a
few per-workload constants by the same arithmetic the axes use (totals = first call + steps,
compiles = distinct shapes), so the dict is self-consistent; nothing here is measured.

    >>> results = make_results(torch=False, drop_axes=("memory",))
"""

from __future__ import annotations

import math
import random

from graphnet.runtime.compare.conclusions import break_even_steps, summarize

# name: (description, step seconds per variant, first call static/dynamic, compile phases)
WORKLOADS = {
    "mlp": ("MLP 784-256-256-10, batch 128, SGD momentum",
            {"dynamic": 2.6e-3, "static": 0.55e-3, "plan": 0.9e-3, "jax": 0.52e-3,
             "torch": 0.8e-3}, (0.62, 0.24), (0.06, 0.03, 0.09, 0.38)),
    "lenet": ("LeNet-5 on 28x28, batch 64, SGD",
              {"dynamic": 9.1e-3, "static": 2.1e-3, "plan": 3.0e-3, "jax": 2.0e-3,
               "torch": 2.6e-3}, (1.15, 0.52), (0.11, 0.05, 0.16, 0.74)),
    "tiny": ("two 16-wide layers, batch 8: dispatch overhead dominates",
             {"dynamic": 0.92e-3, "static": 36e-6, "plan": 81e-6, "jax": 31e-6,
              "torch": 118e-6}, (0.27, 0.09), (0.02, 0.01, 0.04, 0.17)),
    "lstm-lm": ("LSTM language model, 2 layers of 128, sequence 32, batch 16",
             {"dynamic": 47e-3, "static": 1.7e-3, "plan": 4.1e-3, "jax": 1.6e-3,
              "torch": 6.3e-3}, (2.4, 0.95), (0.31, 0.12, 0.35, 1.5)),
    "transformer": ("Transformer encoder, 2 layers, d=128, 4 heads, AdamW",
                    {"dynamic": 13.1e-3, "static": 13.4e-3, "plan": 15.1e-3, "jax": 13.0e-3,
                     "torch": 11.2e-3}, (4.2, 1.1), (0.42, 0.2, 0.6, 2.8)),
}
MACHINE = {"summary": "x86_64, 2 cpus, Python 3.11.7, jax 0.4.35 on cpu, torch 2.5.1",
           "platform": "Linux-6.1-x86_64", "processor": "x86_64", "cpus": 2,
           "python": "3.11.7", "jax": "0.4.35", "jaxlib": "0.4.35", "graphnet": "0.1.0",
           "torch": "2.5.1", "backend": "cpu", "devices": ["TFRT_CPU_0"]}


def _timing(rng, median):
    samples = sorted(median * rng.uniform(0.93, 1.12) for _ in range(6)) + [median]
    samples = sorted(samples)
    return {"samples_s": samples, "median_s": samples[3], "min_s": samples[0],
            "max_s": samples[-1], "first_call_s": median * 300}


def _step_time(rng, names, variants):
    out = {}
    for name in names:
        timed = {v: _timing(rng, WORKLOADS[name][1][v]) for v in variants}
        med = {v: t["median_s"] for v, t in timed.items()}
        ratios = {f"{a}/{b}": med[a] / med[b] for a, b in
                  (("static", "jax"), ("static", "torch"), ("dynamic", "torch"),
                   ("dynamic", "static"), ("plan", "static")) if a in med and b in med}
        out[name] = {"variants": timed, "ratios": ratios}
    return {"settings": {"steps": 20, "rounds": 7}, "workloads": out}


def _compile(names, variants):
    out = {}
    for name in names:
        steps, (fs, fd), phases = WORKLOADS[name][1], WORKLOADS[name][2], WORKLOADS[name][3]
        exact = break_even_steps(fs, steps["static"], fd, steps["dynamic"])
        # sampled as the compile axis does: log-spaced up to 10x the break-even, else 1000
        end = 10 * exact if exact else 1000
        sampled = sorted({round(end ** (i / 19)) for i in range(20)}
                         | ({exact - 1, exact} if exact and exact > 1 else set()))
        out[name] = {
            "phases_s": dict(zip(("trace", "passes", "jax_lowering", "xla_compile"), phases)),
            "first_call_s": {v: (fs if v == "static" else fd if v == "dynamic" else fs * 0.8)
                             for v in variants},
            "step_s": {v: steps[v] for v in variants},
            "break_even": {"steps": exact, "curve_steps": sampled,
                           "static_total_s": [fs + (n - 1) * steps["static"] for n in sampled],
                           "dynamic_total_s": [fd + (n - 1) * steps["dynamic"] for n in sampled]},
            "cache": {"cold_first_call_s": {"static": fs * 1.05, "dynamic": fd * 1.1}
                      | ({"jax": fs * 0.9} if name == "mlp" else {}),
                      "warm_first_call_s": {"static": fs * 0.31, "dynamic": fd * 0.45}
                      | ({"jax": fs * 0.25} if name == "mlp" else {})}
            if name in ("mlp", "lenet") else None}
    return {"settings": {"horizon_steps": 10**6, "notes": [
        "first_call_s: the first call of a freshly built workload.",
        "break_even.steps: the first n from which static's total stays below dynamic's."]},
        "workloads": out}


def _scaling(variants):
    curves = []
    # per variant: (fixed seconds per step, seconds per unit of work)
    cost = {"dynamic": (2.2e-3, 1.1e-6), "static": (60e-6, 0.9e-6), "jax": (50e-6, 0.9e-6),
            "torch": (250e-6, 0.85e-6)}
    for name, axis, values, unit in (("mlp", "batch", [1, 8, 64, 256], 250),
                                     ("mlp", "width", [64, 256, 1024], 40),
                                     ("convnet", "batch", [1, 16, 128], 700),
                                     ("convnet", "width", [1, 2, 4], 9000)):
        curves.append({"workload": name, "axis": axis, "values": values, "variants": {
            v: [cost[v][0] + cost[v][1] * unit * x for x in values] for v in variants
            if v in cost}})
    return {"settings": {"steps": 5, "rounds": 3}, "curves": curves}


# name: (argument MiB, temporaries MiB, dynamic peak / static peak)
MEMORY = {"mlp": (2.1, 1.3, 1.9), "lenet": (0.5, 3.2, 2.4), "tiny": (0.004, 0.002, 1.3),
          "lstm-lm": (4.5, 6.0, 3.1), "transformer": (9.2, 14.0, 0.8)}


def _memory(names):
    out = {}
    for name in names:
        arg_mib, temp_mib, ratio = MEMORY[name]
        arg, tmp = int(arg_mib * 2**20), int(temp_mib * 2**20)
        static = {"argument_bytes": arg, "output_bytes": arg // 2, "temp_bytes": tmp,
                  "alias_bytes": arg // 2, "plan_estimate_bytes": int((arg + tmp) * 1.08)}
        static["peak_bytes"] = arg + arg // 2 + tmp - arg // 2
        # as the memory axis: dynamic's peak is counted above its baseline (the state, and
        # other variants' arrays); the ratio adds static's arguments back
        dynamic = {"peak_bytes": int(static["peak_bytes"] * ratio) - arg,
                   "baseline_bytes": 3 * arg}
        out[name] = {"static": static, "dynamic": dynamic, "device": None,
                     "ratio_dynamic_over_static":
                     (dynamic["peak_bytes"] + arg) / static["peak_bytes"]}
    return {"workloads": out}


def _shapes(rng, names):
    out = {}
    boundaries = [16, 32, 64, 128]
    for name in [n for n in names if n in ("lstm-lm", "transformer")]:
        lengths = [min(128, max(4, int(rng.lognormvariate(math.log(28), 0.6))))
                   for _ in range(60)]
        per_len = 2e-5 if name == "lstm-lm" else 5e-6
        policies, seen = {}, {"static": set(), "buckets": set()}
        for policy in ("dynamic", "static", "buckets"):
            calls, compile_calls = [], []
            for i, n in enumerate(lengths):
                padded = next(b for b in boundaries if b >= n) if policy == "buckets" else n
                t = per_len * padded * (40 if policy == "dynamic" else 1)
                if policy != "dynamic" and padded not in seen[policy]:
                    seen[policy].add(padded)
                    compile_calls.append(i)
                    t += 0.6 + 0.004 * padded
                calls.append(t * rng.uniform(0.95, 1.05))
            compile_s = sum(calls[i] for i in compile_calls)
            policies[policy] = {"per_call_s": calls, "total_s": sum(calls),
                                "compiles": len(compile_calls), "compile_s": compile_s,
                                "compile_calls": compile_calls}
        padded_total = sum(next(b for b in boundaries if b >= n) for n in lengths)
        out[name] = {"lengths": lengths, "policies": policies, "buckets": {
            "boundaries": boundaries, "padding_waste": 1 - sum(lengths) / padded_total}}
    return {"settings": {"distribution": "lognormal(median 28, sigma 0.6), clipped to 4..128",
                         "calls": 60, "buckets": 4}, "workloads": out}


FEATURES = [  # name, description, (dynamic, static, plan) outcomes
    ("value_if", "Python `if` on a computed value", ("runs", "recompiles", "recompiles")),
    ("cond", "the same with graphnet.cond / while_loop", ("runs", "runs", "runs")),
    ("masking", "boolean masking x[x > 0] (data-dependent shape)",
     ("runs", "refused", "refused")),
    ("side_effects", "print, list.append, a counter", ("runs", "runs", "runs")),
    ("item", "`.item()` inside the step", ("runs", "refused", "refused")),
    ("inplace", "in-place updates (x.add_(1))", ("runs", "runs", "runs")),
    ("model_change", "changing the model between calls", ("runs", "recompiles", "recompiles")),
    ("shapes", "varying input shapes", ("runs", "recompiles", "recompiles")),
    ("inspect", "inspecting an intermediate value", ("runs", "refused", "refused")),
]


def _flexibility():
    features = []
    for name, description, outcomes in FEATURES:
        cells = {}
        for mode, outcome in zip(("dynamic", "static", "plan"), outcomes):
            cells[mode] = {"outcome": outcome, "detail": {
                "runs": "same result as plain Python", "recompiles": "3 calls, 3 compiles",
                "refused": "GraphBreakError: a value read on the host while tracing"}[outcome],
                "remedy": "use graphnet.cond or torch.where" if outcome == "refused" else None,
                "compiles": {"runs": 1, "recompiles": 3, "refused": 0}[outcome]
                if mode != "dynamic" else None}
        features.append({"name": name, "description": description, "cells": cells})
    return {"modes": ["dynamic", "static", "plan"], "features": features}


def _numerics(names, variants):
    return {"settings": {"steps": 10}, "workloads": {
        n: {"max_abs_diff": {v: 3e-7 * (i + 1) * (j + 1) for j, v in enumerate(variants)
                             if v != "dynamic"}} for i, n in enumerate(names)}}


def make_results(torch: bool = True, drop_axes: tuple = (), workloads=None, seed: int = 0):
    """The whole results dict; `drop_axes` leaves axes out as an unselected axis would."""
    rng = random.Random(seed)
    names = list(workloads or WORKLOADS)
    variants = ["dynamic", "static", "plan", "jax"] + (["torch"] if torch else [])
    machine = dict(MACHINE, torch="2.5.1" if torch else None)
    if not torch:
        machine["summary"] = machine["summary"].replace(", torch 2.5.1", "")
    axes = {"step_time": _step_time(rng, names, variants), "compile": _compile(names, variants),
            "scaling": _scaling(variants), "memory": _memory(names),
            "shapes": _shapes(rng, names), "flexibility": _flexibility(),
            "numerics": _numerics(names, variants)}
    axes = {k: dict(v, seconds=12.5) for k, v in axes.items() if k not in drop_axes}
    results = {
        "schema": "graphnet-compare/1", "created": "2026-12-01T11:00:00+00:00",
        "machine": machine,
        "settings": {"preset": "default", "workloads": names, "axes": list(axes),
                     "torch": torch, "torch_compile": False, "seed": seed},
        "workloads": {n: {"description": WORKLOADS[n][0], "variants": variants} for n in names},
        "axes": axes}
    results["summary"] = summarize(results)
    return results
