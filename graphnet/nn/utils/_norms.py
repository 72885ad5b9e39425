"""The norms weight_norm and spectral_norm are built from, written once for the
parametrizations (parametrizations.py) and the older hook-based forms (weight_norm.py,
spectral_norm.py)."""

from __future__ import annotations

from ... import _autograd, _mode
from ..._autograd import no_grad
from ..._autograd_versions import RECOMPUTED
from ..._tensor import Tensor
from .. import functional as F


def norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """torch.norm_except_dim(v, 2, dim): the 2-norm over every axis but `dim`, kept as size-1
    axes ([out, 1, 1, 1] for dim=0). NOTE: dim=-1 means the norm of the whole tensor (a 0-d
    result) in PyTorch, not the last axis."""
    squares = v.square()
    if dim == -1:
        return squares.sum().sqrt()
    axes = [d for d in range(v.dim()) if d != dim % v.dim()]
    return squares.sum(dim=axes, keepdim=True).sqrt() if axes else squares.sqrt()


def weight_norm(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """torch._weight_norm: v * (g / ||v||), the norm taken over every axis but `dim`."""
    return v * (g / norm_except_dim(v, dim))


def weight_to_matrix(weight: Tensor, dim: int) -> Tensor:
    """Axis `dim` first, the others flattened: [weight.shape[dim], -1]."""
    if dim != 0:
        weight = weight.permute(dim, *[d for d in range(weight.dim()) if d != dim])
    return weight.reshape(weight.shape[0], -1)


def normalize(x: Tensor, eps: float) -> Tensor:
    return F.normalize(x, dim=0, eps=eps)


def power_iteration(weight_mat: Tensor, u: Tensor, v: Tensor, steps: int, eps: float,
                    u_first: bool) -> None:
    """`steps` rounds of the power method on the buffers u [h] and v [w], in place and
    without gradients. `u_first`: the parametrization's order (u = W v, then v = W^T u);
    otherwise the older spectral_norm's (v = W^T u, then u = W v)."""
    # NOTE: written in place, as PyTorch's `normalize(..., out=u)`: a `state_dict()` taken
    # earlier shares the buffers and shows the new vectors (`u.data = ...` gave them new
    # storage, and the earlier state_dict kept the old ones).
    with no_grad():
        w = weight_mat.detach()
        for _ in range(steps):
            if u_first:
                u.copy_(normalize(w.matmul(v), eps))
                v.copy_(normalize(w.t().matmul(u), eps))
            else:
                v.copy_(normalize(w.t().matmul(u), eps))
                u.copy_(normalize(w.matmul(v), eps))


def sigma(weight_mat: Tensor, u: Tensor, v: Tensor) -> Tensor:
    """u . (W v): the largest singular value's estimate; u and v carry no gradient."""
    return (u.detach().clone() * weight_mat.matmul(v.detach().clone())).sum()


# The mark runtime/arg_storage.py leaves on a tensor some compiled program holds as state.
_HELD_BY_A_PROGRAM = "_held_state"


def recomputed_tensor(array) -> Tensor:
    """A new tensor holding a compiled call's value of a recomputed attribute."""
    t = Tensor._wrap(array)
    t.__dict__[RECOMPUTED] = True
    return t


def set_computed(module, name: str, value: Tensor) -> None:
    """The hook-based forms' `setattr(module, name, value)`: as in PyTorch, each forward
    gives the module a new tensor, so a `w = module.weight` taken earlier keeps its values.
    Traced, the trace notes it (compiler/recomputed_attributes.py): each compiled call sets
    a new tensor on the module too, without tracing again.

    NOTE: eagerly, once a compiled program holds the tensor as state (the traced code read
    it before the hook set it), the values are written in place: a new object would fail
    that program's guard, and a step compiled once would compile again after every eager
    forward. Known gap: then a reference taken before the forward sees the new values."""
    current = module.__dict__.get(name)
    # Each forward's weight is a new tensor in PyTorch, so the backward of an earlier forward
    # (a GAN's `D(real)` before `D(fake)`) never sees a later one's write: this mark keeps
    # the version check from refusing that backward when the values are written in place.
    value.__dict__[RECOMPUTED] = True
    mode = _mode.current_mode()
    if mode is not None and hasattr(mode, "recomputed_attribute"):
        mode.recomputed_attribute(module, name, value, current)
        setattr(module, name, value)
        return
    in_place = mode is not None or (isinstance(current, Tensor)
                                    and _HELD_BY_A_PROGRAM in current.__dict__)
    if not in_place or not isinstance(current, Tensor) \
            or tuple(current.shape) != tuple(value.shape) or current.dtype != value.dtype \
            or (current.requires_grad and current.is_leaf) \
            or current._alias_src is not None:   # an alias (`weight.data`) would write through
        setattr(module, name, value)
        return
    if mode is not None:
        mode.on_write(current)
    current.__dict__[RECOMPUTED] = True
    # the new weight's history alone, as a new tensor has: an in-place write would keep the
    # old weight's (an earlier forward's, reaching the parameters before a requires_grad_(
    # False) froze them), and a backward then reached it. Under no_grad (an evaluation
    # between compiled steps) the tensor keeps its place, so the steps' guards still hold.
    if _autograd.grad_mode.enabled:
        current.grad_fn, current._oi, current.requires_grad = None, None, False
    current._assign(value)
