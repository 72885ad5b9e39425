"""Update kernels for NAdam, RAdam and Adamax (one multi-tensor op each), written out in the
order of torch 2.13's single-tensor path (the one it takes on CPU).

Precision follows torch: the step count is a float32 state tensor whose value torch reads
as a Python double, so every bias correction (1 - beta ** step) and NAdam's momentum
schedule mu_t are computed in float64 here and cast to the parameter's dtype only where
torch hands the double to a float32 kernel (`_as`). NAdam's running product of mu is a
float32 state tensor in torch, so it is kept (and rounded) as float32 here too.

Where torch branches in Python on a value computed from the step (RAdam's rho_t > 5), the
kernel computes both sides and selects with `jnp.where`: a compiled step then takes the
branch of the step it is on, not the one of the step it was traced on.
"""

from __future__ import annotations

import jax.numpy as jnp

from .._ops import defop
from ._kernels import decoupled_decayed, l2_decayed, updated_in_place
from ._kernels_adaptive import _as, _split


def lerp(start, end, weight):
    """torch.lerp's formula: start + w * (end - start) for |w| < 0.5, else
    end + (w - 1) * (end - start), exact at both ends. The weight is cast to the tensors'
    dtype first and w - 1 taken in that dtype, as torch's kernel does."""
    weight = _as(weight, start)
    low = jnp.abs(weight) < 0.5
    coeff, base = jnp.where(low, weight, weight - 1), jnp.where(low, start, end)
    diff = end - start
    if start.dtype == jnp.float32:
        # NOTE: torch's vectorised CPU kernel is fma(coeff, diff, base), one rounding; the
        # exact float32 product plus base in float64, rounded once, gives the same float
        wide = jnp.float64
        return (coeff.astype(wide) * diff.astype(wide) + base.astype(wide)).astype(start.dtype)
    return coeff * diff + base


def _decay(params, grads, lr, weight_decay, decoupled):
    """L2 weight decay (added to the gradient) or decoupled (p *= 1 - lr * wd)."""
    if decoupled:
        return decoupled_decayed(params, lr, weight_decay), grads
    return params, l2_decayed(grads, params, weight_decay)


@defop("nadam_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def nadam_update(lr, beta1, beta2, eps, weight_decay, momentum_decay, *tensors, n, maximize,
                 decoupled_weight_decay):
    """Inputs: 6 hyper-parameters, then n each of params, grads, steps, mu_products,
    exp_avgs and exp_avg_sqs. Outputs: the new values of all of them but grads."""
    params, grads, steps, mu_products, exp_avgs, exp_avg_sqs = _split(tensors, n, 6)
    grads = [-g if maximize else g for g in grads]
    params, grads = _decay(params, grads, lr, weight_decay, decoupled_weight_decay)
    outs = ([], [], [], [], [])
    for p, g, step, mu_product, m, v in zip(params, grads, steps, mu_products, exp_avgs,
                                            exp_avg_sqs, strict=True):
        step = step + 1
        t = step.astype(jnp.float64)
        bias_correction2 = 1 - beta2 ** t
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))
        mu_product = mu_product * _as(mu, mu_product)
        m = lerp(m, g, 1 - beta1)
        v = v * beta2 + (1 - beta2) * g * g
        denom = jnp.sqrt(v / _as(bias_correction2, v)) + eps
        product = mu_product.astype(jnp.float64)
        mu_product_next = product * mu_next
        p = p + _as(-lr * (1.0 - mu) / (1.0 - product), p) * g / denom
        p = p + _as((-lr * mu_next) / (1.0 - mu_product_next), p) * m / denom
        for out, value in zip(outs, (p, step, mu_product, m, v), strict=True):
            out.append(value)
    return tuple(x for out in outs for x in out)


@defop("radam_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def radam_update(lr, beta1, beta2, eps, weight_decay, *tensors, n, maximize,
                 decoupled_weight_decay):
    """Inputs: 5 hyper-parameters, then n each of params, grads, steps, exp_avgs and
    exp_avg_sqs. Outputs: new params, steps, exp_avgs and exp_avg_sqs."""
    params, grads, steps, exp_avgs, exp_avg_sqs = _split(tensors, n, 5)
    grads = [-g if maximize else g for g in grads]
    params, grads = _decay(params, grads, lr, weight_decay, decoupled_weight_decay)
    outs = ([], [], [], [])
    rho_inf = 2 / (1 - beta2) - 1
    for p, g, step, m, v in zip(params, grads, steps, exp_avgs, exp_avg_sqs, strict=True):
        step = step + 1
        t = step.astype(jnp.float64)
        m = lerp(m, g, 1 - beta1)
        v = v * beta2 + (1 - beta2) * g * g
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        corrected = m / _as(bias_correction1, m)
        rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
        # NOTE: the rectifier is only used where rho_t > 5; clamp so the other side is finite
        rect = jnp.sqrt(jnp.maximum((rho_t - 4) * (rho_t - 2) * rho_inf
                                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t), 0.0))
        adaptive = _as(bias_correction2 ** 0.5, v) / (jnp.sqrt(v) + eps)
        rectified = corrected * lr * adaptive * _as(rect, p)
        p = p - jnp.where(rho_t > 5.0, rectified, corrected * lr).astype(p.dtype)
        for out, value in zip(outs, (p, step, m, v), strict=True):
            out.append(value)
    return tuple(x for out in outs for x in out)


@defop("adamax_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def adamax_update(lr, beta1, beta2, eps, weight_decay, *tensors, n, maximize):
    """Inputs: 5 hyper-parameters, then n each of params, grads, steps, exp_avgs and
    exp_infs. Outputs: new params, steps, exp_avgs and exp_infs."""
    params, grads, steps, exp_avgs, exp_infs = _split(tensors, n, 5)
    grads = [-g if maximize else g for g in grads]
    grads = l2_decayed(grads, params, weight_decay)
    outs = ([], [], [], [])
    for p, g, step, m, u in zip(params, grads, steps, exp_avgs, exp_infs, strict=True):
        step = step + 1
        m = lerp(m, g, 1 - beta1)
        u = jnp.maximum(u * beta2, jnp.abs(g) + eps)
        clr = lr / (1 - beta1 ** step.astype(jnp.float64))
        p = p + _as(-clr, p) * m / u
        for out, value in zip(outs, (p, step, m, u), strict=True):
            out.append(value)
    return tuple(x for out in outs for x in out)
