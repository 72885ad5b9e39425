"""Update kernels registered in the op table, one multi-tensor op per optimizer. The update
math comes from optax where it equals PyTorch's step exactly; where PyTorch differs (SGD's
dampening) it is written out here."""

from __future__ import annotations

import jax.numpy as jnp
import optax

from .._ops import defop
from .._tensor import Tensor


def updated_in_place(args, attrs) -> tuple:
    """The inputs an update kernel's outputs replace, as `OpDef.overwrites`: after the
    hyper-parameters come n parameters, n gradients and the state; the optimizer writes the
    outputs back into the parameters and the state (`assign`), never into the gradients."""
    first = next(i for i, a in enumerate(args) if isinstance(a, Tensor))
    n = attrs["n"]
    return tuple(i for i in range(first, len(args))
                 if not first + n <= i < first + 2 * n and isinstance(args[i], Tensor))


def is_off(value) -> bool:
    """Whether a hyper-parameter is off: None, what the optimizer passes for an option that
    is 0 (`Optimizer._hyper`, OFF_AT_ZERO), or a constant 0. Its term is left out, as
    PyTorch's step leaves it out; a live number keeps its term (it is traced)."""
    return value is None or (isinstance(value, (int, float)) and value == 0)


def l2_decayed(grads, params, weight_decay) -> list:
    """g + weight_decay * p, PyTorch's (coupled) weight decay; the gradients as they are when
    it is off."""
    if is_off(weight_decay):
        return list(grads)
    return [g + weight_decay * p for g, p in zip(grads, params, strict=True)]


def decoupled_decayed(params, lr, weight_decay) -> list:
    """p * (1 - lr * weight_decay), AdamW's decoupled weight decay; the parameters as they are
    when it is off."""
    if is_off(weight_decay):
        return list(params)
    return [p * (1 - lr * weight_decay) for p in params]


@defop("sgd_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def sgd_update(lr, momentum, dampening, weight_decay, *tensors, n, nesterov, maximize,
               has_buf, use_momentum):
    """Inputs: 4 hyper-parameters, then n params, n grads and (when has_buf) n momentum
    buffers. Outputs: n new params, then n new buffers when use_momentum."""
    params, grads, bufs = tensors[:n], tensors[n:2 * n], tensors[2 * n:]
    grads = [-g if maximize else g for g in grads]
    grads = l2_decayed(grads, params, weight_decay)
    new_bufs = []
    if use_momentum:
        if has_buf:
            # optax.trace computes  t = g + decay * t, PyTorch's rule when dampening == 0
            trace = optax.trace(decay=momentum, nesterov=False)
            state = optax.TraceState(trace=list(bufs))
            damped = grads if is_off(dampening) else [(1 - dampening) * g for g in grads]
            new_bufs, _ = trace.update(damped, state)
        else:  # first step: the buffer starts as a copy of the gradient (no dampening)
            new_bufs = [jnp.asarray(g) for g in grads]
        grads = [g + momentum * b for g, b in zip(grads, new_bufs)] if nesterov else new_bufs
    new_params = [_sgd_step(p, g, lr) for p, g in zip(params, grads)]
    return tuple(new_params) + tuple(new_bufs)


def _sgd_step(p, g, lr):
    """p - lr * g, as torch's `p.add_(g, alpha=-lr)`: for a float16/bfloat16 parameter, -lr
    rounded to its dtype, then computed in float32 and rounded once (rounding lr * g to half
    first left 9% of elements 1 ulp away after one step)."""
    if p.dtype in (jnp.float16, jnp.bfloat16):
        alpha = jnp.asarray(-lr).astype(p.dtype).astype(jnp.float32)
        return (p.astype(jnp.float32) + alpha * g.astype(jnp.float32)).astype(p.dtype)
    return p - lr * g.astype(p.dtype)


