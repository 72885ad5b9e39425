"""The concrete pruning methods of `nn.utils.prune` (graphnet/nn/utils/prune.py has the base
class, the container and the functions that apply them). Each computes a mask eagerly, as
PyTorch's does: smallest |value| (L1), smallest channel norm (Ln), a given mask, or random
entries and channels (from graphnet's generator, so not PyTorch's draws)."""

from __future__ import annotations

from ... import _factories as fac
from ... import _sorting as sorting
from ..._tensor import Tensor
from .prune import (
    BasePruningMethod, _channels, _check_amount, _check_structured, _count, _zeroed,
)

__all__ = ["CustomFromMask", "L1Unstructured", "LnStructured", "RandomStructured",
           "RandomUnstructured"]


class _Unstructured(BasePruningMethod):
    """Prune `amount` entries (a count, or a fraction of them): those `_chosen` picks."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount) -> None:
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        k = _count(self.amount, t.numel())
        mask = default_mask.clone()
        if k == 0:
            return mask
        return _zeroed(mask, self._chosen(t, k))


class RandomUnstructured(_Unstructured):
    """Prune `amount` entries chosen at random."""

    def _chosen(self, t: Tensor, k: int) -> Tensor:
        return sorting.topk(fac.rand_like(t).reshape(-1), k).indices

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(_Unstructured):
    """Prune the `amount` entries smallest in absolute value."""

    def _chosen(self, t: Tensor, k: int) -> Tensor:
        return sorting.topk(t.abs().reshape(-1), k, largest=False).indices

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class _Structured(BasePruningMethod):
    """Prune `amount` channels along `dim`: those `_kept` does not keep."""

    PRUNING_TYPE = "structured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        _check_structured(t)
        if self.dim >= t.dim():   # PyTorch's _validate_pruning_dim
            raise IndexError(f"Invalid index {self.dim} for tensor of size {t.shape}")
        size = t.shape[self.dim]
        k = _count(self.amount, size)
        if k == 0:
            return default_mask
        mask = _channels(t, self.dim, self._kept(t, size, k))
        return mask * default_mask.to(dtype=mask.dtype)


class RandomStructured(_Structured):
    """Prune `amount` channels along `dim`, chosen at random."""

    def __init__(self, amount, dim: int = -1) -> None:
        _check_amount(amount)
        self.amount = amount
        self.dim = dim

    def _kept(self, t: Tensor, size: int, k: int) -> Tensor:
        drawn = fac.rand(size)
        return drawn > sorting.kthvalue(drawn, k).values

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


def _norms(t: Tensor, n, dim: int) -> Tensor:
    dims = [d for d in range(t.dim()) if d != dim % t.dim()]
    return t.norm(p=n, dim=dims)


class LnStructured(_Structured):
    """Prune the `amount` channels along `dim` with the smallest L`n` norm."""

    def __init__(self, amount, n, dim: int = -1) -> None:
        _check_amount(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def _kept(self, t: Tensor, size: int, k: int) -> Tensor:
        return sorting.topk(_norms(t, self.n, self.dim), size - k, largest=True).indices

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prune by a given mask."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if default_mask.shape != self.mask.shape:   # PyTorch's assertion, with its words
            raise AssertionError(f"default_mask shape {default_mask.shape} must match "
                                 f"self.mask shape {self.mask.shape}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)
