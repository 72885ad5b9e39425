"""Shared checks for the one-file-per-pass tests: a pass's before/after text on a small
graph, `verify` on both sides, and numbers with the pass on vs off vs dynamic."""

from __future__ import annotations

import numpy as np

import graphnet
from graphnet.compiler import trace, verify
from graphnet.compiler.passes import BY_NAME


def apply_pass(name: str, fn, *inputs):
    """Trace fn, run the one pass `name`; returns (text before, text after, graph after)."""
    graph = verify(trace(fn, *inputs))
    before = str(graph)
    graph = verify(BY_NAME[name](graph))
    return before, str(graph), graph


def numpy_of(out) -> list:
    """Every tensor in `out` (a tensor or a tuple/list of them) as a NumPy array."""
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in numpy_of(o)]
    return [np.asarray(out.detach()._value)]


def outputs_agree(make, inputs, name: str, atol=1e-6, rtol=1e-6):
    """`make()` builds (fn, state_tensors) afresh (same seed). Run it dynamically, compiled
    with every pass (static and plan modes) and compiled without pass `name`; outputs of two
    calls and the final state must agree. Passes are verified between each other (debug)."""
    results = {}
    for label, options in [("dynamic", None),
                           (f"static with {name}", dict(mode="static")),
                           (f"static without {name}", dict(mode="static", disable=[name])),
                           (f"plan with {name}", dict(mode="plan"))]:
        fn, state = make()
        run = fn if options is None else graphnet.compile(fn, debug=True, **options)
        outs = [a for _ in range(2) for a in numpy_of(run(*inputs))]   # two calls each
        results[label] = (outs, numpy_of(list(state)))
    expected_outs, expected_state = results.pop("dynamic")
    for label, (outs, state) in results.items():
        for got, want in zip(outs, expected_outs, strict=True):
            np.testing.assert_allclose(got, want, atol=atol, rtol=rtol, err_msg=label)
        for got, want in zip(state, expected_state, strict=True):
            np.testing.assert_allclose(got, want, atol=atol, rtol=rtol, err_msg=label)
