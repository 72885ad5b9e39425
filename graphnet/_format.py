"""Printing tensors the way PyTorch does: `tensor([[1., 2.], ...], requires_grad=True)`."""

from __future__ import annotations

import numpy as np

from . import _dtype as dt
from ._default_dtype import get_default_dtype

_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)}
OPTIONS = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """How tensors print, as torch.set_printoptions: digits after the point, the element
    count above which a tensor is summarised, the items shown at each edge then, the line
    width, a profile ("default", "short", "full") and scientific notation (None: automatic)."""
    if profile is not None:   # NOTE: PyTorch ignores a profile it does not know (it raised)
        OPTIONS.update(_PROFILES.get(profile, {}))
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            OPTIONS[key] = value
    OPTIONS["sci_mode"] = sci_mode


def get_printoptions() -> dict:
    return dict(OPTIONS)


def _summarized(array: np.ndarray) -> np.ndarray:
    """The entries a summarised print shows (the first and last `edgeitems` of every
    dimension): PyTorch chooses the number format from these only."""
    edge = OPTIONS["edgeitems"]
    if array.ndim == 0:
        return array
    if array.ndim == 1:
        return np.concatenate([array[:edge], array[-edge:]]) if len(array) > 2 * edge else array
    if not edge:
        return array[:0]
    rows = list(range(edge)) + list(range(len(array) - edge, len(array))) \
        if len(array) > 2 * edge else range(len(array))
    return np.stack([_summarized(array[i]) for i in rows])


def _padded_formatter(array: np.ndarray, summarize: bool):
    """(format one element, its width), as PyTorch's _Formatter: integer mode when every
    finite value is whole, scientific notation when the magnitudes span too much, every
    element right-aligned to the widest: `tensor([-1.5000,  0.2500])`."""
    if summarize:
        array = _summarized(array)
    flat = array.reshape(-1)
    if not (array.dtype.kind == "f" or array.dtype.name == "bfloat16"):
        width = max([1] + [len(str(v)) for v in flat.tolist()])
        return (lambda v: str(v).rjust(width)), width
    p, sci = OPTIONS["precision"], OPTIONS["sci_mode"]
    values = flat.astype(np.float64)
    finite = values[np.isfinite(values) & (values != 0)]
    int_mode, sci_mode, width = True, False, 1
    if finite.size:
        big, small = np.abs(finite).max(), np.abs(finite).min()
        int_mode = bool(np.all(finite == np.ceil(finite)))
        sci_mode = bool(big / small > 1000.0 or big > 1.0e8 or small < 1.0e-4) \
            if sci is None else sci
        if sci_mode:
            width = max(len(f"{v:.{p}e}") for v in finite)
        elif int_mode:
            width = max(len(f"{v:.0f}") + 1 for v in finite)
        else:
            width = max(len(f"{v:.{p}f}") for v in finite)

    def fmt(v):
        if sci_mode:
            text = f"{v:{width}.{p}e}"
        elif int_mode:
            text = f"{v:.0f}" + ("" if np.isinf(v) or np.isnan(v) else ".")
        else:
            text = f"{v:.{p}f}"
        return text.rjust(width)

    return fmt, width


def _vector(array, indent: int, summarize: bool, fmt, width: int) -> str:
    per_line = max(1, (OPTIONS["linewidth"] - indent) // (width + 2))
    edge = OPTIONS["edgeitems"]
    values = array.tolist()
    if summarize and not edge:
        data = ["..."]
    elif summarize and len(values) > 2 * edge:
        data = [fmt(v) for v in values[:edge]] + [" ..."] + [fmt(v) for v in values[-edge:]]
    else:
        data = [fmt(v) for v in values]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(array, indent: int, summarize: bool, fmt, width: int) -> str:
    """PyTorch's layout (torch/_tensor_str.py): rows wrap at the line width, summarised
    dimensions show their first and last `edgeitems` entries around '...'."""
    if array.ndim == 0:
        return fmt(array.item())
    if array.ndim == 1:
        return _vector(array, indent, summarize, fmt, width)
    edge = OPTIONS["edgeitems"]
    rows = range(array.shape[0])
    if summarize and array.shape[0] > 2 * edge:
        # NOTE: rows[len - edge:], not rows[-edge:], which is every row when edge is 0
        parts = [_nested(array[i], indent + 1, summarize, fmt, width) for i in rows[:edge]] + \
            ["..."] + [_nested(array[i], indent + 1, summarize, fmt, width)
                       for i in rows[len(rows) - edge:]]
    else:
        parts = [_nested(array[i], indent + 1, summarize, fmt, width) for i in rows]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def format_tensor(t) -> str:
    value = t._value
    import jax

    if not isinstance(value, jax.Array):
        # NOTE: a traced tensor shows its graph value and the same extras as eagerly, which a
        # print inside compiled code reads back to show the value on each call
        # (compiler/prints.py); they stay on one line, which is what its pattern reads.
        # The trace counts the texts made, to refuse one that goes anywhere but print()
        # (compiler/traced_text.py).
        from ._mode import current_mode

        mode = current_mode()
        if mode is not None and mode.records_graph:
            from .compiler.traced_text import note_text
            note_text(mode, value)
        return "tensor(" + ", ".join([f"<traced {value}>"] + _extras(t, value.dtype)) + ")"
    array = np.asarray(value)
    if array.size == 0:   # PyTorch: `[]`, then the size unless 1-D, then any non-float dtype
        body = "[]"
        suffixes = [] if array.ndim == 1 else [f"size={tuple(array.shape)}"]
        if array.dtype != get_default_dtype().np:
            suffixes.append(f"dtype={t.dtype}")
        suffixes += _extras(t, None)
    else:
        summarize = array.size > OPTIONS["threshold"]
        fmt, width = _padded_formatter(array, summarize)
        body = _nested(array, len("tensor("), summarize, fmt, width)
        # with no edge items nothing of the shape shows, so PyTorch names it
        suffixes = [] if OPTIONS["edgeitems"] else [f"size={tuple(array.shape)}"]
        suffixes += _extras(t, array.dtype)
    return _close("tensor(" + body, suffixes, indent=len("tensor("))


def _close(text: str, suffixes: list, indent: int) -> str:
    """`text` then each suffix and `)`, as PyTorch's _add_suffixes: a suffix that would
    pass the line width goes on a line of its own, indented to the values:
    `tensor([...0.0629],\n       requires_grad=True)`."""
    # NOTE: PyTorch counts the last line two characters longer than it is (its length from
    # the last newline, plus one), and wraps on that count; so does this.
    line = len(text) - text.rfind("\n") + 1
    parts = [text]
    for suffix in suffixes:
        if line + len(suffix) + 2 > OPTIONS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line += len(suffix) + 2
    return "".join(parts) + ")"


def _extras(t, dtype) -> list:
    """What a tensor's repr shows after its values: a dtype other than the defaults (the
    default floating dtype, int64 and bool; None: no dtype), then its grad_fn or
    requires_grad."""
    defaults = (get_default_dtype().np, dt.int64.np, dt.bool_.np)
    extras = [f"dtype={t.dtype}"] if dtype is not None and dtype not in defaults else []
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return extras
