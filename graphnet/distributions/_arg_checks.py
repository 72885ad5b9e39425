"""PyTorch's construction-time parameter check for the distributions whose parameters are
properties (HalfNormal's `scale` is its base Normal's): `_validate_params` in _base.py
reads only attributes set on the instance."""

from __future__ import annotations

from .._tensor import Tensor
from .constraints import is_dependent

EULER_CONSTANT = 0.57721566490153286060   # PyTorch's torch.distributions.utils value


def check_args(dist, names=None) -> None:
    """Check `names` (default: every entry of `arg_constraints`, in order) against their
    constraints, as PyTorch's Distribution.__init__ does (`Distribution._check`)."""
    for name, constraint in dist.arg_constraints.items():
        if (names is not None and name not in names) or is_dependent(constraint):
            continue
        value = getattr(dist, name, None)
        if dist._validate_args and isinstance(value, Tensor):
            dist._check(name, value, constraint.check(value), repr(constraint))
