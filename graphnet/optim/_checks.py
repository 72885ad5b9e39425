"""Argument checks every optimizer constructor starts with, as torch 2.13's do, so a wrong
tensor hyper-parameter fails with torch's ValueError, not later in a comparison."""

from __future__ import annotations

from .._tensor import Tensor


def check_tensor_lr(lr) -> None:
    """A tensor lr must hold one number (`lr=torch.tensor([1e-3, 1e-4])` is refused)."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


def check_adam_tensor_lr(lr, foreach, capturable) -> None:
    """Adam's own order: a tensor lr with foreach=True needs capturable=True first."""
    if isinstance(lr, Tensor):
        if foreach and not capturable:
            raise ValueError(
                "lr as a Tensor is not supported for capturable=False and foreach=True")
        check_tensor_lr(lr)


def checked_adam_betas(betas, foreach, capturable) -> tuple:
    """Adam's betas: both floats or both 1-element tensors (an int such as betas=(0, 0.9)
    is refused, as in torch); a 1-element tensor of a higher rank is squeezed to 0-d."""
    if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
        raise ValueError("betas must be either both floats or both Tensors")
    for i, beta in enumerate(betas):
        if isinstance(beta, Tensor):
            if not capturable and foreach:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                 f"capturable=False and foreach=True")
            if beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
    return tuple(b.squeeze() if isinstance(b, Tensor) and b.dim() != 0 else b for b in betas)
