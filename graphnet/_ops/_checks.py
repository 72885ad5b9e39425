"""Value checks: the rules that catch out-of-range indices and class labels.

JAX never fails on a bad index: a gather clamps it, a scatter drops it, a negative one wraps
like Python. PyTorch raises. Each op that reads integer indices or labels has one rule next
to its kernel: `defop(..., check=ValueCheck(find, error))`, built from the helpers here.

A rule runs on the host with NumPy (`host_error`) when the values it reads are at hand: every
eager call (`check_eagerly`, before the kernel) and, in a compiled call, every check of the
program's inputs, before the program starts. Only a check of a value the program computes
itself runs inside it (`check_row` on JAX arrays, compiler/checks.py). Host checks cost no
device round trip, so the program stays asynchronous."""

from __future__ import annotations

import weakref

import jax
import jax.numpy as jnp
import numpy as np

from .._x64 import x64
from ._table import N_FACTS, ValueCheck


def _xp(*arrays):
    """jax.numpy inside a compiled program (any JAX array or tracer), else NumPy."""
    return jnp if any(isinstance(a, jax.Array) for a in arrays) else np


def first_where(bad_mask, values):
    """(any bad, the first bad value in row-major order): PyTorch reports the first it meets."""
    xp = _xp(bad_mask, values)
    bad_mask, values = xp.asarray(bad_mask), xp.asarray(values)
    if values.size == 0:
        return xp.asarray(False), xp.asarray(0, xp.int64)
    flat = xp.broadcast_to(bad_mask, values.shape).reshape(-1)
    if xp is np and not flat.any():   # the host's common case: done, nothing to find
        return False, 0
    return flat.any(), values.reshape(-1)[xp.argmax(flat)].astype(xp.int64)


def first_failure(candidates):
    """(bad, facts) of the first candidate `(bad, facts)` that is bad; every facts tuple is
    padded to N_FACTS. Used when one op checks several index tensors."""
    xp = _xp(*[a for bad, facts in candidates for a in (bad, *facts)])
    bad, facts = xp.asarray(False), (xp.asarray(0, xp.int64),) * N_FACTS
    for cand_bad, cand_facts in reversed(candidates):
        cand_facts = _padded(xp, cand_facts)
        facts = tuple(xp.where(cand_bad, new, old) for new, old in zip(cand_facts, facts))
        bad = bad | cand_bad
    return bad, facts


def _padded(xp, facts) -> tuple:
    assert len(facts) <= N_FACTS, facts
    return tuple(xp.asarray(f, xp.int64) for f in facts) + \
        (xp.asarray(0, xp.int64),) * (N_FACTS - len(facts))


def check_row(check: ValueCheck, arrays, attrs: dict):
    """int64 [1 + N_FACTS]: [bad, *facts] of one call (NumPy or JAX, as the inputs are)."""
    bad, facts = check.find(*arrays, **attrs)
    xp = _xp(bad, *facts)
    return xp.stack([xp.asarray(bad).astype(xp.int64), *_padded(xp, facts)])


def host_error(check: ValueCheck, arrays, attrs: dict) -> Exception | None:
    """PyTorch's exception if the check fails on `arrays`, evaluated with NumPy, else None.
    Inputs before `check.values_from` only lend their shape (a zero-strided stand-in:
    nothing is copied off the device); the others are fetched, which waits for nothing but
    their own producers."""
    host = [(a if isinstance(a, np.ndarray) else shape_only(a)) if i < check.values_from
            else np.asarray(a) if a is not None else None for i, a in enumerate(arrays)]
    # NOTE: in 64-bit mode, as the op's own computation: a check that calls jax.numpy on a
    # float64 matrix (cholesky's, inv's pivots) read it as float32 and refused matrices
    # PyTorch factors (a GP's Gram matrix with 1e-8 jitter: "not positive-definite")
    with x64():
        bad, facts = check.find(*host, **attrs)
    return check.error(tuple(int(f) for f in facts), **attrs) if bad else None


def shape_only(a):
    """A NumPy stand-in with `a`'s shape and dtype and no data (anything with .shape/.dtype,
    e.g. a graph Value); other objects (Python numbers, None) pass through."""
    if hasattr(a, "shape") and hasattr(a, "dtype"):
        return np.broadcast_to(np.zeros((), a.dtype), a.shape)
    return a


