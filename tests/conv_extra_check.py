"""One call written for both libraries, checked against torch eagerly and compiled: forward
values and dtypes, and the gradient of every float input (the test_conv_extra*.py files)."""

from __future__ import annotations

import numpy as np
from parity import assert_close, np_of, to_gn, to_torch, torch

import graphnet


def _flat(out) -> list:
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _run(T, call, arrays, grads, no_grad=()):
    make = to_torch if T is torch else to_gn
    inputs = [make(a, requires_grad=grads and a.dtype.kind == "f" and i not in no_grad)
              for i, a in enumerate(arrays)]
    return inputs, _flat(call(T, *inputs))


def check_both_modes(call, arrays, atol=1e-5, rtol=1e-5, grads=True, no_grad=()):
    """call(T, *tensors) on torch and on graphnet, eager and inside graphnet.compile; inputs
    listed in `no_grad` (by position) take no gradient."""
    arrays = [np.asarray(a) for a in arrays]
    t_in, t_out = _run(torch, call, arrays, grads, no_grad)
    weights = [np.random.default_rng(1).standard_normal(tuple(t.shape)).astype(np_of(t).dtype)
               for t in t_out]
    floats = [k for k, t in enumerate(t_out) if t.dtype.is_floating_point]
    if grads and floats:
        sum((t_out[k] * to_torch(weights[k])).sum() for k in floats).backward()
    for mode in ("eager", "static"):
        gn_call = call
        if mode == "static":
            def gn_call(T, *xs):
                return graphnet.compile(lambda *ys: tuple(_flat(call(T, *ys))))(*xs)
        g_in, g_out = _run(graphnet, gn_call, arrays, grads, no_grad)
        assert len(g_out) == len(t_out), f"{mode}: {len(g_out)} outputs, torch {len(t_out)}"
        for k, (g, t) in enumerate(zip(g_out, t_out)):
            assert np_of(g).dtype == np_of(t).dtype, f"{mode} output {k}: dtype"
            assert_close(g, t, atol, rtol, what=f"{mode} output {k}")
        if grads and floats:
            sum((g_out[k] * to_gn(weights[k])).sum() for k in floats).backward()
            for i, (g, t) in enumerate(zip(g_in, t_in)):
                if t.grad is not None:
                    assert g.grad is not None, f"{mode}: input {i} got no gradient"
                    assert_close(g.grad, t.grad, atol, rtol, what=f"{mode} grad {i}")
