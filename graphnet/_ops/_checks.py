"""Value checks: the rules that catch out-of-range indices and class labels.

JAX never fails on a bad index: a gather clamps it, a scatter drops it, a negative one wraps
like Python. PyTorch raises. Each op that reads integer indices or labels names one rule
next to its kernel: `defop(..., check=ValueCheck(find, error))`, built from the helpers
here. The same rule runs eagerly (`check_eagerly`,
before the kernel) and inside compiled programs (`check_row`, via compiler/lower.py), so both
modes refuse the same inputs with the same exception type."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._table import N_FACTS, ValueCheck


def first_where(bad_mask, values):
    """(any bad, the first bad value in row-major order): PyTorch reports the first it meets."""
    bad_mask, values = jnp.asarray(bad_mask), jnp.asarray(values)
    if bad_mask.size == 0:
        return jnp.zeros((), bool), jnp.zeros((), jnp.int64)
    flat = jnp.broadcast_to(bad_mask, values.shape).reshape(-1)
    return flat.any(), values.reshape(-1)[jnp.argmax(flat)].astype(jnp.int64)


def first_failure(candidates):
    """(bad, facts) of the first candidate `(bad, facts)` that is bad; every facts tuple is
    padded to N_FACTS. Used when one op checks several index tensors."""
    bad = jnp.zeros((), bool)
    facts = (jnp.zeros((), jnp.int64),) * N_FACTS
    for cand_bad, cand_facts in reversed(candidates):
        cand_facts = _padded(cand_facts)
        facts = tuple(jnp.where(cand_bad, new, old) for new, old in zip(cand_facts, facts))
        bad = bad | cand_bad
    return bad, facts


def _padded(facts) -> tuple:
    facts = tuple(jnp.asarray(f, jnp.int64) for f in facts)
    assert len(facts) <= N_FACTS, facts
    return facts + (jnp.zeros((), jnp.int64),) * (N_FACTS - len(facts))


def check_row(check: ValueCheck, arrays, attrs: dict):
    """int64 [1 + N_FACTS]: [bad, *facts] of one call, a JAX array (traceable)."""
    bad, facts = check.find(*arrays, **attrs)
    return jnp.stack([jnp.asarray(bad).astype(jnp.int64), *_padded(facts)])


def row_error(check: ValueCheck, row, attrs: dict) -> Exception | None:
    """The exception a fetched row stands for, or None when its inputs were fine."""
    row = [int(v) for v in np.asarray(row)]
    return check.error(tuple(row[1:]), **attrs) if row[0] else None


_rows: dict = {}   # (op, attributes) -> jitted check_row


def check_eagerly(opdef, attrs_key, attrs: dict, arrays) -> None:
    """Raise PyTorch's error if `arrays` are bad inputs of `opdef` (called by dispatch before
    an eager op runs). One jitted check per (op, attributes), one small host read per call."""
    fn = _rows.get((opdef.name, attrs_key))
    if fn is None:
        check = opdef.check
        fn = _rows[(opdef.name, attrs_key)] = jax.jit(
            lambda *a: check_row(check, a, attrs))
    error = row_error(opdef.check, fn(*arrays), attrs)
    if error is not None:
        raise error


def out_of_bounds(index, dim: int, size: int, negative_ok: bool):
    """(bad, (value, dim, size)): an index outside [0, size), or [-size, size) where negative
    indices count from the end."""
    low = -size if negative_ok else 0
    bad, value = first_where((index < low) | (index >= size), index)
    return bad, (value, dim, size)


def bounds_message(facts) -> str:
    value, dim, size = facts
    return f"index {value} is out of bounds for dimension {dim} with size {size}"