def row_error(check: ValueCheck, row, attrs: dict) -> Exception | None:
    """The exception a row stands for, or None when its inputs were fine."""
    row = [int(v) for v in np.asarray(row)]
    return check.error(tuple(row[1:]), **attrs) if row[0] else None


def check_eagerly(opdef, attrs_key, attrs: dict, arrays) -> None:
    """Raise PyTorch's error if `arrays` are bad inputs of `opdef` (dispatch calls this before
    an eager op runs, `attrs_key` its attributes as a tuple). Evaluated on the host: no
    kernel to compile. NOTE: a JAX array never changes, so the arrays whose values the check
    read and that passed stay passed for the same op, attributes and shapes of the other
    inputs (compiler/checks.py's HostChecks does the same for compiled calls): a training loop
    feeding the same label tensor pays a dict lookup and an identity test, not NumPy's
    11 us (more right after a step: the host round waits behind XLA's threads)."""
    check = opdef.check
    if any(isinstance(a, jax.core.Tracer) for a in arrays[check.values_from:]):
        return _check_mapped(check, arrays, attrs)
    shapes = tuple((a.shape, a.dtype) if hasattr(a, "shape") else a
                   for a in arrays[:check.values_from])
    read = arrays[check.values_from:]
    try:
        key = (opdef.name, attrs_key, shapes)
        passed = _PASSED.get(key)
    except TypeError:   # an unhashable argument: checked every time
        key = passed = None
    if passed is not None and len(passed) == len(read) and all(
            ref() is a for ref, a in zip(passed, read)):
        return
    error = host_error(check, arrays, attrs)
    if error is not None:
        raise error
    if key is not None and all(isinstance(a, jax.Array) for a in read):
        if len(_PASSED) >= _MAX_PASSED:
            _PASSED.clear()
        _PASSED[key] = [weakref.ref(a) for a in read]


def _check_mapped(check: ValueCheck, arrays, attrs: dict) -> None:
    """`check_eagerly` for values that are JAX tracers: under `graphnet.func.vmap` an op sees
    one sample, whose value NumPy cannot read (`np.asarray` of a BatchTracer raises). The
    check's row is computed with jax.numpy on the tracers, which batches it, and the rows of
    all samples are read from the concrete array under the batch tracers. NOTE: the error
    names the failing sample's own dimensions (PyTorch's names the batched tensor's, one
    higher). Values that are not concrete (abstract tracers, as under jax.jit) go unchecked:
    PyTorch's vmap also misses some (one_hot, embedding of an out-of-range index)."""
    with jax.enable_x64(True):   # int64 facts, as graphnet's kernels (graphnet/_x64.py)
        rows = _samples(check_row(check, arrays, attrs))
    if rows is None:
        return
    rows = rows.reshape(-1, rows.shape[-1])
    bad = rows[:, 0] != 0
    if bad.any():
        raise row_error(check, rows[int(np.argmax(bad))], attrs)


def _samples(x):
    """The concrete values under a (nest of) batch tracers as a NumPy array, every batch
    dimension moved to the front; None when some level is not concrete."""
    if not isinstance(x, jax.core.Tracer):
        return np.asarray(x)
    if hasattr(x, "batch_dim") and hasattr(x, "val"):   # jax.vmap's BatchTracer
        inner = _samples(x.val)
        if inner is None or x.batch_dim is None:   # None: not mapped at this level
            return inner
        if not isinstance(x.batch_dim, int):       # a ragged axis: not read here
            return None
        # the levels above this one are already in front of `inner`; this one goes after them
        n_outer = inner.ndim - np.ndim(x.val)
        return np.moveaxis(inner, n_outer + x.batch_dim, n_outer)
    primal = getattr(x, "primal", None)   # differentiated (jax.vjp in vmap's backward)
    return None if primal is None else _samples(primal)


# (op, attributes, the shape-only inputs' shapes and dtypes) -> weak references to the arrays
# that last passed its check (a dead array's id may be reused, a dead weakref never matches)
_PASSED: dict = {}
_MAX_PASSED = 256


def out_of_bounds(index, dim: int, size: int, negative_ok: bool):
    """(bad, (value, dim, size)): an index outside [0, size), or [-size, size) where negative
    indices count from the end."""
    low = -size if negative_ok else 0
    bad, value = first_where((index < low) | (index >= size), index)
    return bad, (value, dim, size)


def bounds_message(facts) -> str:
    value, dim, size = facts
    return f"index {value} is out of bounds for dimension {dim} with size {size}"
