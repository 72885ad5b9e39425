"""The graph of a backward pass (`create_graph=True`): each VJP becomes one `vjp` op.

A tape node's VJP is a pure JAX function of its saved primal inputs and its output
cotangents. Recording it as an op, with those primals and cotangents as the op's inputs, puts
the backward pass itself on the tape (eagerly) or in the graph (compiled), where `jax.vjp` of
that function differentiates it again: double backward, gradient penalties, Hessian-vector
products. The same op serves `autograd.grad` inside `graphnet.compile` (compiler/grad_walk.py),
where no tape exists."""

from __future__ import annotations

import functools

from .. import _autograd
from .._autograd import TapeNode
from .._ops import OPS, defop
from .._tensor import Tensor


# NOTE: n_outputs=0: one cotangent per differentiated input, a count fixed by `fn`.
@defop("vjp", "opaque", n_outputs=0, function=None, method=None, foldable=False)
def vjp(*args, fn, n_primals):
    """`fn(primals, cotangents)`: the cotangents of a node's differentiated inputs."""
    return tuple(fn(tuple(args[:n_primals]), tuple(args[n_primals:])))


class OpVjp:
    """The VJP of one op (with its attributes) for some of its inputs, as a `vjp` node's `fn`
    attribute: callable like `make_vjp`'s function, printed deterministically in graphs."""

    __slots__ = ("fn", "text")

    def __init__(self, op: str, attrs: tuple, needs: tuple):
        self.fn = _autograd.make_vjp(OPS[op], dict(attrs), needs)
        self.text = f"<vjp of {op} for inputs {list(needs)}>"

    def __call__(self, primals, cts):
        return self.fn(primals, cts)

    def __repr__(self) -> str:
        return self.text


@functools.lru_cache(maxsize=4096)
def op_vjp(op: str, attrs: tuple, needs: tuple) -> OpVjp:
    """One `OpVjp` per key, so equal backward nodes share their kernel (and CSE may merge
    them in a graph)."""
    return OpVjp(op, attrs, needs)


class _Identity(TapeNode):
    """Stands for a leaf among a backward node's primal inputs: its cotangent goes to the
    leaf's `.grad`, unchanged."""

    __slots__ = ()

    def __init__(self, leaf, value):
        super().__init__("alias", ((leaf, None),), [(value.shape, value.dtype)], (value,),
                         _identity_vjp, (0,))

    def name(self) -> str:
        return "AccumulateGrad"


def _identity_vjp(saved, cts):
    return (cts[0],)


def _primal(node: TapeNode, position: int, edge_of: dict):
    """The saved input `position` of `node` as a Tensor: connected to its producer when the
    node differentiates it, a constant otherwise (or the Python number / None it was)."""
    value = node.saved[position]
    if position not in edge_of:
        return Tensor._wrap(value) if hasattr(value, "shape") else value
    target, index = edge_of[position]
    if isinstance(target, TapeNode):
        return Tensor._wrap(value, target, index)
    return Tensor._wrap(value, _Identity(target, value), 0)


def vjp_on_tape(node: TapeNode, cts) -> list:
    """Apply `node`'s VJP to the Tensors `cts`, recording it (grad mode is on)."""
    from .._dispatch import dispatch

    if node.needs is None:
        raise RuntimeError(
            f"create_graph=True cannot differentiate through {node.name()}: a compiled "
            f"forward (graphnet.compile(model)) joins the tape as one node whose backward is "
            f"not recorded. Call the model uncompiled for a gradient of a gradient, or compute "
            f"the whole step, gradient penalty included, inside one compiled function.")
    edge_of = dict(zip(node.needs, node.edges))
    primals = [_primal(node, i, edge_of) for i in range(len(node.saved))]
    out = dispatch("vjp", *primals, *cts, fn=node._vjp, n_primals=len(primals))
    return list(out)
