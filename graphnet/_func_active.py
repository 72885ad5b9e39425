"""Whether a `graphnet.func` transform (grad, vjp, jvp, jacrev, jacfwd, hessian, vmap) is
running the user's function on this thread. PyTorch refuses `backward()` there, first of all
its checks: the transform computes the gradients itself (graphnet/autograd/_api.py asks)."""

from __future__ import annotations

import threading
from contextlib import contextmanager

BACKWARD_IN_TRANSFORM = ("backward() called inside a functorch transform. This is not "
                         "supported, please use functorch.grad or functorch.vjp instead or "
                         "call backward() outside of functorch transforms.")

_state = threading.local()


def transforms_active() -> bool:
    return getattr(_state, "depth", 0) > 0


@contextmanager
def transform_running():
    """Around one call of the user's function by a transform (nested ones count)."""
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1
