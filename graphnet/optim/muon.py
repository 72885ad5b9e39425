"""Muon (Jordan et al.) as torch 2.13 implements it: SGD momentum (Nesterov by default) whose
update is orthogonalised by a quintic Newton-Schulz iteration in bfloat16, for 2-D
parameters only. One multi-tensor op per group.

bfloat16 follows torch's CPU path: each matmul accumulates in float32 and its `addmm` result
(beta * M + alpha * A @ B) is rounded to bfloat16 once; the orthogonalised update keeps
bfloat16's values and is added to the float32 parameter with the adjusted lr.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax import lax

from .._ops import defop
from . import _kernels_adaptive as K
from ._kernels import is_off, updated_in_place
from ._kernels_adam_family import lerp
from ._checks import check_tensor_lr
from ._optimizer import Optimizer

EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5


def _bf16(x):
    """Round a float32 array to bfloat16's precision, keeping float32. Explicit, because a
    jitted kernel may otherwise keep float32 where bfloat16 rounding was asked for (XLA's
    excess precision); torch rounds each of these results to bfloat16."""
    return lax.reduce_precision(x, exponent_bits=8, mantissa_bits=7)


def zeropower_via_newtonschulz(grad, a, b, c, ns_steps: int, eps):
    """The Newton-Schulz iteration that maps grad to (nearly) U V^T, with torch's bfloat16
    roundings (products of bfloat16 values are exact in float32, sums accumulate there)."""
    x = _bf16(grad.astype(jnp.float32))
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = _bf16(jnp.sqrt(jnp.sum(jnp.square(x))))
    x = _bf16(x / jnp.maximum(norm, _bf16(jnp.asarray(eps, jnp.float32))))
    for _ in range(ns_steps):
        gram = _bf16(x @ x.T)
        gram_update = _bf16(b * gram + c * (gram @ gram))
        x = _bf16(a * x + gram_update @ x)
    return x.T if tall else x


def fma_add(p, alpha, update):
    """p + alpha * update with one rounding, as torch's vectorised add_(alpha=...) does
    (fused multiply-add); float32 via an exact float64 product."""
    if p.dtype != jnp.float32:
        return p + alpha * update
    wide = jnp.float64
    return (p.astype(wide) + alpha.astype(wide) * update.astype(wide)).astype(p.dtype)


def _lr_ratio(shape, adjust_lr_fn) -> float:
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, cols))
    return 1.0


@defop("muon_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def muon_update(lr, weight_decay, momentum, eps, a, b, c, *tensors, n, nesterov, ns_steps,
                adjust_lr_fn):
    """Inputs: 7 hyper-parameters, then n each of params, grads and momentum buffers.
    Outputs: new params, then new buffers."""
    params, grads, bufs = K._split(tensors, n, 3)
    new_params, new_bufs = [], []
    for p, g, buf in zip(params, grads, bufs, strict=True):
        buf = lerp(buf, g, 1 - momentum)
        update = lerp(g, buf, momentum) if nesterov else buf
        update = zeropower_via_newtonschulz(update, a, b, c, ns_steps, eps)
        adjusted_lr = lr * _lr_ratio(p.shape, adjust_lr_fn)
        if not is_off(weight_decay):
            p = p * (1 - lr * weight_decay)
        new_params.append(fma_add(p, K._as(-adjusted_lr, p), update.astype(p.dtype)))
        new_bufs.append(buf)
    return (*new_params, *new_bufs)


class Muon(Optimizer):
    """Muon for 2-D weight matrices (use AdamW for biases, norms and embeddings).

    >>> opt = graphnet.optim.Muon([m.weight for m in model.modules()
    ...                            if isinstance(m, nn.Linear)], lr=0.02)

    State per parameter: 'momentum_buffer'.
    """

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def _step_group(self, index, group, params, grads, states):
        ns_steps = self._static(index, "ns_steps")
        if ns_steps >= 100:
            raise ValueError("Number of steps must be less than 100 for computational "
                             "efficiency")
        if len(group["ns_coefficients"]) != 3:
            raise ValueError("Coefficients must be a tuple of exactly 3 values")
        K.run_update(self, index, "muon_update",
                     ("lr", "weight_decay", "momentum", "eps", ("ns_coefficients", 0),
                      ("ns_coefficients", 1), ("ns_coefficients", 2)),
                     params, grads, states, ["momentum_buffer"],
                     nesterov=self._static(index, "nesterov", bool), ns_steps=ns_steps,
                     adjust_lr_fn=self._static(index, "adjust_lr_fn"))
