"""`biject_to(constraint)` and `transform_to(constraint)`: a transform from the reals onto a
constraint's set, to optimise a constrained parameter in unconstrained space. `biject_to`
gives a bijection (usable for HMC, log-Jacobians exact); `transform_to` may give a cheaper
map that is not one (softmax onto the simplex). Both look the constraint's class up in a
table, as PyTorch's ConstraintRegistry does; `register` adds entries.

>>> from graphnet.distributions import biject_to, constraints
>>> t = biject_to(constraints.positive)        # exp, then + 0
>>> scale = t(unconstrained)                   # always > 0
"""

from __future__ import annotations

import numbers

from . import constraints
from ._lkj import CorrCholeskyTransform
from ._transforms_pointwise import (LowerCholeskyTransform, PositiveDefiniteTransform,
                                    SoftmaxTransform, StickBreakingTransform)
from ._transforms_structural import CatTransform, IndependentTransform, StackTransform
from .transforms import AffineTransform, ComposeTransform, ExpTransform, SigmoidTransform, \
    identity_transform

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]


class ConstraintRegistry:
    """Constraint class -> factory(constraint) returning a Transform."""

    def __init__(self):
        self._registry = {}

    def register(self, constraint, factory=None):
        """`register(constraints.positive, factory)` or as a decorator; a constraint
        instance stands for its class (all `greater_than(...)` share one entry)."""
        if factory is None:
            return lambda factory: self.register(constraint, factory)
        if isinstance(constraint, constraints.Constraint):
            constraint = type(constraint)
        if not isinstance(constraint, type) or \
                not issubclass(constraint, constraints.Constraint):
            raise TypeError(f"Expected constraint to be either a Constraint subclass or "
                            f"instance, but got {constraint}")
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint):
        try:
            factory = self._registry[type(constraint)]
        except KeyError:
            raise NotImplementedError(
                f"Cannot transform {type(constraint).__name__} constraints") from None
        return factory(constraint)


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _both(*kinds):
    """Register one factory for `kinds` in both tables."""
    def register(factory):
        for kind in kinds:
            biject_to.register(kind, factory)
            transform_to.register(kind, factory)
        return factory
    return register


@_both(constraints.real)
def _to_real(constraint):
    return identity_transform


def _independent(table):
    # NOTE: the base constraint is looked up in the same table, so
    # transform_to(independent(simplex, 1)) uses softmax and biject_to stick breaking
    def factory(constraint):
        return IndependentTransform(table(constraint.base_constraint),
                                    constraint.reinterpreted_batch_ndims)
    return factory


biject_to.register(constraints.real_vector, _independent(biject_to))
transform_to.register(constraints.real_vector, _independent(transform_to))


@_both(constraints.positive, constraints.nonnegative)
def _to_greater_than(constraint):
    # NOTE: positive and nonnegative share greater_than's classes, and PyTorch's
    # registration order makes them exp followed by + lower_bound as well
    return ComposeTransform([ExpTransform(), AffineTransform(constraint.lower_bound, 1)])


@_both(constraints.less_than(0.0))
def _to_less_than(constraint):
    return ComposeTransform([ExpTransform(), AffineTransform(constraint.upper_bound, -1)])


@_both(constraints.unit_interval, constraints.half_open_interval(0.0, 1.0))
def _to_interval(constraint):
    lower, upper = constraint.lower_bound, constraint.upper_bound
    if isinstance(lower, numbers.Number) and lower == 0 and \
            isinstance(upper, numbers.Number) and upper == 1:
        return SigmoidTransform()
    return ComposeTransform([SigmoidTransform(), AffineTransform(lower, upper - lower)])


_both(constraints.corr_cholesky)(lambda constraint: CorrCholeskyTransform())
biject_to.register(constraints.simplex, lambda constraint: StickBreakingTransform())
transform_to.register(constraints.simplex, lambda constraint: SoftmaxTransform())
transform_to.register(constraints.lower_cholesky, lambda constraint: LowerCholeskyTransform())
transform_to.register(constraints.positive_definite,
                      lambda constraint: PositiveDefiniteTransform())


def _cat(table):
    def factory(constraint):
        return CatTransform([table(c) for c in constraint.cseq], constraint.dim,
                            constraint.lengths)
    return factory


def _stack(table):
    def factory(constraint):
        return StackTransform([table(c) for c in constraint.cseq], constraint.dim)
    return factory


for _table in (biject_to, transform_to):
    _table.register(constraints.cat, _cat(_table))
    _table.register(constraints.stack, _stack(_table))
