"""`graphnet.testing.assert_close`: PyTorch's comparison for tests, with its default
tolerances per dtype (float32: rtol 1.3e-6, atol 1e-5), its checks of None, type, shape,
dtype and strides, and its messages (where the worst mismatch is, which item of a nested
input failed). Integers and booleans compare exactly, in their own type: `2**53 + 1` is not
`2**53` (compared as float64 before, they passed as equal)."""

from __future__ import annotations

import collections.abc

import numpy as np

__all__ = ["assert_allclose", "assert_close", "make_tensor"]

_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5),
               "complex128": (1e-7, 1e-7)}
_SCALAR_DTYPES = {bool: "bool", int: "int64", float: "float64", complex: "complex128"}


class _Mismatch(Exception):
    """A failed check, before the item path and the user's `msg` are added."""

    def __init__(self, kind: type, message: str, path: tuple = ()):
        super().__init__(message)
        self.kind, self.message, self.path = kind, message, path


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless `actual` and `expected` (tensors, NumPy arrays, Python
    numbers, or sequences and mappings of them) are close: |a - e| <= atol + rtol * |e|
    elementwise. `msg`: a string that replaces the message, or a callable given it."""
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    options = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype,
                   check_stride=check_stride)
    try:
        _compare(actual, expected, (), options)
    except _Mismatch as failure:
        message = failure.message
        if failure.path:
            message += ("\n\nThe failure occurred for item "
                        + "".join(f"[{key!r}]" for key in failure.path))
        if callable(msg):
            message = msg(message)
        elif msg is not None and failure.kind is AssertionError:
            message = msg
        raise failure.kind(message) from None


def _is_tensor(x) -> bool:
    return hasattr(x, "_value") and hasattr(x, "grad_fn")


def _compare(actual, expected, path: tuple, options: dict) -> None:
    if actual is None or expected is None:
        if actual is not expected:
            raise _Mismatch(AssertionError, f"None mismatch: {actual} is not {expected}", path)
        return
    if isinstance(expected, collections.abc.Mapping) and \
            isinstance(actual, collections.abc.Mapping):
        missing = sorted(set(expected) - set(actual), key=repr)
        extra = sorted(set(actual) - set(expected), key=repr)
        if missing or extra:
            raise _Mismatch(AssertionError, "The keys of the mappings do not match:\n"
                            f"Missing keys in the actual mapping: {missing}\n"
                            f"Additional keys in the actual mapping: {extra}", path)
        for key in expected:
            _compare(actual[key], expected[key], path + (key,), options)
        return
    if _is_sequence(expected) and _is_sequence(actual):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError, "The length of the sequences mismatch: "
                            f"{len(actual)} != {len(expected)}", path)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, path + (i,), options)
        return
    if _is_tensor(actual) and _is_tensor(expected):
        _compare_tensors(actual, expected, path, options)
    elif isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray):
        _compare_arrays(actual, expected, actual.dtype.name, expected.dtype.name, path,
                        options, lambda x: str(x.dtype), lambda x: str(x.shape))
    elif type(actual) in _SCALAR_DTYPES and type(expected) in _SCALAR_DTYPES:
        _compare_scalars(actual, expected, path, options)
    else:
        raise _Mismatch(TypeError, "No comparison pair was able to handle inputs of type "
                        f"{type(actual)} and {type(expected)}.", path)


def _is_sequence(x) -> bool:
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, (str, bytes))


def _compare_tensors(actual, expected, path: tuple, options: dict) -> None:
    a = np.asarray(actual._concrete("assert_close()"))   # NOTE: guarded inside a trace
    e = np.asarray(expected._concrete("assert_close()"))
    if tuple(actual.shape) == tuple(expected.shape) and options["check_stride"] and \
            actual.stride() != expected.stride():
        raise _Mismatch(AssertionError, "The values for attribute 'stride()' do not match: "
                        f"{actual.stride()} != {expected.stride()}.", path)
    _compare_arrays(a, e, actual.dtype.name, expected.dtype.name, path, options,
                    lambda x: str(x.dtype), lambda x: repr(x.shape), (actual, expected))


def _compare_arrays(a, e, a_dtype: str, e_dtype: str, path: tuple, options: dict,
                    show_dtype, show_shape, shown=None) -> None:
    shown = shown or (a, e)
    if a.shape != e.shape:
        raise _Mismatch(AssertionError, "The values for attribute 'shape' do not match: "
                        f"{show_shape(shown[0])} != {show_shape(shown[1])}.", path)
    if a_dtype != e_dtype and options["check_dtype"]:
        raise _Mismatch(AssertionError, "The values for attribute 'dtype' do not match: "
                        f"{show_dtype(shown[0])} != {show_dtype(shown[1])}.", path)
    rtol, atol = _tolerances(options, a_dtype, e_dtype)
    if a_dtype != e_dtype:   # check_dtype=False: both in their common type
        common = np.promote_types(a.dtype, e.dtype)
        a, e = a.astype(common), e.astype(common)
    matches = _matches(a, e, rtol, atol, options["equal_nan"])
    if matches.all():
        return
    if a.ndim == 0:
        _scalar_failure(a.item(), e.item(), rtol, atol, path)
    raise _Mismatch(AssertionError, _tensor_message(a, e, matches, rtol, atol), path)


def _tolerances(options: dict, *dtypes: str) -> tuple:
    if options["rtol"] is not None:
        return options["rtol"], options["atol"]
    pairs = [_TOLERANCES.get(d, (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _exact_kind(a) -> bool:
    return a.dtype.kind in "biu"


def _matches(a, e, rtol: float, atol: float, equal_nan: bool):
    if _exact_kind(a) and rtol == 0 and atol == 0:
        return np.asarray(a == e)
    wide = np.complex128 if a.dtype.kind == "c" else np.float64
    return np.asarray(np.isclose(a.astype(wide), e.astype(wide), rtol=rtol, atol=atol,
                                 equal_nan=equal_nan))


def _tensor_message(a, e, matches, rtol: float, atol: float) -> str:
    bad = int(matches.size - matches.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        if _exact_kind(a):   # differences of integers in int64, ratios in the default float
            a, e = a.astype(np.int64), e.astype(np.int64)
            diff = np.abs(a - e).ravel()
            ratio = diff.astype(np.float32) / np.abs(e).ravel().astype(np.float32)
        else:
            diff = np.abs(a - e).ravel()
            ratio = diff / np.abs(e).ravel()
    diff[matches.ravel()] = 0
    ratio[matches.ravel()] = 0
    worst_abs, worst_rel = _argmax(diff), _argmax(ratio)
    return _message("Tensor-likes", rtol, atol,
                    f"Mismatched elements: {bad} / {matches.size} ({bad / matches.size:.1%})",
                    ("Greatest absolute", diff[worst_abs].item(),
                     np.unravel_index(worst_abs, a.shape)),
                    ("Greatest relative", ratio[worst_rel].item(),
                     np.unravel_index(worst_rel, a.shape)))


def _argmax(values) -> int:
    """The first NaN, else the first largest, as `torch.max` picks its index."""
    nan = np.isnan(values) if values.dtype.kind in "fc" else np.zeros(values.shape, bool)
    return int(np.argmax(nan)) if nan.any() else int(np.argmax(values))


def _message(what: str, rtol: float, atol: float, extra: str, *diffs) -> str:
    equality = rtol == 0 and atol == 0
    lines = [f"{what} are not {'equal' if equality else 'close'}!", "", extra]
    for (name, value, index), tol in zip(diffs, (atol, rtol)):
        line = f"{name} difference: {value}"
        if index is not None:
            line += f" at index {tuple(int(i) for i in index)}"
        lines.append(line if equality else f"{line} (up to {tol} allowed)")
    return "\n".join(lines)


def _compare_scalars(actual, expected, path: tuple, options: dict) -> None:
    if options["check_dtype"] and type(actual) is not type(expected):
        raise _Mismatch(AssertionError, "The (d)types do not match: "
                        f"{type(actual)} != {type(expected)}.", path)
    if type(actual) is bool and type(expected) is bool:
        if actual is not expected:
            raise _Mismatch(AssertionError, f"Booleans mismatch: {actual} is not {expected}",
                            path)
        return
    rtol, atol = _tolerances(options, _SCALAR_DTYPES[type(actual)],
                             _SCALAR_DTYPES[type(expected)])
    a, e = np.asarray(actual), np.asarray(expected)
    if not _matches(a, e, rtol, atol, options["equal_nan"]).all():
        _scalar_failure(actual, expected, rtol, atol, path)


def _scalar_failure(actual, expected, rtol: float, atol: float, path: tuple):
    diff = abs(actual - expected)
    ratio = float("inf") if expected == 0 else diff / abs(expected)
    raise _Mismatch(AssertionError, _message(
        "Scalars", rtol, atol, f"Expected {expected} but got {actual}.",
        ("Absolute", diff, None), ("Relative", ratio, None)), path)


from ._testing_make import assert_allclose, make_tensor  # noqa: E402
