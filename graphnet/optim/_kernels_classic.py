"""Update kernels for Adadelta, ASGD and Rprop (one multi-tensor op each), written out in the
order of torch 2.13's single-tensor path (the one it takes on CPU). optax has no update
equal to any of them (its adadelta puts eps elsewhere, it has no ASGD, and its Rprop-like
`scale_by_rprop` keeps no zeroed previous gradient), so none is borrowed.

ASGD keeps eta and mu as float32 0-d state tensors, as torch does; torch computes their
next values from the step in double precision and rounds them when it copies them in, so
the kernel does the same. Where torch branches in Python on a state value (ASGD's
`mu != 1`), the kernel selects with `jnp.where`, so a compiled step follows the value of
each call, not of the call it was traced on.
"""

from __future__ import annotations

import jax.numpy as jnp

from .._ops import defop
from . import _cpu_ops as C
from ._kernels import is_off, updated_in_place
from ._kernels_adaptive import _as, _split


@defop("adadelta_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def adadelta_update(lr, rho, eps, weight_decay, *tensors, n, maximize):
    """Inputs: 4 hyper-parameters, then n each of params, grads, steps, square_avgs and
    acc_deltas. Outputs: new params, steps, square_avgs and acc_deltas."""
    params, grads, steps, square_avgs, acc_deltas = _split(tensors, n, 5)
    grads = [-g if maximize else g for g in grads]
    if not is_off(weight_decay):
        grads = [C.add(g, p, weight_decay) for g, p in zip(grads, params, strict=True)]
    outs = ([], [], [], [])
    for p, g, step, square_avg, acc_delta in zip(params, grads, steps, square_avgs,
                                                 acc_deltas, strict=True):
        # torch's _single_tensor_adadelta, op for op (_cpu_ops.py rounds as torch does)
        square_avg = C.addcmul(C.mul(square_avg, rho), g, g, 1 - rho)
        std = C.sqrt(C.add_scalar(square_avg, eps))
        delta = C.mul_t(C.div(C.sqrt(C.add_scalar(acc_delta, eps)), std), g)
        acc_delta = C.addcmul(C.mul(acc_delta, rho), delta, delta, 1 - rho)
        p = C.add(p, delta, -lr)
        for out, value in zip(outs, (p, step + 1, square_avg, acc_delta), strict=True):
            out.append(value)
    return tuple(x for out in outs for x in out)


@defop("asgd_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def asgd_update(lr, lambd, alpha, t0, weight_decay, *tensors, n, maximize):
    """Inputs: 5 hyper-parameters, then n each of params, grads, steps, etas, mus and axs.
    Outputs: the new values of all of them but grads."""
    params, grads, steps, etas, mus, axs = _split(tensors, n, 6)
    outs = ([], [], [], [], [])
    for p, g, step, eta, mu, ax in zip(params, grads, steps, etas, mus, axs, strict=True):
        # torch's _single_tensor_asgd, op for op (_cpu_ops.py rounds as torch does)
        g = -g if maximize else g
        step = step + 1
        if not is_off(weight_decay):
            g = C.add(g, p, weight_decay)
        eta_value = eta.astype(jnp.float64)   # torch reads it with .item(): a double
        p = C.mul(p, 1 - lambd * eta_value)
        p = C.add(p, g, -eta_value)
        ax = jnp.where(mu != 1, C.add(ax, C.mul(C.add(p, ax, -1.0), mu)), p)
        t = step.astype(jnp.float64)
        eta = _as(lr / ((1 + lambd * lr * t) ** alpha), eta)
        mu = _as(1 / jnp.maximum(1.0, t - t0), mu)
        for out, value in zip(outs, (p, step, eta, mu, ax), strict=True):
            out.append(value)
    return tuple(x for out in outs for x in out)


@defop("rprop_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def rprop_update(etaminus, etaplus, step_size_min, step_size_max, *tensors, n, maximize):
    """Inputs: 4 hyper-parameters, then n each of params, grads, steps, prevs and
    step_sizes. Outputs: new params, steps, prevs and step_sizes."""
    params, grads, steps, prevs, step_sizes = _split(tensors, n, 5)
    grads = [-g if maximize else g for g in grads]
    outs = ([], [], [], [])
    for p, g, step, prev, step_size in zip(params, grads, steps, prevs, step_sizes,
                                           strict=True):
        sign = jnp.sign(g * prev)
        factor = jnp.where(sign > 0, _as(etaplus, g),
                           jnp.where(sign < 0, _as(etaminus, g), jnp.ones_like(g)))
        step_size = jnp.clip(step_size * factor, _as(step_size_min, g), _as(step_size_max, g))
        # after a sign change the step is skipped and the gradient forgotten
        g = jnp.where(sign < 0, jnp.zeros_like(g), g)
        # torch.sign(nan) is 0 on the CPU: a NaN gradient skips the element's step
        p = p + -1 * jnp.where(jnp.isnan(g), jnp.zeros_like(g), jnp.sign(g)) * step_size
        for out, value in zip(outs, (p, step + 1, g, step_size), strict=True):
            out.append(value)
    return tuple(x for out in outs for x in out)
