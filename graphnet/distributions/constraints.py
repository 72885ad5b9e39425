"""`graphnet.distributions.constraints`: the sets a parameter or a sample must lie in, as
torch.distributions.constraints names them. `check(value)` gives a bool tensor over the
batch (event dims reduced), which `validate_args` turns into PyTorch's ValueError.

>>> from graphnet.distributions import constraints
>>> constraints.positive.check(graphnet.tensor([1.0, -1.0]))   # tensor([True, False])
"""

from __future__ import annotations

__all__ = ["Constraint", "boolean", "cat", "corr_cholesky", "dependent",
           "dependent_property", "greater_than", "greater_than_eq", "half_open_interval",
           "independent", "integer_interval", "interval", "is_dependent", "less_than",
           "lower_cholesky", "lower_triangular", "multinomial", "nonnegative",
           "nonnegative_integer", "one_hot", "positive", "positive_definite",
           "positive_integer", "real", "real_vector", "simplex", "stack", "symmetric",
           "unit_interval"]


class Constraint:
    """A region of values. `event_dim` trailing dims make up one event; `check` reduces them."""

    is_discrete = False
    event_dim = 0

    def check(self, value):
        raise NotImplementedError(f"{type(self).__name__[1:]} has no check")

    def __repr__(self) -> str:
        return type(self).__name__[1:] + "()"


class _Dependent(Constraint):
    """A support that depends on the parameters (Uniform's [low, high)): never checked here."""

    def __init__(self, *, is_discrete=False, event_dim=0):
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def __call__(self, *, is_discrete=False, event_dim=0):
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, value):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint) -> bool:
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """`@constraints.dependent_property` on a distribution's `support`: a property whose
    class-level value is a dependent constraint."""

    def __init__(self, fn=None, *, is_discrete=False, event_dim=0):
        property.__init__(self, fn)
        _Dependent.__init__(self, is_discrete=is_discrete, event_dim=event_dim)

    def __call__(self, fn):
        return _DependentProperty(fn, is_discrete=self.is_discrete, event_dim=self.event_dim)


class _IndependentConstraint(Constraint):
    """`base_constraint` over the last `reinterpreted_batch_ndims` dims, all at once."""

    def __init__(self, base_constraint, reinterpreted_batch_ndims: int):
        self.base_constraint, self.reinterpreted_batch_ndims = \
            base_constraint, reinterpreted_batch_ndims

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value):
        ok = self.base_constraint.check(value)
        n = self.reinterpreted_batch_ndims
        return ok.reshape(tuple(ok.shape[:ok.dim() - n]) + (-1,)).all(-1) if n else ok

    def __repr__(self) -> str:
        return f"IndependentConstraint({self.base_constraint!r}, " \
               f"{self.reinterpreted_batch_ndims})"


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        return (value == 0) | (value == 1)


class _Real(Constraint):
    def check(self, value):
        return value == value   # NaN is the only real-typed value outside the reals


class _Bounds(Constraint):
    """A one-sided or two-sided bound; `_ok` compares, `repr` lists the bounds as torch."""

    def __init__(self, **bounds):
        self._bounds = bounds
        for k, v in bounds.items():
            setattr(self, k, v)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self._bounds.items())
        return f"{type(self).__name__[1:]}({args})"


class _GreaterThan(_Bounds):
    def check(self, value):
        return self.lower_bound < value


class _GreaterThanEq(_Bounds):
    def check(self, value):
        return self.lower_bound <= value


class _LessThan(_Bounds):
    def check(self, value):
        return value < self.upper_bound


class _Interval(_Bounds):
    def check(self, value):
        return (self.lower_bound <= value) & (value <= self.upper_bound)


class _HalfOpenInterval(_Bounds):
    def check(self, value):
        return (self.lower_bound <= value) & (value < self.upper_bound)


class _IntegerInterval(_Bounds):
    is_discrete = True

    def check(self, value):
        return (value % 1 == 0) & (self.lower_bound <= value) & (value <= self.upper_bound)


class _IntegerGreaterThan(_Bounds):
    is_discrete = True

    def check(self, value):
        return (value % 1 == 0) & (value >= self.lower_bound)


class _OneHot(Constraint):
    """Vectors of zeros with a single one (OneHotCategorical's samples)."""
    is_discrete = True
    event_dim = 1

    def check(self, value):
        return ((value == 0) | (value == 1)).all(-1) & (value.sum(-1) == 1)


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value):
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _LowerTriangular(Constraint):
    event_dim = 2

    def check(self, value):
        return (value.tril() == value).flatten(-2).all(-1)


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        lower = (value.tril() == value).flatten(-2).all(-1)
        return lower & (value.diagonal(dim1=-2, dim2=-1) > 0).all(-1)


