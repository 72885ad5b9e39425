"""Update kernels registered in the op table, one multi-tensor op per optimizer. The update
math comes from optax where it equals PyTorch's step exactly; where PyTorch differs (SGD's
dampening) it is written out here."""

from __future__ import annotations

import jax.numpy as jnp
import optax

from .._ops import defop


@defop("sgd_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None)
def sgd_update(lr, momentum, dampening, weight_decay, *tensors, n, nesterov, maximize,
               has_buf, use_momentum):
    """Inputs: 4 hyper-parameters, then n params, n grads and (when has_buf) n momentum
    buffers. Outputs: n new params, then n new buffers when use_momentum."""
    params, grads, bufs = tensors[:n], tensors[n:2 * n], tensors[2 * n:]
    grads = [-g if maximize else g for g in grads]
    grads = [g + weight_decay * p for g, p in zip(grads, params)]
    new_bufs = []
    if use_momentum:
        if has_buf:
            # optax.trace computes  t = g + decay * t, PyTorch's rule when dampening == 0
            trace = optax.trace(decay=momentum, nesterov=False)
            state = optax.TraceState(trace=list(bufs))
            damped = [(1 - dampening) * g for g in grads]
            new_bufs, _ = trace.update(damped, state)
        else:  # first step: the buffer starts as a copy of the gradient (no dampening)
            new_bufs = [jnp.asarray(g) for g in grads]
        grads = [g + momentum * b for g, b in zip(grads, new_bufs)] if nesterov else new_bufs
    new_params = [p - lr * g.astype(p.dtype) for p, g in zip(params, grads)]
    return tuple(new_params) + tuple(new_bufs)


