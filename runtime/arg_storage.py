"""Arguments that are views of a tensor the program also holds.

`f = graphnet.compile(lambda a: a.mul_(10)); f(x[1:3])`: the in-place write to the view
reaches `x`, so the trace lifts `x` as state and the program writes `x` back. A later call
`f(y[1:3])` has the same shapes and passes every guard, yet the program would write the old
`x` and leave `y` alone. So an artifact remembers, for each argument whose storage belongs
to a tensor it holds as state, that tensor; a call whose argument lives in another tensor's
storage traces again. Arguments that are views of tensors the program does not hold (a batch
sliced from a new tensor each step) are not checked: nothing of their storage is baked in."""

from __future__ import annotations

from graphnet._overlap import owner
from graphnet._tensor import Tensor


def storage_checks(artifact, leaves) -> list:
    """[(argument position, the storage owner it had)] for the arguments that share storage
    with a tensor `artifact` reads or writes as state."""
    held = {id(owner(obj)) for kind, obj in artifact.sources if kind == "state"}
    held |= {id(owner(e[1])) for e in artifact.traced.effects
             if e is not None and e[0] == "state"}
    checks = []
    for i, a in enumerate(leaves):
        if isinstance(a, Tensor):
            base = owner(a)
            if base is not a and id(base) in held:
                checks.append((i, base))
    return checks


def storage_failure(checks, leaves) -> str | None:
    for i, base in checks:
        if owner(leaves[i]) is not base:
            return f"input {i} is a view of another tensor than the one traced, whose " \
                   f"storage the program holds"
    return None
