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
#   opaque       anything else (random, indexing, scans like cumsum, optimizer updates); a
#                kernel of its own
KINDS = ("elementwise", "broadcast", "reduction", "contraction", "opaque")


@dataclass(frozen=True)
class OpDef:
    name: str
    impl: Callable
    kind: str
    n_outputs: int = 1  # 0: a tuple whose length depends on the inputs (optimizer updates)
    differentiable: bool = True
    # Indices of inputs that never carry gradients (labels, RNG keys, indices).
    nondiff_inputs: tuple[int, ...] = field(default=())
    check: ValueCheck | None = None
    # Names: where users reach the op (see `defop` for the defaults). Paths are relative to
    # the `graphnet` package: "exp", "nn.functional.relu".
    functions: tuple[str, ...] = ()  # top-level functions, the first one the op's own
    methods: tuple[str, ...] = ()    # Tensor methods
    inplace: tuple[str, ...] = ()    # in-place Tensor methods ("add_")
    dump: str | None = None          # the call a code dump writes (None: dispatch("op", ...))
    backward: str = ""               # grad_fn's name ("AddBackward0")
    bind: str | None = None          # "unary" / "binary": graphnet's function and Tensor method
                                     # are generated from this entry (see _math.py)
    # What the compiler may do with a node of this op, asked by its passes instead of
    # recognising ops by name (structured ops: grad, cond, while_loop; see control.py):
    fields: Callable | None = None   # (inputs, attrs) -> {name: input or tuple}: named inputs
    types: Callable | None = None    # (inputs, attrs) -> output types, instead of eval_shape
    foldable: bool = True            # constant folding may run it at compile time
    mergeable: bool = True           # CSE may merge two equal nodes of it
    gradient: bool = False           # lowered with the forward nodes it differentiates
    reverse_mode: bool = True        # jax.vjp can differentiate through it
    random: bool = False             # draws from (or splits) an RNG key: two equal-looking
                                     # nodes are two draws, never merged or folded
    # (args, attrs) -> the positions of the tensor inputs whose arrays the outputs replace (an
    # optimizer writes its update back into the parameters and state it read): an eager call
    # donates them to XLA when nothing else holds them (_dispatch.run_eager)
    overwrites: Callable | None = None
    # (attrs, arrays) -> (forward, backward, static key) or None: an eager call that records a
    # tape node runs `forward(*arrays) -> (out, residuals)` and its backward
    # `backward(residuals, cts) -> cotangents` instead of recomputing the forward inside the
    # VJP (_dispatch.run_eager; a max pool keeps which element of each window won)
    eager_residuals: Callable | None = None
    # how many dimensions the op adds to its first tensor input (unsqueeze, stack): its
    # dimension attributes range over that many more (_dispatch.kernel_error)
    new_dims: int = 0

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
    # `when(**attrs) -> bool`: whether a call with these attributes checks anything at all
    # (`cholesky_ex(A)` reports in `info` unless check_errors=True); None: always
    when: Callable | None = None
    # what the check reads, for the errors that refuse one (compiler/checks.py)
    reads: str = "indices or labels"


# ValueCheck.reads of the linear-algebra checks
MATRIX_VALUES = ("a matrix whose values PyTorch checks (a singular, not positive-definite or "
                 "NaN one)")

N_FACTS = 3   # facts per check: a compiled program returns one int64 row [bad, *facts] each


OPS: dict[str, OpDef] = {}


_OWN = "<the op's name>"   # `defop`'s default for `function` and `method`


def _names(value, name: str) -> tuple[str, ...]:
    if value == _OWN:
        return (name,)
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def camel_backward(name: str) -> str:
    """`sum` -> `SumBackward0`, `log_softmax` -> `LogSoftmaxBackward0`: PyTorch's grad_fn name
    when it is just the op's name in CamelCase."""
    return "".join(p.capitalize() for p in name.split("_")) + "Backward0"


def defop(name: str, kind: str, *, n_outputs: int = 1, differentiable: bool = True,
          nondiff_inputs: tuple[int, ...] = (), check: ValueCheck | None = None,
          function=_OWN, method=_OWN, inplace=False, dump=False, backward: str | None = None,
          bind: str | None = None, **rules):
    """Register the decorated function as the JAX kernel of op `name`.

    The kernel takes arrays (or Python scalars) positionally and static attributes as
    keywords, and returns one array (or a tuple of `n_outputs` arrays). `check` guards its
    integer index or label inputs (see `ValueCheck`); `rules` set the compiler's fields of
    `OpDef` (`foldable=False`, ...).

    Names: `function` and `method` (a name, several, or None) default to the op's own name,
    so `defop("exp", ...)` is `graphnet.exp` and `Tensor.exp`; an op users never call
    directly passes `function=None, method=None`. `inplace=True` adds `m_` for every method
    `m`. `dump=True` lets a code dump write the first function (a string: that path instead),
    for ops whose function called with the node's inputs and attributes as keywords records
    exactly that node (compiler/dumps/public_names.py adds guards). `backward` defaults to
    `camel_backward(name)`. `bind="unary"`/`"binary"`: graphnet's own function and Tensor
    method are plain wrappers, generated by _math.py from this entry."""
    functions, methods = _names(function, name), _names(method, name)
    names = dict(
        functions=functions, methods=methods,
        inplace=tuple(m + "_" for m in methods) if inplace is True else
        _names(inplace or None, name),
        dump=(functions[0] if dump is True else dump) or None,
        backward=backward or camel_backward(name), bind=bind)

    def register(impl: Callable) -> Callable:
        assert name not in OPS, f"op {name} registered twice"
        OPS[name] = OpDef(name, impl, kind, n_outputs=n_outputs, differentiable=differentiable,
                          nondiff_inputs=nondiff_inputs, check=check, **names, **rules)
        return impl

    return register
