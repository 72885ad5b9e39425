"""The flexibility axis of `graphnet compare`: which program features each mode can run.

A feature is a small program (`Feature.program(wrap) -> observations`) that builds its own
model and state, wraps its step with `wrap`, calls it a few times with inputs that exercise
the feature (a branch that flips, a layer replaced between calls) and returns what a user
could look at afterwards: the results, a list it appended to, a counter, buffers. Every cell
of the matrix comes from running that program: once as plain Python (the reference: `wrap`
leaves the step alone), then once per mode (`wrap` is `graphnet.compile(step, mode=...)`),
and comparing the two, printed lines included. Outcomes:

- "runs": same observations, and no call after the warm-up compiled a graph. The warm-up is
  the first call, plus the one retrace a first call needs when it created state (an
  optimizer's momentum buffers), which compiled code must read instead of creating again;
- "recompiles": same observations, but a later call compiled another graph (explain()'s
  reasons say why). A new input shape is a recompile too: one graph per shape;
- "refused": a call raised; the detail is the error's first line, the remedy its advice;
- "differs": no error, but an observation differs from plain Python: a silent wrong answer.

>>> matrix = build_matrix(FEATURES, ["dynamic", "static"])      # results["axes"]["flexibility"]
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import graphnet

from ._axis import Context

MODES = ("dynamic", "static", "plan")
OUTCOMES = ("runs", "recompiles", "refused", "differs")
# NOTE: a first call that created state (optimizer buffers) is traced again on the next call;
# that retrace is part of the warm-up, not a recompile (runtime/compiled.py says it so).
_STATE_RETRACE = "the previous trace created new state"
# what a tensor kept from a trace reads as: it never received a value
_PLACEHOLDER = "a traced placeholder, not a value"


@dataclass(frozen=True)
class Feature:
    """One row of the matrix. `program(wrap)` wraps its step function or module with
    `wrap`, calls what `wrap` returned, and returns a dict of what a user would look at:
    lists, numbers, strings and tensors, nested freely."""

    name: str
    description: str
    program: Callable[[Callable], dict]


@dataclass
class _Run:
    """What one run of a program showed."""

    observed: dict | None = None
    error: BaseException | None = None
    failed_call: int = 0
    calls: int = 0
    compiles: list = field(default_factory=list)        # [(call number, reason)] per graph
    lines_per_call: list = field(default_factory=list)  # [(lines printed, call compiled?)]
    fell_back: int = 0                                  # calls run eagerly past the cache limit
    warned: list = field(default_factory=list)          # first lines of the warnings given


def run_program(feature: Feature, mode: str | None) -> _Run:
    """Run `feature`'s program as plain Python (`mode=None`) or compiled in `mode`."""
    run = _Run()
    stdout = io.StringIO()

    def wrap(step):
        handle = step if mode is None else graphnet.compile(step, mode=mode)

        def call(*args, **kwargs):
            run.calls += 1
            lines, graphs = stdout.getvalue().count("\n"), _graphs(handle)
            try:
                return handle(*args, **kwargs)
            finally:
                if mode is not None:
                    explained = handle.explain()
                    run.compiles += [(run.calls, reason)
                                     for reason in explained["recompile_reasons"][graphs:]]
                    run.fell_back = explained["dynamic_calls"]
                run.lines_per_call.append((stdout.getvalue().count("\n") - lines,
                                           _graphs(handle) > graphs))
        return call

    with contextlib.redirect_stdout(stdout), warnings.catch_warnings(record=True) as caught:
        try:
            observed = feature.program(wrap)
        except Exception as error:    # noqa: BLE001  (any error is a refusal, recorded)
            run.error, run.failed_call = error, run.calls
        else:
            observed["printed lines"] = stdout.getvalue().splitlines()
            run.observed = _readable(observed)
    run.warned = [str(w.message).splitlines()[0] for w in caught]
    return run


def _graphs(handle) -> int:
    return handle.explain()["graphs"] if hasattr(handle, "explain") else 0


def _readable(value):
    """Observations as plain data: tensors as numpy arrays; a tensor without a value (a
    traced placeholder kept after its trace) as a marker string saying so."""
    if isinstance(value, dict):
        return {k: _readable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_readable(v) for v in value]
    if isinstance(value, graphnet.Tensor):
        try:
            return np.asarray(value.detach().numpy())
        except graphnet.TraceError:
            return _PLACEHOLDER
    return value


