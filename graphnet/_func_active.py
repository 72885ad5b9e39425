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


RANDOM_IN_ERROR_MODE = ("vmap: called random operation while in randomness error mode. Please "
                        "either use the 'same' or 'different' randomness flags on vmap or "
                        "perform the randomness operation out of vmap")


@contextmanager
def randomness(policy: str, api: str):
    """While a transform that PyTorch runs under vmap (jacfwd's tangents) runs the user's
    function: random draws raise under policy 'error' (PyTorch's message), and under
    'different', which graphnet's single pass cannot honour; 'same' draws as usual, unless an
    enclosing transform refuses (jacrev inside jacfwd: `hessian`)."""
    previous = getattr(_state, "random_policy", None)
    _state.random_policy = previous if policy == "same" else (policy, api)
    try:
        yield
    finally:
        _state.random_policy = previous


def check_random_draw() -> None:
    """Called by every random draw (graphnet/_random.py `key`)."""
    policy = getattr(_state, "random_policy", None)
    if policy is None:
        return
    if policy[0] == "error":
        raise RuntimeError(RANDOM_IN_ERROR_MODE)
    raise RuntimeError(f"{policy[1]}(randomness='different'): graphnet computes the Jacobian in "
                       f"one pass, so it cannot draw different random numbers per tangent; use "
                       f"randomness='same' or draw outside the function")
