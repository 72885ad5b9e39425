"""Structured control flow ops. Their branches are sub-graphs the compiler lowers; the op
attributes hold callables over arrays (`branch(*arrays) -> tuple`), so graphnet never
imports the compiler. They only appear in traced graphs: eagerly, `graphnet.cond` is an `if`."""

from __future__ import annotations

from jax import lax

from ._table import defop


@defop("cond", "opaque", n_outputs=0, method=None)
def cond(pred, *args, true_branch, false_branch, n_true):
    def run_true(values):
        return tuple(true_branch(*values[:n_true]))

    def run_false(values):
        return tuple(false_branch(*values[n_true:]))

    return lax.cond(pred.reshape(()).astype(bool), run_true, run_false, tuple(args))


@defop("while_loop", "opaque", n_outputs=0, method=None)
def while_loop(*args, cond_branch, body_branch, n_carry, n_cond):
    carry, cond_caps, body_caps = args[:n_carry], args[n_carry:n_carry + n_cond], \
        args[n_carry + n_cond:]

    def keep_going(values):
        return cond_branch(*values, *cond_caps)[0].reshape(()).astype(bool)

    def body(values):
        return tuple(body_branch(*values, *body_caps))

    return lax.while_loop(keep_going, body, tuple(carry))
