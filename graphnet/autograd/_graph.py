"""The graph of a backward pass (`create_graph=True`): each VJP becomes one `vjp` op.

A tape node's VJP is a pure JAX function of its saved primal inputs and its output
cotangents. Recording it as an op, with those primals and cotangents as the op's inputs, puts
the backward pass itself on the tape (eagerly) or in the graph (compiled), where `jax.vjp` of
that function differentiates it again: double backward, gradient penalties, Hessian-vector
products. The same op serves `autograd.grad` inside `graphnet.compile` (compiler/grad_walk.py),
where no tape exists."""

from __future__ import annotations

import functools

import jax
from jax.extend.core import Literal

from .. import _autograd
from .. import _autograd_versions as _versions
from .._autograd import TapeNode
from .._dispatch import attrs_key
from .._ops import OPS, defop
from .._tensor import Tensor


# NOTE: n_outputs=0: one cotangent per differentiated input, a count fixed by `fn`.
@defop("vjp", "opaque", n_outputs=0, function=None, method=None, foldable=False)
def vjp(*args, fn, n_primals):
    """`fn(primals, cotangents)`: the cotangents of a node's differentiated inputs."""
    return tuple(fn(tuple(args[:n_primals]), tuple(args[n_primals:])))


class OpVjp:
    """The VJP of one op (with its attributes) for some of its inputs, as a `vjp` node's `fn`
    attribute: callable like `make_vjp`'s function, printed deterministically in graphs.
    `op` and `attrs` stay readable: a `vjp` node reads its op's inputs as that op does, so it
    carries the op's value check (compiler/checks.py, `checked_call`)."""

    __slots__ = ("fn", "text", "op", "attrs")

    def __init__(self, op: str, attrs: tuple, needs: tuple):
        self.op, self.attrs = op, attrs
        self.fn = _autograd.make_vjp(OPS[op], dict(attrs), needs)
        self.text = f"<vjp of {op} for inputs {list(needs)}>"

    def __call__(self, primals, cts):
        return self.fn(primals, cts)

    def __repr__(self) -> str:
        return self.text


def op_vjp(op: str, attrs: tuple, needs: tuple) -> OpVjp:
    """One `OpVjp` per key, so equal backward nodes share their kernel (and CSE may merge
    them in a graph). The key tells 1, 1.0 and True apart, as the eager kernels' does
    (_dispatch.attrs_key)."""
    return _op_vjp(op, attrs, attrs_key(dict(attrs))[1], needs)


@functools.lru_cache(maxsize=4096)
def _op_vjp(op: str, attrs: tuple, kinds: tuple, needs: tuple) -> OpVjp:
    return OpVjp(op, attrs, needs)


class _Identity(TapeNode):
    """Stands for a leaf among a backward node's primal inputs: its cotangent goes to the
    leaf's `.grad`, unchanged."""

    __slots__ = ()

    def __init__(self, leaf, value):
        super().__init__("alias", ((leaf, None),), [(value.shape, value.dtype)], (value,),
                         _identity_vjp, (0,))

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"


def _identity_vjp(saved, cts):
    return (cts[0],)


def _primal(node: TapeNode, saved: tuple, position: int, edge_of: dict):
    """The saved input `position` of `node` as a Tensor: connected to its producer when the
    node differentiates it, a constant otherwise (or the Python number / None it was)."""
    value = saved[position]
    if position not in edge_of:
        return Tensor._wrap(value) if hasattr(value, "shape") else value
    target, index = edge_of[position]
    if isinstance(target, TapeNode):
        return Tensor._wrap(value, target, index)
    return Tensor._wrap(value, _Identity(target, value), 0)


