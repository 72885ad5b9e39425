"""Printing tensors the way PyTorch does: `tensor([[1., 2.], ...], requires_grad=True)`."""

from __future__ import annotations

import numpy as np

from . import _dtype as dt

_DEFAULT_DTYPES = {dt.float32.np, dt.int64.np, dt.bool_.np}


def _float_formatter(array: np.ndarray):
    finite = array[np.isfinite(array)]
    if finite.size == 0 or np.all(finite == np.round(finite)):
        if finite.size and np.max(np.abs(finite)) >= 1e8:
            return lambda v: f"{v:.4e}"
        return lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)
    big, small = np.max(np.abs(finite)), np.min(np.abs(finite[finite != 0]), initial=np.inf)
    if big >= 1e8 or (small < 1e-4 and small > 0) or (big / small > 1000 if small > 0 else False):
        return lambda v: f"{v:.4e}"
    return lambda v: f"{v:.4f}"


def format_tensor(t) -> str:
    value = t._value
    import jax

    if not isinstance(value, jax.Array):
        return f"tensor(<traced {value}>)"
    array = np.asarray(value)
    formatter = {}
    if array.dtype.kind == "f" or array.dtype.name == "bfloat16":
        formatter["float_kind"] = _float_formatter(array.astype(np.float64))
    body = np.array2string(array, separator=", ", prefix="tensor(", formatter=formatter,
                           threshold=1000, edgeitems=3)
    if array.dtype.kind == "b":
        body = body.replace("True", "True").replace("False", "False")
    extras = []
    if array.dtype not in _DEFAULT_DTYPES:
        extras.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn={t.grad_fn!r}")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    if array.size == 0:
        body = "[]" if array.ndim == 1 else body
        if array.ndim != 1:
            extras.insert(0, f"size={tuple(array.shape)}")
    return "tensor(" + ", ".join([body] + extras) + ")"
