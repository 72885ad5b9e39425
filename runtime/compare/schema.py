"""`validate(results)`: does a results dict follow schema graphnet-compare/1 (docs/compare.md)?

A small hand-written checker, no dependency: the schema is written below as nested Python
values (a dict is an object whose keys are checked, `"key?"` marks a key that may be absent
or null, `MapOf` an object keyed by workload or variant names, `ListOf` an array), and one
recursive function walks it. The first mismatch raises ValueError naming the key path
(`results.axes.compile.workloads.mlp.break_even.steps`), what was expected and what was found.
Axes not listed here are allowed and left unchecked, so a new axis never breaks old readers.

    >>> validate({"schema": "graphnet-compare/1", ...})   # returns None or raises ValueError
"""

from __future__ import annotations

import math

SCHEMA = "graphnet-compare/1"


class ListOf:
    def __init__(self, item):
        self.item = item


class MapOf:
    def __init__(self, value):
        self.value = value


class OneOf:
    def __init__(self, *choices):
        self.choices = choices


NUM, INT, STR, BOOL = "number", "integer", "string", "boolean"
ANY_DICT = "object"
OUTCOMES = ("runs", "recompiles", "refused", "differs")

_TIMING = {"samples_s": ListOf(NUM), "median_s": NUM, "min_s": NUM, "max_s": NUM,
           "first_call_s?": NUM}
_BREAK_EVEN = {"steps?": INT, "curve_steps": ListOf(INT), "static_total_s": ListOf(NUM),
               "dynamic_total_s": ListOf(NUM)}
_CACHE = {"cold_first_call_s": MapOf(NUM), "warm_first_call_s": MapOf(NUM)}
_POLICY = {"per_call_s": ListOf(NUM), "total_s": NUM, "compiles": INT, "compile_s": NUM,
           "compile_calls?": ListOf(INT)}
_CELL = {"outcome": OneOf(*OUTCOMES), "detail": STR, "remedy?": STR, "compiles?": INT}

AXES = {
    "step_time": {"settings?": ANY_DICT, "workloads": MapOf({
        "variants": MapOf(_TIMING), "ratios?": MapOf(NUM)})},
    "compile": {"settings?": ANY_DICT, "workloads": MapOf({
        "phases_s?": MapOf(NUM), "first_call_s": MapOf(NUM), "step_s": MapOf(NUM),
        "break_even?": _BREAK_EVEN, "cache?": _CACHE})},
    "scaling": {"settings?": ANY_DICT, "curves": ListOf({
        "workload": STR, "axis": STR, "values": ListOf(NUM), "variants": MapOf(ListOf(NUM))})},
    "memory": {"workloads": MapOf({
        "static?": {"argument_bytes": INT, "output_bytes": INT, "temp_bytes": INT,
                    "alias_bytes": INT, "peak_bytes": INT, "plan_estimate_bytes?": INT},
        "dynamic?": {"peak_bytes": INT, "baseline_bytes": INT},
        "device?": {"static_peak_bytes": INT, "dynamic_peak_bytes": INT},
        "ratio_dynamic_over_static?": NUM})},
    "shapes": {"settings?": ANY_DICT, "workloads": MapOf({
        "lengths": ListOf(INT), "policies": MapOf(_POLICY),
        "buckets?": {"boundaries": ListOf(INT), "padding_waste": NUM}})},
    "flexibility": {"modes": ListOf(STR), "features": ListOf({
        "name": STR, "description": STR, "cells": MapOf(_CELL)})},
    "numerics": {"settings?": ANY_DICT, "workloads": MapOf({"max_abs_diff": MapOf(NUM)})},
}

TOP = {
    "schema": STR, "created": STR,
    "machine": {"summary": STR, "platform": STR, "processor": STR, "cpus": INT, "python": STR,
                "jax": STR, "jaxlib": STR, "graphnet": STR, "torch?": STR, "backend": STR,
                "devices": ListOf(STR)},
    "settings": {"preset": OneOf("quick", "default", "full"), "workloads": ListOf(STR),
                 "axes": ListOf(STR), "torch": BOOL, "torch_compile": BOOL, "seed": INT},
    "workloads": MapOf({"description": STR, "variants": ListOf(STR)}),
    "axes": {f"{name}?": spec for name, spec in AXES.items()},
    "summary?": ListOf({"workload": STR, "winner?": STR, "speedup?": NUM,
                        "break_even_steps?": INT, "memory_ratio?": NUM, "sentence": STR}),
}


def validate(results: dict) -> None:
    """Raise ValueError naming the first key path that does not follow graphnet-compare/1."""
    _check(results, TOP, "results")
    if results["schema"] != SCHEMA:
        raise ValueError(f"results.schema: expected {SCHEMA!r}, got {results['schema']!r} "
                         "(written by another version of graphnet compare)")
    _check_lengths(results.get("axes") or {})


def _fail(path: str, expected: str, value) -> None:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise ValueError(f"{path}: expected {expected}, got {type(value).__name__} {shown}")


def _check(value, spec, path: str) -> None:
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            _fail(path, "an object", value)
        for key, sub in spec.items():
            name, optional = key.rstrip("?"), key.endswith("?")
            if value.get(name) is None:
                if not optional:
                    raise ValueError(f"{path}.{name}: missing (a required key)")
                continue
            _check(value[name], sub, f"{path}.{name}")
    elif isinstance(spec, MapOf):
        if not isinstance(value, dict):
            _fail(path, "an object keyed by name", value)
        for key, item in value.items():
            if item is not None:
                _check(item, spec.value, f"{path}.{key}")
    elif isinstance(spec, ListOf):
        if not isinstance(value, list):
            _fail(path, "a list", value)
        for i, item in enumerate(value):
            _check(item, spec.item, f"{path}[{i}]")
    elif isinstance(spec, OneOf):
        if value not in spec.choices:
            _fail(path, "one of " + ", ".join(map(repr, spec.choices)), value)
    else:
        _check_leaf(value, spec, path)


def _check_leaf(value, kind: str, path: str) -> None:
    if kind == ANY_DICT:
        ok = isinstance(value, dict)
    elif kind == STR:
        ok = isinstance(value, str)
    elif kind == BOOL:
        ok = isinstance(value, bool)
    elif kind == INT:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:  # NUM: JSON has no int/float distinction worth enforcing; bools are not numbers
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and not math.isfinite(value):
            _fail(path, "a finite number", value)
    if not ok:
        _fail(path, f"a{'n' if kind[0] in 'aeiou' else ''} {kind}", value)


def _check_lengths(axes: dict) -> None:
    """Arrays plotted against each other must have one entry per point."""
    def same(path, n, values, what):
        if len(values) != n:
            raise ValueError(f"{path}: {len(values)} {what}, expected {n} (one per point)")

    for name, w in ((axes.get("compile") or {}).get("workloads") or {}).items():
        curve = w.get("break_even")
        if curve:
            base = f"results.axes.compile.workloads.{name}.break_even"
            for key in ("static_total_s", "dynamic_total_s"):
                same(f"{base}.{key}", len(curve["curve_steps"]), curve[key], "values")
    for i, curve in enumerate((axes.get("scaling") or {}).get("curves") or []):
        for variant, values in curve["variants"].items():
            same(f"results.axes.scaling.curves[{i}].variants.{variant}", len(curve["values"]),
                 values, "step times")
    for name, w in ((axes.get("shapes") or {}).get("workloads") or {}).items():
        for policy, p in w["policies"].items():
            same(f"results.axes.shapes.workloads.{name}.policies.{policy}.per_call_s",
                 len(w["lengths"]), p["per_call_s"], "call times")