def reaching(fn, primals, cts) -> frozenset:
    """The positions among `primals` (arrays, or Tensors or Values with .shape/.dtype) that
    the VJP `fn`'s results depend on at all, read from its jaxpr.

    A second backward must not send a gradient to the others: the VJP of `linear` for its
    input is `g @ W`, so the bias gets no gradient from a gradient penalty and keeps
    `.grad = None` in PyTorch (an optimizer skips it); a zero there would let weight decay
    and momentum move it. JAX's VJP returns such a zero like any other value, so the
    dependence is read from the program instead. An array fed through a zero (`0 * x`)
    still counts as reached, as in PyTorch's graph.

    The answer depends on the VJP and its inputs' types only, so it is kept per (fn, types):
    an eager gradient-penalty step asks it for every node, every step (without the cache,
    about 40% of a small WGAN-GP step went to tracing these jaxprs)."""
    key = (fn, tuple((tuple(p.shape), str(p.dtype)) if _is_array(p) else ("value", p)
                     for p in primals),
           tuple((tuple(c.shape), str(c.dtype)) for c in cts))
    try:
        return _reaching_cached(key, fn, primals, cts)
    except TypeError:    # an unhashable non-array input: read the program afresh
        return _reaching(fn, primals, cts)


_REACHING: dict = {}


def _reaching_cached(key, fn, primals, cts) -> frozenset:
    found = _REACHING.get(key)
    if found is None:
        if len(_REACHING) >= 4096:
            _REACHING.clear()
        found = _REACHING[key] = _reaching(fn, primals, cts)
    return found


def _is_array(p) -> bool:
    return hasattr(p, "shape") and hasattr(p, "dtype")


def _reaching(fn, primals, cts) -> frozenset:
    arrays = [i for i, p in enumerate(primals) if _is_array(p)]
    specs = [jax.ShapeDtypeStruct(tuple(primals[i].shape), _np_dtype(primals[i].dtype))
             for i in arrays]
    ct_specs = [jax.ShapeDtypeStruct(tuple(c.shape), _np_dtype(c.dtype)) for c in cts]

    def run(inputs, ct_values):
        full = list(primals)
        for i, v in zip(arrays, inputs):
            full[i] = v
        return fn(tuple(full), tuple(ct_values))

    jaxpr = jax.make_jaxpr(run)(specs, ct_specs).jaxpr
    start = [frozenset([i]) for i in arrays] + [frozenset()] * (len(jaxpr.invars) - len(arrays))
    return frozenset().union(*_dependence(jaxpr, start))


def _dependence(jaxpr, inputs: list) -> list:
    """For each output of `jaxpr`, the union of `inputs` (one set per invar) it depends on,
    looking inside calls (jit, custom_jvp/vjp); other structured ops count every input."""
    depends = dict(zip(jaxpr.invars, inputs))

    def of(v):
        return frozenset() if isinstance(v, Literal) else depends.get(v, frozenset())

    for eqn in jaxpr.eqns:
        inner = eqn.params.get("jaxpr", eqn.params.get("call_jaxpr"))
        inner = getattr(inner, "jaxpr", inner)
        if inner is not None and len(inner.invars) == len(eqn.invars) \
                and len(inner.outvars) == len(eqn.outvars):
            outs = _dependence(inner, [of(v) for v in eqn.invars])
        else:
            outs = [frozenset().union(*(of(v) for v in eqn.invars))] * len(eqn.outvars)
        for out, dep in zip(eqn.outvars, outs):
            depends[out] = dep
    return [of(v) for v in jaxpr.outvars]


def _np_dtype(dtype):
    from .. import _dtype

    return dtype if not hasattr(dtype, "is_floating_point") else _dtype.to_np(dtype)


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
    # the values the backward reads now: PyTorch's error after an in-place write, the new
    # values after `x.data = other`
    saved = _versions.current_saved(node, node.saved)
    reached = reaching(node._vjp, saved, cts)
    edge_of = {i: edge for i, edge in edge_of.items() if i in reached}
    primals = [_primal(node, saved, i, edge_of) for i in range(len(saved))]
    out = dispatch("vjp", *primals, *cts, fn=node._vjp, n_primals=len(primals))
    backward = ONCE_DIFFERENTIABLE.get(node.name_)
    if backward is not None:    # PyTorch's backward of it has no derivative: one raises
        from .._no_derivative import without_derivative

        out = [o if o is None else without_derivative(o, [*primals, *cts], backward)
               for o in out]
    return list(out)


# Ops whose PyTorch backward is itself not differentiable: a gradient of their gradient
# raises "derivative for aten::<backward> is not implemented" (JAX would differentiate
# graphnet's backward formula and give numbers PyTorch does not define).
ONCE_DIFFERENTIABLE = {"ctc_loss": "_ctc_loss_backward"}
