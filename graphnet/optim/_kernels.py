"""Update kernels registered in the op table, one multi-tensor op per optimizer. The update
math is torch 2.13's single-tensor step written op for op with `_cpu_ops.py`."""

from __future__ import annotations

import jax.numpy as jnp

from .._ops import defop
from . import _cpu_ops as C
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


@defop("sgd_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def sgd_update(lr, momentum, dampening, weight_decay, *tensors, n, nesterov, maximize,
               has_buf, use_momentum):
    """Inputs: 4 hyper-parameters, then n params, n grads and (when has_buf) n momentum
    buffers. Outputs: n new params, then n new buffers when use_momentum."""
    params, grads, bufs = tensors[:n], tensors[n:2 * n], tensors[2 * n:]
    new_params, new_bufs = [], []
    for k, (p, g) in enumerate(zip(params, grads, strict=True)):
        # torch's _single_tensor_sgd, op for op (_cpu_ops.py rounds as torch does)
        g = -g if maximize else g
        if not is_off(weight_decay):
            g = C.add(g, p, weight_decay)
        if use_momentum:
            # the first step starts the buffer as a copy of the gradient (no dampening)
            damped = 1 - (0.0 if is_off(dampening) else dampening)
            buf = C.add(C.mul(bufs[k], momentum), g, damped) if has_buf else jnp.asarray(g)
            new_bufs.append(buf)
            g = C.add(g, buf, momentum) if nesterov else buf
        new_params.append(C.add(p, g, -lr))
    return tuple(new_params) + tuple(new_bufs)