class _CorrCholesky(Constraint):
    """Cholesky factors of correlation matrices: lower triangular, positive diagonal, every
    row of unit length (LKJCholesky's samples)."""
    event_dim = 2

    def check(self, value):
        from .. import finfo, linalg

        tol = finfo(value.dtype).eps * value.shape[-1] * 10   # PyTorch's fudge factor
        row_norm = linalg.norm(value.detach(), dim=-1)
        unit_rows = ((row_norm - 1.0).abs() <= tol).all(-1)
        return _LowerCholesky().check(value) & unit_rows


class _Symmetric(Constraint):
    event_dim = 2

    def check(self, value):
        if value.dim() < 2 or value.shape[-1] != value.shape[-2]:
            return value.new_zeros(tuple(value.shape[:-2]), dtype=_bool()) \
                if value.dim() >= 2 else value.new_zeros((), dtype=_bool())
        return ((value - value.mT).abs() <= 1e-6 + 1e-5 * value.mT.abs()).flatten(-2).all(-1)


class _PositiveDefinite(_Symmetric):
    def check(self, value):
        from .. import linalg

        from ._checked import concrete

        symmetric = super().check(value)
        if not concrete(symmetric):   # traced: no branch on the values (_checked.py)
            return symmetric & (linalg.eigvalsh(value).min(-1).values > 0)
        if not bool(symmetric.all()):
            return symmetric
        return linalg.eigvalsh(value).min(-1).values > 0


class _Multinomial(Constraint):
    """Count vectors of at most `upper_bound` in all (Multinomial's samples)."""
    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return (value >= 0).all(-1) & (value.sum(-1) <= self.upper_bound)


class _Cat(Constraint):
    """`cseq[i]` on the i-th slice of `lengths[i]` entries along `dim` (CatTransform's
    domain and codomain)."""

    def __init__(self, cseq, dim: int = 0, lengths=None):
        if not all(isinstance(c, Constraint) for c in cseq):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq = list(cseq)
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise AssertionError(f"lengths ({len(self.lengths)}) must match cseq "
                                 f"({len(self.cseq)})")
        self.dim = dim

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        return max(c.event_dim for c in self.cseq)

    def check(self, value):
        from .. import cat as cat_tensors

        _check_dim(self.dim, value)
        checks, start = [], 0
        for constraint, length in zip(self.cseq, self.lengths):
            checks.append(constraint.check(value.narrow(self.dim, start, length)))
            start += length
        return cat_tensors(checks, self.dim)


class _Stack(Constraint):
    """`cseq[i]` on the i-th entry along `dim` (StackTransform's domain and codomain)."""

    def __init__(self, cseq, dim: int = 0):
        if not all(isinstance(c, Constraint) for c in cseq):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq, self.dim = list(cseq), dim

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        dim = max(c.event_dim for c in self.cseq)
        return dim + 1 if self.dim + dim < 0 else dim

    def check(self, value):
        from .. import stack as stack_tensors

        _check_dim(self.dim, value)
        parts = [value.select(self.dim, i) for i in range(value.shape[self.dim])]
        return stack_tensors([c.check(v) for v, c in zip(parts, self.cseq)], self.dim)


def _check_dim(dim: int, value) -> None:
    if not -value.dim() <= dim < value.dim():
        raise AssertionError(f"dim {dim} out of range for value with {value.dim()} dimensions")


def _bool():
    from .. import bool as bool_dtype

    return bool_dtype


dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(lower_bound=0.0)
nonnegative = _GreaterThanEq(lower_bound=0.0)
greater_than = (lambda lower_bound: _GreaterThan(lower_bound=lower_bound))
greater_than_eq = (lambda lower_bound: _GreaterThanEq(lower_bound=lower_bound))
less_than = (lambda upper_bound: _LessThan(upper_bound=upper_bound))
unit_interval = _Interval(lower_bound=0.0, upper_bound=1.0)
interval = (lambda lower_bound, upper_bound:
            _Interval(lower_bound=lower_bound, upper_bound=upper_bound))
half_open_interval = (lambda lower_bound, upper_bound:
                      _HalfOpenInterval(lower_bound=lower_bound, upper_bound=upper_bound))
integer_interval = (lambda lower_bound, upper_bound:
                    _IntegerInterval(lower_bound=lower_bound, upper_bound=upper_bound))
nonnegative_integer = _IntegerGreaterThan(lower_bound=0)
positive_integer = _IntegerGreaterThan(lower_bound=1)
simplex = _Simplex()
one_hot = _OneHot()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
symmetric = _Symmetric()
positive_definite = _PositiveDefinite()
multinomial = _Multinomial
cat = _Cat
stack = _Stack
