"""`torch.autograd.forward_ad`: dual tensors on graphnet's tape.

graphnet has no forward-mode kernels. A dual tensor made by `make_dual` is a tensor on the
tape that remembers its tangent; `unpack_dual(y)` computes y's tangent when asked, as the
derivative of y's VJP along the tangents (the double-backward `func.jvp` uses): one backward
of y to the level's dual tensors, one more in its dummy cotangent. The values are forward
mode's.

What differs from PyTorch, all visible only to code that looks:
- a dual tensor requires grad (it is on the tape), where PyTorch's keeps its primal's flag;
- `unpack_dual(y).primal` is y detached unless y reaches tensors that require grad outside
  the level (then y itself, so backward still reaches them, and a value computed from it
  later still carries y's tangent, where PyTorch's primal carries none);
- `no_grad()` inside the level cuts the tangent (the tape records nothing there), where
  PyTorch's forward mode ignores it.

>>> with fwAD.dual_level():
...     x = fwAD.make_dual(primal, tangent)
...     jvp = fwAD.unpack_dual(torch.sin(x)).tangent      # cos(primal) * tangent
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

from .. import _autograd
from .._func_tape import private, reaches_outside, reaches_private
from .._tensor import Tensor

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]


class UnpackedDualTensor(NamedTuple):
    primal: Any
    tangent: Any


class _Levels(threading.local):
    def __init__(self):
        self.stack = []   # per level: {id(dual): (dual, tangent)}


_levels = _Levels()


def enter_dual_level() -> int:
    """Open a level (PyTorch allows one at a time) and return its number."""
    if _levels.stack:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _levels.stack.append({})
    return len(_levels.stack) - 1


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the level: its dual tensors' tangents are forgotten."""
    if not _levels.stack or level not in (None, len(_levels.stack) - 1):
        raise RuntimeError("Trying to exit a forward AD level that was not the last one "
                           "that was created. This is not supported.")
    _levels.stack.pop()


class dual_level:
    """`with dual_level():` the scope of dual tensors; yields the level's number."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> None:
        exit_dual_level()


def _floating(t: Tensor, what: str) -> None:
    if not (t.is_floating_point() or t.is_complex()):
        from .._ops._promote import torch_name

        raise ValueError(f"Expected {what} to be floating point or complex, but got: "
                         f"{torch_name(t.dtype)}")


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """`tensor` as a dual tensor carrying `tangent` (its direction) in the current level."""
    if not _levels.stack:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level "
                           "exists, make sure to enter_dual_level() first.")
    _floating(tensor, "primal")
    _floating(tangent, "tangent")
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than "
                           f"that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor.shape)} while the given forward gradient is of "
                           f"size {list(tangent.shape)}.")
    dual = private(tensor, _autograd.grad_mode.enabled)
    _levels.stack[-1][id(dual)] = (dual, tangent)
    return dual


def unpack_dual(tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent) of `tensor`: tangent None outside a level, or where `tensor` does not
    depend on the level's dual tensors."""
    duals = _levels.stack[-1] if _levels.stack else {}
    if not isinstance(tensor, Tensor) or not duals:
        return UnpackedDualTensor(tensor, None)
    if id(tensor) in duals:
        return UnpackedDualTensor(tensor.detach(), duals[id(tensor)][1])
    if not tensor.requires_grad:
        return UnpackedDualTensor(tensor, None)
    from .._factories import zeros_like
    from ._api import grad

    ids = set(duals)
    outside = reaches_outside([tensor], ids)
    primal = tensor if outside else tensor.detach()
    if not _autograd.differentiable(tensor._value.dtype):
        return UnpackedDualTensor(primal, None)
    inputs, tangents = zip(*duals.values())
    with _autograd.enable_grad():
        dummy = zeros_like(tensor).requires_grad_(True)
        back = grad([tensor], list(inputs), [dummy], retain_graph=True, create_graph=True,
                    allow_unused=True)
        used = [(b, t) for b, t in zip(back, tangents) if b is not None and b.requires_grad]
        if not used:
            return UnpackedDualTensor(primal, None)
        keep = outside or any(t.requires_grad for _, t in used)
        (tangent,) = grad([b for b, _ in used], [dummy], [t.to(b.dtype) for b, t in used],
                          retain_graph=True, create_graph=keep, allow_unused=True)
    if tangent is None:
        tangent = zeros_like(tensor)
    return UnpackedDualTensor(primal, tangent if keep else tangent.detach())


def refuse_custom_function(cls, args) -> None:
    """Called by `Function.apply` while forward mode runs (a dual level is open, or func.jvp /
    jacfwd / hessian / linearize): a custom Function applied to tensors that carry tangents
    raises. PyTorch takes their tangent from the Function's `jvp` staticmethod (and raises
    without one); graphnet's forward mode is the derivative of the backward, which differs
    from the jvp where the backward is not its adjoint (a gradient-reversal layer's tangent
    came out negated) and is 0 through an @once_differentiable backward, silently."""
    from .. import _func_active
    from .function import Function

    tensors = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
    if not tensors:
        return
    duals = _levels.stack[-1] if _levels.stack else None
    if not ((duals and reaches_private(tensors, set(duals))) or
            _func_active.forward_inputs_reached(tensors)):
        return
    if cls.jvp is Function.jvp:
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")
    raise NotImplementedError(
        f"{cls.__name__}: graphnet's forward mode (forward_ad, func.jvp, jacfwd, hessian, "
        f"linearize) does not call a custom Function's jvp staticmethod; it differentiates "
        f"the backward, which could give another tangent. Use reverse mode (backward, "
        f"func.vjp, jacrev) through this Function, or write its forward with graphnet ops.")
