"""Autograd's grad modes: the thread-local flags (`grad_mode`: recording on or off, inference,
anomaly detection) and the context managers and decorators that set them (`no_grad`,
`enable_grad`, `set_grad_enabled`, `inference_mode`). graphnet/_autograd.py re-exports them;
the tape reads `grad_mode` when it records."""

from __future__ import annotations

import functools
import inspect
import threading

import numpy as np


class _GradMode(threading.local):
    enabled = True
    inference = False     # inside inference_mode(): results are inference tensors
    anomaly = False       # detect_anomaly(): backward checks each node's results for NaN
    anomaly_check_nan = True


grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    return grad_mode.enabled


class _GradModeContext:
    """A context manager and decorator that sets thread-local autograd flags while it is
    active: `_flags()` says which (names of `grad_mode` fields -> values)."""

    def _flags(self) -> dict:
        raise NotImplementedError

    def __enter__(self):
        self._prev = {k: getattr(grad_mode, k) for k in self._flags()}
        for k, v in self._flags().items():
            setattr(grad_mode, k, v)
        # returns None, as PyTorch's: `with no_grad() as x` binds nothing

    def __exit__(self, *exc):
        for k, v in self._prev.items():
            setattr(grad_mode, k, v)

    def clone(self):
        return self.__class__()

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return self._each_step(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper

    def _each_step(self, fn):
        """A decorated generator function: the flags hold while the generator runs, each
        step (send, throw, close), and not while its caller runs between steps, as in
        PyTorch (`@no_grad` on a generator used to do nothing: it only built it)."""
        @functools.wraps(fn)
        def generator(*args, **kwargs):
            gen = fn(*args, **kwargs)
            try:
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    except BaseException as err:
                        with self.clone():
                            response = gen.throw(err)
                    else:
                        with self.clone():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value

        return generator


class _NoArgs(_GradModeContext):
    """`@no_grad` and `@no_grad()` both decorate (PyTorch takes both spellings)."""

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        if fn is not None and callable(fn):
            self.__init__()
            return self(fn)
        return self

    def __init__(self, fn=None):
        pass


class set_grad_enabled(_GradModeContext):
    """Turns gradient recording on or off: at once when called (`set_grad_enabled(False)`),
    back on leaving a `with` block; also a decorator."""

    def __init__(self, mode: bool):
        if not isinstance(mode, (bool, int, np.bool_)):   # a tensor's truth is not a mode
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be "
                            f"bool, not {type(mode).__name__}")
        self.mode = bool(mode)
        self.prev = grad_mode.enabled
        grad_mode.enabled = self.mode

    def _flags(self) -> dict:
        return {"enabled": self.mode}

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        grad_mode.enabled = self.prev

    def clone(self):
        return set_grad_enabled(self.mode)

    def __call__(self, fn):
        grad_mode.enabled = self.prev  # used as a decorator: do not change the mode now
        return super().__call__(fn)


class no_grad(_NoArgs):
    """`with graphnet.no_grad():` runs ops without recording them for backward."""

    def _flags(self) -> dict:
        return {"enabled": False}


class enable_grad(_NoArgs):
    """Turns gradient recording back on inside `no_grad()`."""

    def _flags(self) -> dict:
        return {"enabled": True}


class inference_mode(_GradModeContext):
    """`no_grad()` whose results are inference tensors: they can never join autograd later
    (PyTorch refuses it, and so does graphnet). `inference_mode(False)` turns it off inside.

    >>> with graphnet.inference_mode():
    ...     y = model(x)
    """

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode) and not isinstance(mode, bool):
            self.__init__(True)
            return self(mode)
        return self

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def _flags(self) -> dict:
        if self.mode:
            return {"enabled": False, "inference": True}
        return {"enabled": True, "inference": False}

    def clone(self):
        return inference_mode(self.mode)


def is_inference_mode_enabled() -> bool:
    return grad_mode.inference
