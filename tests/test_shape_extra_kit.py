"""`check`: one call written for both libraries, run with PyTorch, graphnet eagerly and
graphnet compiled; forward values, dtypes and the gradient of every float input must match.
Shared by tests/test_shape_extra*.py and tests/test_linalg*.py (it holds no tests itself)."""

from __future__ import annotations

import numpy as np
from parity import assert_close, np_of, to_gn, to_torch, torch

import graphnet


def flat(out) -> list:
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat(o)]
    return [out]


def _run(T, call, arrays, grads):
    make = to_torch if T is torch else to_gn
    inputs = [make(a, requires_grad=grads and a.dtype.kind == "f") for a in arrays]
    return inputs, flat(call(T, *inputs))


def _compiled(call):
    return lambda T, *xs: graphnet.compile(lambda *ys: tuple(flat(call(T, *ys))))(*xs)


def check(call, *arrays, grads=True, atol=1e-5, rtol=1e-5, compiled=True):
    """Compare `call(T, *inputs)` for T = torch and graphnet (eager, then compiled)."""
    arrays = [np.asarray(a) for a in arrays]
    t_in, t_out = _run(torch, call, arrays, grads)
    wanted = [i for i, t in enumerate(t_in) if t.requires_grad]
    floats = [k for k, t in enumerate(t_out) if isinstance(t, torch.Tensor)
              and t.dtype.is_floating_point and t.requires_grad]
    rng = np.random.default_rng(1)
    weights = [rng.standard_normal(tuple(t.shape)).astype(np.float32)
               if isinstance(t, torch.Tensor) else None for t in t_out]
    if wanted and floats:
        sum((t_out[k] * to_torch(weights[k])).sum() for k in floats).backward()
    for mode, fn in [("eager", call)] + ([("compiled", _compiled(call))] if compiled else []):
        g_in, g_out = _run(graphnet, fn, arrays, grads)
        assert len(g_out) == len(t_out), f"{mode}: {len(g_out)} outputs, torch {len(t_out)}"
        for k, (g, t) in enumerate(zip(g_out, t_out)):
            if not isinstance(t, torch.Tensor):
                assert g == t, f"{mode} output {k}: {g} != {t}"
                continue
            assert np_of(g).dtype == np_of(t).dtype, f"{mode} output {k}: dtype"
            assert_close(g, t, atol, rtol, what=f"{mode} output {k}")
        if wanted and floats:
            sum((g_out[k] * to_gn(weights[k])).sum() for k in floats).backward()
            for i in wanted:
                expected = t_in[i].grad
                if expected is None:
                    assert g_in[i].grad is None or not np_of(g_in[i].grad).any()
                    continue
                assert_close(g_in[i].grad, expected, atol, rtol, what=f"{mode} grad {i}")


def raises_like(call, *arrays):
    """The exception type (and message) PyTorch raises for `call` is graphnet's too."""
    import pytest

    with pytest.raises(Exception) as expected:
        call(torch, *[to_torch(np.asarray(a)) for a in arrays])
    with pytest.raises(type(expected.value)) as got:
        call(graphnet, *[to_gn(np.asarray(a)) for a in arrays])
    return str(expected.value), str(got.value)