def difference(reference, got, path: str = "") -> str | None:
    """The first way `got` differs from `reference`, in words, or None."""
    where = path or "result"
    if isinstance(reference, dict):
        if not isinstance(got, dict):
            return f"{where}: {got!r} (plain Python: a dict)"
        for key in reference:
            found = difference(reference[key], got.get(key), f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    if isinstance(reference, list):
        if not isinstance(got, list) or len(got) != len(reference):
            if not isinstance(got, list):
                return f"{where}: {got!r} (plain Python: {len(reference)} items)"
            found = f"{where}: {len(got)} item{'s' * (len(got) != 1)} " \
                    f"(plain Python: {len(reference)})"
            kept = [i for i, item in enumerate(got)
                    if isinstance(item, str) and item == _PLACEHOLDER]
            if kept:
                found += f", and {where}[{kept[0]}] is {_PLACEHOLDER}"
            return found
        for i, (r, g) in enumerate(zip(reference, got)):
            found = difference(r, g, f"{where}[{i}]")
            if found:
                return found
        return None
    if isinstance(reference, np.ndarray):
        if not isinstance(got, np.ndarray):
            return f"{where}: {got} (plain Python: a {reference.dtype} tensor)"
        if got.shape != reference.shape:
            return f"{where}: shape {list(got.shape)} (plain Python: {list(reference.shape)})"
        if not np.allclose(got, reference, rtol=1e-5, atol=1e-6, equal_nan=True):
            gap = np.max(np.abs(got.astype(np.float64) - reference.astype(np.float64)))
            return f"{where}: off by up to {gap:.3g}"
        return None
    if got != reference:
        return f"{where}: {got!r} (plain Python: {reference!r})"
    return None


def classify(reference: _Run, run: _Run, mode: str) -> dict:
    """One cell of the matrix, its detail written from what `run` measured."""
    graphs = len(run.compiles)
    cell = {"outcome": "runs", "detail": "", "remedy": None,
            "compiles": graphs if mode != "dynamic" else 0}
    if run.error is not None:
        message = str(run.error) or type(run.error).__name__
        cell.update(outcome="refused", remedy=remedy_of(message),
                    detail=f"{type(run.error).__name__} on call {run.failed_call}: "
                           f"{_without_location(message.splitlines()[0])}")
        return cell
    found = difference(reference.observed, run.observed)
    if found:
        cell.update(outcome="differs", detail=_differs_detail(found, reference, run))
        return cell
    calls = f"{run.calls} calls"
    later = [(n, why) for n, why in run.compiles if not _warm_up(n, why)]
    if mode == "dynamic":
        cell["detail"] = f"{calls}, run eagerly: nothing compiled"
    elif later:
        reasons = list(dict.fromkeys(why for _, why in later))
        cell.update(outcome="recompiles",
                    detail=f"{graphs} graphs for {run.calls} calls: " + "; ".join(reasons[:3]))
    else:
        retraced = graphs > 1
        cell["detail"] = f"{calls}, {graphs} graph{'s' if graphs != 1 else ''}" + (
            " (the first call created state and was traced once more)" if retraced else "")
    if run.fell_back:
        cell["detail"] += f"; {run.fell_back} calls ran eagerly past the cache limit"
    return cell


def _warm_up(call: int, reason: str) -> bool:
    return call == 1 or (call == 2 and reason.startswith(_STATE_RETRACE))


def _differs_detail(found: str, reference: _Run, run: _Run) -> str:
    detail = f"no error, but {found}"
    if found.startswith("printed lines"):
        at_compile = sum(n for n, compiled in run.lines_per_call if compiled)
        total = sum(n for n, _ in run.lines_per_call)
        if total and at_compile == total:
            detail += ": printed only on calls that compiled, while tracing, not per call"
        if run.observed["printed lines"]:
            detail += f" (first line: {run.observed['printed lines'][0]!r})"
    if run.warned:
        detail += f" (warned: {run.warned[0]})"
    else:
        detail += "; no warning"
    return detail


def _without_location(line: str) -> str:
    """The error's line without its "(at file:line in fn: `code`)": graphnet names the first
    frame outside its own folders, and the built-in programs live inside them, so the place
    named would be whoever called the study, not the program's line."""
    return re.sub(r" \(at \S+:\d+( in [^:]+: `.*`)?\)", "", line)


def remedy_of(message: str) -> str | None:
    """The advice in an error message: the lines after its first, or the clause after the
    first line's semicolon ("...; use graphnet.where(mask, x, other) instead")."""
    lines = [line.strip(" -") for line in message.splitlines() if line.strip()]
    if len(lines) > 1:
        return " ".join(lines[1:])
    head, sep, advice = lines[0].partition("; ") if lines else ("", "", "")
    if sep and re.match(r"(use|call|pass|move|run|write|set|compute|express|raise)\b",
                        advice.strip()):
        return advice.strip()
    return None


def build_matrix(features: list, modes=MODES, progress=lambda label: None) -> dict:
    """`results["axes"]["flexibility"]` for `features` (docs/compare.md) in `modes`."""
    rows = []
    for feature in features:
        progress(f"flexibility: {feature.name}")
        reference = run_program(feature, None)
        if reference.error is not None:
            raise ValueError(f"flexibility program {feature.name!r} fails as plain Python, so "
                             f"it cannot be a reference: {reference.error!r}")
        cells = {mode: classify(reference, run_program(feature, mode), mode) for mode in modes}
        rows.append({"name": feature.name, "description": feature.description, "cells": cells})
    return {"modes": list(modes), "features": rows}


def measure(ctx: Context) -> dict:
    """The built-in features in every mode; the same programs in every preset (about 10 s)."""
    from .flex_programs import FEATURES

    return build_matrix(FEATURES, MODES, ctx.progress)
