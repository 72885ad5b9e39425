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
from . import _cpu_ops as C
from ._kernels import is_off, updated_in_place
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


def _decay(p, g, lr, weight_decay, decoupled):
    """L2 weight decay (g + wd * p) or decoupled (p *= 1 - lr * wd), as torch's ops."""
    if is_off(weight_decay):
        return p, g
    if decoupled:
        return C.mul(p, 1 - lr * weight_decay), g
    return p, C.add(g, p, weight_decay)


@defop("nadam_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def nadam_update(lr, beta1, beta2, eps, weight_decay, momentum_decay, *tensors, n, maximize,
                 decoupled_weight_decay):
    """Inputs: 6 hyper-parameters, then n each of params, grads, steps, mu_products,
    exp_avgs and exp_avg_sqs. Outputs: the new values of all of them but grads."""
    params, grads, steps, mu_products, exp_avgs, exp_avg_sqs = _split(tensors, n, 6)
    outs = ([], [], [], [], [])
    for p, g, step, mu_product, m, v in zip(params, grads, steps, mu_products, exp_avgs,
                                            exp_avg_sqs, strict=True):
        # torch's _single_tensor_nadam, op for op (_cpu_ops.py rounds as torch does)
        g = -g if maximize else g
        step = step + 1
        t = step.astype(jnp.float64)
        bias_correction2 = 1 - beta2 ** t
        p, g = _decay(p, g, lr, weight_decay, decoupled_weight_decay)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))
        mu_product = C.mul(mu_product, mu)
        m = C.lerp(m, g, 1 - beta1)
        v = C.addcmul(C.mul(v, beta2), g, g, 1 - beta2)
        denom = C.add_scalar(C.sqrt(C.div_scalar(v, bias_correction2)), eps)
        product = mu_product.astype(jnp.float64)
        mu_product_next = product * mu_next
        p = C.addcdiv(p, g, denom, -lr * (1.0 - mu) / (1.0 - product))
        p = C.addcdiv(p, m, denom, (-lr * mu_next) / (1.0 - mu_product_next))
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
    outs = ([], [], [], [])
    rho_inf = 2 / (1 - beta2) - 1
    for p, g, step, m, v in zip(params, grads, steps, exp_avgs, exp_avg_sqs, strict=True):
        # torch's _single_tensor_radam, op for op (_cpu_ops.py rounds as torch does)
        g = -g if maximize else g
        step = step + 1
        p, g = _decay(p, g, lr, weight_decay, decoupled_weight_decay)
        m = C.lerp(m, g, 1 - beta1)
        v = C.addcmul(C.mul(v, beta2), g, g, 1 - beta2)
        t = step.astype(jnp.float64)
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        corrected = C.div_scalar(m, bias_correction1)
        rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
        # NOTE: the rectifier is only used where rho_t > 5; clamp so the other side is finite
        rect = jnp.sqrt(jnp.maximum((rho_t - 4) * (rho_t - 2) * rho_inf
                                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t), 0.0))
        # `number / tensor` is tensor.reciprocal() * number in torch
        adaptive = C.mul(C.reciprocal(C.add_scalar(C.sqrt(v), eps)), bias_correction2 ** 0.5)
        scaled = C.mul(corrected, lr)
        rectified = C.mul(C.mul_t(scaled, adaptive), rect)
        p = C.add(p, jnp.where(rho_t > 5.0, rectified, scaled), -1.0)
        for out, value in zip(outs, (p, step, m, v), strict=True):
            out.append(value)
    return tuple(x for out in outs for x in out)


@defop("adamax_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def adamax_update(lr, beta1, beta2, eps, weight_decay, *tensors, n, maximize):
    """Inputs: 5 hyper-parameters, then n each of params, grads, steps, exp_avgs and
    exp_infs. Outputs: new params, steps, exp_avgs and exp_infs."""
    params, grads, steps, exp_avgs, exp_infs = _split(tensors, n, 5)
    outs = ([], [], [], [])
    for p, g, step, m, u in zip(params, grads, steps, exp_avgs, exp_infs, strict=True):
        # torch's _single_tensor_adamax, op for op (_cpu_ops.py rounds as torch does)
        g = -g if maximize else g
        step = step + 1
        if not is_off(weight_decay):
            g = C.add(g, p, weight_decay)
        m = C.lerp(m, g, 1 - beta1)
        u = C.maximum(C.mul(u, beta2), C.add_scalar(jnp.abs(g), eps))
        clr = lr / (1 - beta1 ** step.astype(jnp.float64))
        p = C.addcdiv(p, m, u, -clr)
        for out, value in zip(outs, (p, step, m, u), strict=True):
            out.append(value)
    return tuple(x for out in outs for x in out)
