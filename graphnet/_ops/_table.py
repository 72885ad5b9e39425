"""The one op table. Every graphnet op is one `OpDef`: its name, its JAX kernel, its fusion
kind and how it prints. The eager path (`graphnet._dispatch`) and the compiler's lowering call
the same `impl`, so static and dynamic execution cannot drift apart."""

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

    def __post_init__(self):
        assert self.kind in KINDS, self.kind


OPS: dict[str, OpDef] = {}


def defop(name: str, kind: str, *, n_outputs: int = 1, differentiable: bool = True,
          torch_name: str | None = None, nondiff_inputs: tuple[int, ...] = ()):
    """Register the decorated function as the JAX kernel of op `name`.

    The kernel takes arrays (or Python scalars) positionally and static attributes as
    keywords, and returns one array (or a tuple of `n_outputs` arrays)."""

    def register(impl: Callable) -> Callable:
        assert name not in OPS, f"op {name} registered twice"
        OPS[name] = OpDef(name, impl, kind, n_outputs, differentiable,
                          torch_name or f"torch.{name}", nondiff_inputs)
        return impl

    return register
