"""Structured ops: `grad`, `cond`, `while_loop` and `vmap`. Each declares its inputs as
named fields (`fields`) and what the compiler's passes may do with it, so that no pass
recognises them by name. They only appear in traced graphs: eagerly, `graphnet.cond` is an
`if`, `backward()` runs the tape and `func.vmap` batches eager kernels itself
(graphnet/_func_vmap.py).

`cond`, `while_loop` and `vmap` hold their branches (vmap: the function on one sample) as
sub-graphs (compiler `Graph`s) in their attributes; the compiler hands the kernels below
each sub-graph as a function over arrays (`branch(*arrays) -> tuple`, compiler/lower.py),
so graphnet never imports the compiler. `grad` has no kernel of its own: it is lowered
together with the forward nodes between its leaves and its loss, under one `jax.vjp`
(compiler/lower.py, GradRegion)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from ._table import defop


# ---- grad -----------------------------------------------------------------------------------
def grad_fields(inputs, attrs) -> dict:
    """`loss` (the value differentiated), `seed` (its cotangent, None for ones) and `leaves`
    (the values differentiated with respect to), as `grad(%loss[, %seed], *%leaves)`."""
    start = 2 if attrs["has_cotangent"] else 1
    return {"loss": inputs[0], "seed": inputs[1] if attrs["has_cotangent"] else None,
            "leaves": tuple(inputs[start:])}


def grad_inputs(loss, seed, leaves) -> tuple:
    """(inputs, attrs) of a grad node with these fields; the inverse of `grad_fields`."""
    leaves = tuple(leaves)
    inputs = (loss,) + ((seed,) if seed is not None else ()) + leaves
    return inputs, {"n_leaves": len(leaves), "has_cotangent": seed is not None}


def grad_types(inputs, attrs) -> tuple:
    """One gradient per leaf, of the leaf's type; a seed must have the loss's shape."""
    named = grad_fields(inputs, attrs)
    loss, seed, leaves = named["loss"], named["seed"], named["leaves"]
    if len(leaves) != attrs["n_leaves"]:
        raise ValueError(f"n_leaves={attrs['n_leaves']} but {len(leaves)} leaves are given")
    if seed is not None and tuple(seed.shape) != tuple(loss.shape):
        raise ValueError(f"cotangent %{seed.name} is {seed.type_str} but the loss "
                         f"%{loss.name} is {loss.type_str}")
    return tuple((tuple(leaf.shape), leaf.dtype) for leaf in leaves)


# NOTE: not differentiable (no gradient flows back through an earlier grad node), never
# folded or merged (lowering pairs each grad node with its own forward region).
@defop("grad", "opaque", n_outputs=0, differentiable=False, fields=grad_fields,
       types=grad_types, foldable=False, mergeable=False, gradient=True,
       function=None, method=None)
def grad(*inputs, n_leaves, has_cotangent):
    raise NotImplementedError("a grad node has no kernel of its own: it is evaluated with the "
                              "forward nodes it differentiates (compiler/lower.py, GradRegion)")


# ---- cond -----------------------------------------------------------------------------------
def cond_fields(inputs, attrs) -> dict:
    """`pred`, then the inputs of each branch's sub-graph: the operands, then the tensors
    that branch captured from the enclosing trace."""
    n_true = attrs["n_true"]
    return {"pred": inputs[0], "true_operands": tuple(inputs[1:1 + n_true]),
            "false_operands": tuple(inputs[1 + n_true:])}


# NOTE: never folded (a branch may be large, and folding would evaluate both) nor merged.
@defop("cond", "opaque", n_outputs=0, fields=cond_fields, foldable=False, mergeable=False,
       method=None)
def cond(*inputs, true_branch, false_branch, n_true):
    named = cond_fields(inputs, {"n_true": n_true})

    def run_true(operands):
        return tuple(true_branch(*operands[0]))

    def run_false(operands):
        return tuple(false_branch(*operands[1]))

    return lax.cond(named["pred"].reshape(()).astype(bool), run_true, run_false,
                    (named["true_operands"], named["false_operands"]))


# ---- while_loop -----------------------------------------------------------------------------
def while_fields(inputs, attrs) -> dict:
    """`carry` (the loop state, also the outputs), then what the cond and the body sub-graphs
    captured from the enclosing trace; each sub-graph's inputs are carry then captures."""
    n_carry, n_cond = attrs["n_carry"], attrs["n_cond"]
    return {"carry": tuple(inputs[:n_carry]),
            "cond_captures": tuple(inputs[n_carry:n_carry + n_cond]),
            "body_captures": tuple(inputs[n_carry + n_cond:])}


# NOTE: reverse_mode=False: XLA's while loop has no reverse-mode derivative (its trip count
# is known only at run time); compiler/autodiff.py refuses backward() through it.
@defop("while_loop", "opaque", n_outputs=0, fields=while_fields, foldable=False,
       mergeable=False, reverse_mode=False, method=None)
def while_loop(*inputs, cond_branch, body_branch, n_carry, n_cond):
    named = while_fields(inputs, {"n_carry": n_carry, "n_cond": n_cond})

    def keep_going(carry):
        return cond_branch(*carry, *named["cond_captures"])[0].reshape(()).astype(bool)

    def body(carry):
        return tuple(body_branch(*carry, *named["body_captures"]))

    return lax.while_loop(keep_going, body, named["carry"])


# ---- vmap -----------------------------------------------------------------------------------
def vmap_fields(inputs, attrs) -> dict:
    """`mapped` (the tensors mapped over, axis `in_axes[i]` each), then `shared`: what the
    function read from outside, the same for every sample."""
    n = attrs["n_mapped"]
    return {"mapped": tuple(inputs[:n]), "shared": tuple(inputs[n:])}


# NOTE: `graphnet.func.vmap` while tracing (compiler/vmap_trace.py); `body` is the function
# on one sample, its inputs the mapped values (batch axis off) then the shared ones.
@defop("vmap", "opaque", n_outputs=0, fields=vmap_fields, foldable=False, mergeable=False,
       function=None, method=None)
def vmap(*inputs, body, in_axes, n_mapped, out_axes, size):
    named = vmap_fields(inputs, {"n_mapped": n_mapped})

    def one(*mapped):
        return tuple(body(*mapped, *named["shared"]))

    outs = jax.vmap(one, in_axes=tuple(in_axes), out_axes=0, axis_size=size)(*named["mapped"])
    return tuple(o[0] if axis is None else jnp.moveaxis(o, 0, axis)
                 for o, axis in zip(outs, out_axes))
