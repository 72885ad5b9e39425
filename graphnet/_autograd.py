"""Dynamic autograd: the tape that eager ops record, and `backward()` over it.

Each recorded op is a `TapeNode`. Its `edges` point at what produced its inputs: another
node (and which of its outputs) or a leaf tensor whose `.grad` receives the result. Pointing at
producers, not at tensors, keeps the tape right when a tensor is later modified in place.
Vector-Jacobian products come from JAX (`jax.vjp` of the op's own kernel), jitted once per
(op, attributes, which inputs need grads) in graphnet._dispatch's bounded kernel cache."""

from __future__ import annotations

import functools
import threading

import jax
import jax.numpy as jnp
import numpy as np

from ._ops import OPS
from ._ops._table import camel_backward


# The element types a gradient can flow through. Integer and bool tensors never require
# grad (PyTorch refuses, and JAX's derivative of an integer is a zero-sized float0).
GRAD_DTYPES = frozenset(np.dtype(d) for d in (
    "float16", "float32", "float64", "complex64", "complex128", jnp.bfloat16))

# PyTorch's words: `requires_grad_()` says "floating point dtype", factories and Parameter
# say "floating point and complex dtype".
GRAD_DTYPE_METHOD = "only Tensors of floating point dtype can require gradients"
GRAD_DTYPE_FACTORY = "Only Tensors of floating point and complex dtype can require gradients"


def check_can_require_grad(np_dtype, message: str, fix: str) -> None:
    """Raise PyTorch's RuntimeError `message` if a tensor of `np_dtype` cannot require grad."""
    if np.dtype(np_dtype) not in GRAD_DTYPES:
        raise RuntimeError(f"{message}; this one is {np.dtype(np_dtype).name}: {fix}")


class _GradMode(threading.local):
    enabled = True


grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    return grad_mode.enabled


class set_grad_enabled:
    """Context manager and decorator that turns gradient recording on or off."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self.prev = grad_mode.enabled
        grad_mode.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        grad_mode.enabled = self.prev

    def __call__(self, fn):
        mode = self.mode
        grad_mode.enabled = self.prev  # used as a decorator: do not change the mode now

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class no_grad(set_grad_enabled):
    """`with graphnet.no_grad():` runs ops without recording them for backward."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    def __init__(self):
        super().__init__(True)


def make_vjp(opdef, attrs: dict, needs: tuple):
    """`vjp(primals, cts) -> cotangents of primals[i] for i in needs`, from `jax.vjp` of the op's
    own kernel. graphnet._dispatch jits it, one per (op, attributes, needs, number of inputs),
    in its bounded kernel cache."""
    impl = functools.partial(opdef.impl, **attrs)

    def vjp(primals, cts):
        def partial_impl(*diff):
            args = list(primals)
            for i, d in zip(needs, diff):
                args[i] = d
            return impl(*args)

        _, pull = jax.vjp(partial_impl, *[primals[i] for i in needs])
        return pull(cts if opdef.n_outputs != 1 else cts[0])

    # NOTE: the forward is recomputed inside the VJP, but XLA drops whatever the VJP does not
    # use (a matmul's VJP never needs its output), so this costs little and saves nothing.
    return vjp


def backward_name(op: str) -> str:
    """grad_fn's name for op `op`: PyTorch's class name, from the op table (`SumBackward0`,
    `linear` -> `AddmmBackward0`). A compiled forward on the tape is one node named after its
    graph (`MyModel` -> `MyModelBackward0`)."""
    entry = OPS.get(op)
    return entry.backward if entry is not None else camel_backward(op)


class TapeNode:
    """One recorded op: enough to compute its inputs' cotangents from its outputs'."""

    __slots__ = ("name_", "edges", "out_avals", "saved", "_vjp")

    def __init__(self, name, edges, out_avals, saved, vjp):
        self.name_ = name  # the op; `name()` gives PyTorch's class-style name
        self.edges = edges          # per needed input: (TapeNode, out_index) | (leaf Tensor, None)
        self.out_avals = out_avals  # [(shape, dtype)] per output, to fill missing cotangents
        self.saved = saved          # the primal inputs, freed after backward
        self._vjp = vjp

    def refusal(self) -> Exception | None:
        """Why backward() cannot run through this node at all, or None. Asked of every node
        before any VJP runs, so a refused backward() leaves every `.grad` as it was."""
        return None

    def apply(self, cts):
        if self.saved is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time. The saved values were "
                "freed by the first backward(); call backward(retain_graph=True) the first time.")
        return self._vjp(self.saved, tuple(cts))

    def name(self) -> str:
        return backward_name(self.name_)

    def __repr__(self):
        return f"<{backward_name(self.name_)} object at {hex(id(self))}>"


def op_node(op: str, vjp, arrays, edges, outs) -> TapeNode:
    avals = [(o.shape, o.dtype) for o in outs]
    return TapeNode(op, edges, avals, tuple(arrays), vjp)


def _topo_order(root_node):
    """Nodes reachable from `root_node`, producers after consumers (reverse post-order)."""
    order, seen = [], {id(root_node)}
    stack = [(root_node, iter(root_node.edges))]
    while stack:
        node, it = stack[-1]
        for target, _ in it:
            if isinstance(target, TapeNode) and id(target) not in seen:
                seen.add(id(target))
                stack.append((target, iter(target.edges)))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def run_backward(root, gradient, retain_graph: bool, accumulate) -> None:
    """Propagate `gradient` (an array) from `root` to the leaves; `accumulate(leaf, array)`
    adds into a leaf's `.grad`."""
    if root.grad_fn is None:
        accumulate(root, gradient)
        return
    # NOTE: imported here: graphnet._dispatch imports this module. The eager `add` kernel,
    # from the bounded kernel cache, sums cotangents of any shape.
    from ._dispatch import eager_kernel
    pending = {id(root.grad_fn): [None] * len(root.grad_fn.out_avals)}
    pending[id(root.grad_fn)][root._oi] = gradient
    order = _topo_order(root.grad_fn)
    for node in order:
        refusal = node.refusal()
        if refusal is not None:
            raise refusal
    for node in order:
        cts = pending.pop(id(node), None)
        if cts is None:
            continue
        cts = [jnp.zeros(s, d) if c is None else c for c, (s, d) in zip(cts, node.out_avals)]
        grads = node.apply(cts)
        if not retain_graph:
            node.saved = None
        for (target, index), g in zip(node.edges, grads):
            if target is None:
                continue
            if isinstance(target, TapeNode):
                slot = pending.setdefault(id(target), [None] * len(target.out_avals))
                slot[index] = g if slot[index] is None else eager_kernel("add")(slot[index], g)
            else:
                accumulate(target, g)
