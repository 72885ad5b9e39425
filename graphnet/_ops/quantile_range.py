"""`checked_quantile_q`: the identity on quantile's tensor `q`, with PyTorch's check that
every value lies in [0, 1] (NaN does not). The check runs wherever the op table's value
checks run: eagerly before the kernel, on a compiled call's inputs on the host, or inside
the program for a `q` it computes (compiler/checks.py); a Python float `q` is checked where
it is given (graphnet/_math_reduce.py)."""

from __future__ import annotations

from ._table import ValueCheck, defop


def _outside(q):
    bad = ~((q >= 0) & (q <= 1))   # NaN compares False both ways: outside
    return bad.any(), ()


def _outside_error(facts):
    return RuntimeError("quantile() q values must be in the range [0, 1]")


@defop("checked_quantile_q", "opaque", function=None, method=None,
       check=ValueCheck(_outside, _outside_error, values_from=0))
def checked_quantile_q(q):
    """`q` unchanged, once its values are known to lie in [0, 1]."""
    return q
