"""Printing tensors the way PyTorch does: `tensor([[1., 2.], ...], requires_grad=True)`."""

from __future__ import annotations

import sys

import numpy as np

from . import _dtype as dt

_DEFAULT_DTYPES = {dt.float32.np, dt.int64.np, dt.bool_.np}

_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)}
OPTIONS = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """How tensors print, as torch.set_printoptions: digits after the point, the element
    count above which a tensor is summarised, the items shown at each edge then, the line
    width, a profile ("default", "short", "full") and scientific notation (None: automatic)."""
    if profile is not None:
        OPTIONS.update(_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            OPTIONS[key] = value
    OPTIONS["sci_mode"] = sci_mode


def get_printoptions() -> dict:
    return dict(OPTIONS)


def _float_formatter(array: np.ndarray):
    p, sci = OPTIONS["precision"], OPTIONS["sci_mode"]
    finite = array[np.isfinite(array)]
    if sci is True:
        return lambda v: f"{v:.{p}e}"
    if finite.size == 0 or np.all(finite == np.round(finite)):
        if finite.size and np.max(np.abs(finite)) >= 1e8 and sci is None:
            return lambda v: f"{v:.{p}e}"
        return lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)
    big, small = np.max(np.abs(finite)), np.min(np.abs(finite[finite != 0]), initial=np.inf)
    if sci is None and (big >= 1e8 or (small < 1e-4 and small > 0)
                        or (big / small > 1000 if small > 0 else False)):
        return lambda v: f"{v:.{p}e}"
    return lambda v: f"{v:.{p}f}"


def _padded_formatter(array: np.ndarray) -> dict:
    """PyTorch right-aligns every element to the widest one: `tensor([-1.5000,  0.2500])`."""
    if array.dtype.kind == "f" or array.dtype.name == "bfloat16":
        as_float = array.astype(np.float64)
        base, kind = _float_formatter(as_float), "float_kind"
        sample = as_float
    elif array.dtype.kind in "iu":
        base, kind, sample = str, "int", array
    else:
        return {}
    flat = sample.reshape(-1)
    if flat.size > OPTIONS["threshold"]:  # summarised: only the edges are printed
        edge = OPTIONS["edgeitems"]
        flat = np.concatenate([flat[:edge], flat[-edge:]])
    width = max((len(base(v)) for v in flat), default=0)
    return {kind: lambda v: base(v).rjust(width)}


def format_tensor(t) -> str:
    value = t._value
    import jax

    if not isinstance(value, jax.Array):
        return f"tensor(<traced {value}>)"
    array = np.asarray(value)
    body = np.array2string(array, separator=", ", prefix="tensor(",
                           formatter=_padded_formatter(array),
                           threshold=min(OPTIONS["threshold"], sys.maxsize),
                           edgeitems=OPTIONS["edgeitems"], max_line_width=OPTIONS["linewidth"])
    extras = []
    if array.dtype not in _DEFAULT_DTYPES:
        extras.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    if array.size == 0:
        body = "[]" if array.ndim == 1 else body
        if array.ndim != 1:
            extras.insert(0, f"size={tuple(array.shape)}")
    return "tensor(" + ", ".join([body] + extras) + ")"
