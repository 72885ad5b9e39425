"""`graphnet.testing.assert_close`: PyTorch's comparison for tests, with its default
tolerances per dtype (float32: rtol 1.3e-6, atol 1e-5) and its checks of dtype and shape."""

from __future__ import annotations

import numpy as np

__all__ = ["assert_allclose", "assert_close", "make_tensor"]

_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7)}


def _array(x):
    if hasattr(x, "_value"):
        # NOTE: _concrete: inside a compiled function a captured tensor's values are guarded
        return np.asarray(x._concrete("assert_close()")), x.dtype.name
    array = np.asarray(x)
    return array, array.dtype.name


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless `actual` and `expected` (tensors, numbers, or nested
    sequences and mappings of them) are close: |a - e| <= atol + rtol * |e| elementwise."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), msg or \
            f"The mappings differ in keys: {sorted(actual)} vs {sorted(expected)}"
        for key in expected:
            assert_close(actual[key], expected[key], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    if isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), msg or \
            f"The length of the sequences mismatch: {len(actual)} != {len(expected)}"
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    a, a_dtype = _array(actual)
    e, e_dtype = _array(expected)
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: "
                                    f"{a.shape} != {e.shape}.")
    if check_dtype and a_dtype != e_dtype and hasattr(actual, "_value"):
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: "
                                    f"{a_dtype} != {e_dtype}.")
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    if rtol is None:
        rtol, atol = _TOLERANCES.get(a_dtype, (0.0, 0.0))
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not close.all():
        bad = int((~close).sum())
        diff = np.abs(a64 - e64)
        raise AssertionError(msg or (
            f"Tensor-likes are not close!\n\nMismatched elements: {bad} / {close.size} "
            f"({100.0 * bad / close.size:.1f}%)\nGreatest absolute difference: "
            f"{np.nanmax(diff)}\nGreatest relative difference: "
            f"{np.nanmax(diff / np.abs(e64).clip(min=np.finfo(np.float64).tiny))}"))


from ._testing_make import assert_allclose, make_tensor  # noqa: E402
