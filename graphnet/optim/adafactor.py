"""Adafactor (Shazeer & Stern) as torch 2.13 implements it (no first moment; torch's
variant: the step size follows the parameter's RMS, the second moment of a matrix is
factored into row and column means, and beta2 rises as 1 - step ** beta2_decay).

The update is one multi-tensor op per group. A parameter with 2 or more dims keeps
'row_var' and 'col_var' (its last two dims factored), a vector keeps 'variance': which one
a parameter has is a static attribute of the op (`factored`). Where torch reads a norm back
to Python (`.item()`) and takes max/min with Python floats, the kernel does the same in
float64, so a compiled step computes what torch computes on each call.
"""

from __future__ import annotations

import jax.numpy as jnp

from .. import _host
from .._dispatch import dispatch
from .._ops import defop
from . import _kernels_adaptive as K
from ._kernels import is_off, updated_in_place
from ._kernels_adam_family import lerp
from ._checks import check_tensor_lr
from ._optimizer import Optimizer


def _norm(x):
    return jnp.sqrt(jnp.sum(x * x))


@defop("adafactor_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def adafactor_update(lr, beta2_decay, eps1, eps2, d, weight_decay, *tensors, n, factored,
                     eps1_from_dtype, maximize):
    """Inputs: 6 hyper-parameters, then n params, n grads, n steps, then each parameter's
    state in order: (row_var, col_var) where `factored[i]`, else (variance,). Outputs: new
    params, steps, then the state in the same order."""
    params, grads, steps = tensors[:n], tensors[n:2 * n], tensors[2 * n:3 * n]
    rest = list(tensors[3 * n:])
    new_params, new_steps, new_state = [], [], []
    for p, g, step, is_matrix in zip(params, grads, steps, factored, strict=True):
        g = -g if maximize else g
        e1 = jnp.finfo(p.dtype).eps if eps1_from_dtype else eps1
        step = step + 1
        t = step.astype(jnp.float64)
        one_minus_beta2_t = t ** beta2_decay
        rho_t = jnp.minimum(lr, 1 / (t ** 0.5))
        # NOTE: torch takes these two maxima with Python's max() of numbers, which keeps
        # its first argument when the second is NaN: one NaN gradient spoils its element only
        alpha = _py_max(eps2, _norm(p).astype(jnp.float64) / (p.size ** 0.5)) * rho_t
        if not is_off(weight_decay):
            p = p * (1 - lr * weight_decay)
        if is_matrix:
            row_var, col_var = rest.pop(0), rest.pop(0)
            row_mean = jnp.square(jnp.sqrt(jnp.sum(g * g, axis=-1, keepdims=True))) \
                / g.shape[-1]
            row_var = lerp(row_var, row_mean, K._as(one_minus_beta2_t, row_var))
            col_mean = jnp.square(jnp.sqrt(jnp.sum(g * g, axis=-2, keepdims=True))) \
                / g.shape[-2]
            col_var = lerp(col_var, col_mean, K._as(one_minus_beta2_t, col_var))
            var_estimate = row_var @ col_var
            var_estimate = var_estimate / jnp.maximum(row_var.mean(axis=-2, keepdims=True),
                                                      K._as(e1, row_var))
            new_state += [row_var, col_var]
        else:
            variance = lerp(rest.pop(0), g * g, K._as(one_minus_beta2_t, g))
            var_estimate = variance
            new_state.append(variance)
        update = jnp.reciprocal(jnp.sqrt(jnp.maximum(var_estimate, K._as(e1 * e1, g)))) * g
        denom = _py_max(1.0, _norm(update).astype(jnp.float64) / ((update.size ** 0.5) * d))
        new_params.append(p + K._as(-alpha / denom, p) * update)
        new_steps.append(step)
    assert not rest, len(rest)
    return (*new_params, *new_steps, *new_state)


class Adafactor(Optimizer):
    """Adafactor with torch's options and state names.

    >>> opt = graphnet.optim.Adafactor(model.parameters(), lr=1e-2)

    eps is (eps1, eps2): eps1 (None: the dtype's machine epsilon) floors the second moment,
    eps2 floors the parameter RMS that scales the step. State per parameter: 'step'
    (float32 0-d tensor) and 'row_var' + 'col_var' (2 or more dims) or 'variance'.
    """

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _step_group(self, index, group, params, grads, states):
        factored = tuple(len(p.shape) > 1 for p in params)
        for p, state, is_matrix in zip(params, states, factored, strict=True):
            shape = tuple(p.shape)
            keys = ["step"] + (["row_var", "col_var"] if is_matrix else ["variance"])
            K.ensure_state(self, p, state, keys, initial={
                "row_var": lambda v: _host.zeros(shape[:-1] + (1,), v.dtype),
                "col_var": lambda v: _host.zeros(shape[:-2] + (1,) + shape[-1:], v.dtype)})
        steps = [s["step"] for s in states]
        state_tensors = [s[k] for s, m in zip(states, factored, strict=True)
                         for k in (("row_var", "col_var") if m else ("variance",))]
        eps1_from_dtype = self._static(index, "eps", lambda e: e[0] is None)
        hyper = [K.live_hyper(self, index, "lr"), K.live_hyper(self, index, "beta2_decay"),
                 0.0 if eps1_from_dtype else K.live_hyper(self, index, "eps", 0),
                 K.live_hyper(self, index, "eps", 1), K.live_hyper(self, index, "d"),
                 K.live_hyper(self, index, "weight_decay")]
        outs = dispatch("adafactor_update", *hyper, *params, *grads, *steps, *state_tensors,
                          n=len(params), factored=factored, eps1_from_dtype=eps1_from_dtype,
                          maximize=self._static(index, "maximize", bool))
        K.assign(list(params) + steps + state_tensors, outs)


def _py_max(first, second):
    """Python's max(first, second): `second` only when it is greater (NaN never is)."""
    return jnp.where(second > first, second, first)
