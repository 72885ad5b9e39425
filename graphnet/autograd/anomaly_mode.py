"""`detect_anomaly` / `set_detect_anomaly`: backward checks each node's results for NaN and
raises PyTorch's RuntimeError naming the node (graphnet/autograd/_engine.py)."""

from __future__ import annotations

import functools
import warnings

from .._autograd import grad_mode

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "set_anomaly_enabled"]


def is_anomaly_enabled() -> bool:
    return grad_mode.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    return grad_mode.anomaly_check_nan


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    grad_mode.anomaly, grad_mode.anomaly_check_nan = bool(enabled), bool(check_nan)


class detect_anomaly:
    """Inside it, a backward node returning NaN raises `RuntimeError: Function
    'MulBackward0' returned nan values in its 0th output.`, in both modes: a function compiled
    while it is on differentiates op by op and checks each op's gradient inside the program
    (compiler/grad_walk.py); the call then raises and writes nothing back.

    >>> with graphnet.autograd.detect_anomaly():
    ...     loss.backward()
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the "
                      "runtime and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self.prev = (grad_mode.anomaly, grad_mode.anomaly_check_nan)
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc):
        set_anomaly_enabled(*self.prev)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off: at once when called, back on leaving a `with`."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self.prev = (grad_mode.anomaly, grad_mode.anomaly_check_nan)
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        set_anomaly_enabled(*self.prev)
