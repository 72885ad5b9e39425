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


FORWARD = [0]   # forward-mode transforms running in any thread (a cheap test for dispatch)


@contextmanager
def forward_mode(private_ids):
    """While func.jvp / jacfwd / hessian / linearize run the user's function: graphnet's
    forward mode is reverse mode underneath, which `no_grad()` cuts, where PyTorch's forward
    mode ignores it. An op under no_grad on a tensor that depends on the transform's inputs
    raises (`check_cut_tangent`) instead of losing its tangent silently. None: not forward
    mode (jacrev), which leaves the enclosing transforms' inputs watched (hessian)."""
    if private_ids is None:
        yield
        return
    stack = _state.__dict__.setdefault("forward_ids", [])
    stack.append(private_ids)
    FORWARD[0] += 1
    try:
        yield
    finally:
        FORWARD[0] -= 1
        stack.pop()


def forward_inputs_reached(tensors) -> bool:
    """Whether `tensors` depend on the inputs of a running forward-mode transform."""
    stack = _state.__dict__.get("forward_ids")
    if not stack or not tensors:
        return False
    from ._func_tape import reaches_private

    return any(reaches_private(tensors, ids) for ids in stack)


def check_cut_tangent(name: str, args) -> None:
    """Called by dispatch for an op run with grad off while some forward-mode transform runs."""
    stack = _state.__dict__.get("forward_ids")
    tensors = [a for a in args if getattr(a, "requires_grad", False)]
    if not stack or not tensors:
        return
    from ._func_tape import reaches_private

    if any(reaches_private(tensors, ids) for ids in stack):
        raise RuntimeError(
            f"{name}() ran under no_grad() on a tensor that depends on the inputs of a "
            f"forward-mode transform (func.jvp, jacfwd, hessian, linearize). graphnet computes "
            f"forward mode through the autograd tape, which no_grad() cuts, so its tangent "
            f"would be lost; PyTorch's forward mode ignores no_grad(). Compute it outside "
            f"no_grad(), or use .detach() where a constant is meant.")
