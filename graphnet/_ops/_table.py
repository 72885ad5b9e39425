"""The one op table. Every graphnet op is one `OpDef`: its name, its JAX kernel, its fusion
kind and how it prints. The eager path (`graphnet._dispatch`) and the compiler's lowering call
the same `impl`, so static and dynamic execution cannot drift apart.

An op that reads integer indices or class labels also has a `check` (`ValueCheck`): JAX
clamps or wraps an out-of-range index silently, so the check says when the inputs are bad
and which exception PyTorch raises for them. Eager mode evaluates it before the kernel; a
compiled program computes it alongside and raises after the call (see compiler/lower.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

# Fusion kinds, read by compiler/passes/fuse.py:
#   elementwise  same-shape pointwise math (relu, exp, add of equal shapes ...)
#   broadcast    pointwise with broadcasting or a cheap layout change (add with bias, reshape)
#   reduction    reduces one or more axes (sum, softmax, cross_entropy)
#   contraction  matmul-like: linear, matmul, conv
#   opaque       anything else (random, indexing, optimizer updates); a kernel of its own
KINDS = ("elementwise", "broadcast", "reduction", "contraction", "opaque")


@dataclass(frozen=True)
class OpDef:
    name: str
    impl: Callable
    kind: str
    n_outputs: int = 1  # 0: a tuple whose length depends on the inputs (optimizer updates)
    differentiable: bool = True
    torch_name: str | None = None
    # Indices of inputs that never carry gradients (labels, RNG keys, indices).
    nondiff_inputs: tuple[int, ...] = field(default=())
    check: ValueCheck | None = None

    def __post_init__(self):
        assert self.kind in KINDS, self.kind


@dataclass(frozen=True)
class ValueCheck:
    """When an op's input values are bad, and PyTorch's error for them.

    `find(*arrays, **attrs) -> (bad, facts)`: a bool scalar and up to `N_FACTS` integer
    scalars (the offending value, its dimension, the dimension's size). It is written with
    operators and array methods (helpers in _checks.py), so the same rule runs on NumPy
    arrays on the host and on JAX arrays inside a compiled program. Inputs before
    `values_from` are read for their shape only (the logits of cross_entropy, the table of
    embedding). `error(facts, **attrs) -> Exception`: the exception PyTorch raises, built
    from the facts as Python ints."""

    find: Callable
    error: Callable
    values_from: int = 1


N_FACTS = 3   # facts per check: a compiled program returns one int64 row [bad, *facts] each


OPS: dict[str, OpDef] = {}


def defop(name: str, kind: str, *, n_outputs: int = 1, differentiable: bool = True,
          torch_name: str | None = None, nondiff_inputs: tuple[int, ...] = (),
          check: ValueCheck | None = None):
    """Register the decorated function as the JAX kernel of op `name`.

    The kernel takes arrays (or Python scalars) positionally and static attributes as
    keywords, and returns one array (or a tuple of `n_outputs` arrays). `check` guards its
    integer index or label inputs (see `ValueCheck`)."""

    def register(impl: Callable) -> Callable:
        assert name not in OPS, f"op {name} registered twice"
        OPS[name] = OpDef(name, impl, kind, n_outputs, differentiable,
                          torch_name or f"torch.{name}", nondiff_inputs, check)
        return impl

    return register
