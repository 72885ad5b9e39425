"""Importing this package fills the op table."""

from . import contract, loss, pointwise, random, reduce, shape  # noqa: F401  (registration)
from ._table import KINDS, OPS, OpDef, defop

__all__ = ["KINDS", "OPS", "OpDef", "defop"]
