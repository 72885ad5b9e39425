"""Update kernels for Adam/AdamW, RMSprop and Adagrad (one multi-tensor op each), plus the
small state helpers their optimizer classes share.

Where optax equals PyTorch's step and where it does not (optax 0.2.8 vs torch 2.13, the
single-tensor path torch uses on CPU). "Equal" means the same formula; float32 rounding may
differ in the last bit because the operations are ordered differently.

Adam / AdamW
  - moments: `optax.tree.update_moment` (first) and `update_moment_per_elem_norm` (second)
    compute (1 - b) * g + b * m and (1 - b) * g^2 + b * v: equal to torch's
    `exp_avg.lerp_(g, 1 - b1)` and `exp_avg_sq.mul_(b2).addcmul_(g, g, value=1 - b2)`. Used.
  - `optax.scale_by_adam`'s direction m_hat / (sqrt(v_hat) + eps) is algebraically torch's, but
    its step count is an int32 while torch keeps `state['step']` as a float32 tensor and takes
    the bias corrections 1 - beta ** step in double precision; torch also orders the math as
    (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps). Written out here in torch's order.
  - `optax.scale_by_amsgrad` takes the maximum of the *bias-corrected* second moment; torch
    takes the maximum of the raw `exp_avg_sq` and divides by the current sqrt(bc2). These give
    different numbers, so amsgrad is written out.
  - L2 weight decay (Adam) adds wd * p to the gradient before the moments; decoupled weight
    decay (AdamW) multiplies p by 1 - lr * wd before the update. optax's
    `add_decayed_weights` gives the same AdamW result algebraically but applies after the
    direction; written out in torch's order.

RMSprop
  - `optax.scale_by_rms` / `optax.scale_by_stddev` (centered) equal torch's square_avg /
    grad_avg updates and g / (sqrt(square_avg [- grad_avg^2]) + eps) only with
    `eps_in_sqrt=False`; optax's default (`eps_in_sqrt=True`) puts eps inside the square root,
    which is not torch's. Used with `eps_in_sqrt=False`.
  - momentum: `optax.trace(decay=momentum)` computes buf = direction + momentum * buf, torch's
    `buf.mul_(momentum).addcdiv_(g, avg)` starting from a zero buffer. Used.
  - torch counts `step` but does not use it; it is kept for state_dict parity.

Adagrad
  - the accumulator of `optax.scale_by_rss` (sum += g^2) equals torch's
    `state_sum.addcmul_(g, g)`. Used.
  - its direction does not: optax computes g * rsqrt(sum + eps) (eps inside the root) and
    returns 0 where sum == 0; torch computes g / (sqrt(sum) + eps). optax has no lr_decay;
    torch's lr / (1 + (step - 1) * lr_decay) uses the float step. Both written out.
"""

from __future__ import annotations

import jax.numpy as jnp
import optax

from .. import _host
from .._dispatch import dispatch, label_state, live_scalar
from .._ops import defop
from ._kernels import decoupled_decayed, l2_decayed, updated_in_place
from .._aliases import store
from .._tensor import Tensor
from .._x64 import x64_scoped


def _split(tensors, n: int, count: int) -> list:
    assert len(tensors) == n * count, (len(tensors), n, count)
    return [list(tensors[i * n:(i + 1) * n]) for i in range(count)]


def _as(scalar, like):
    """A float64 scalar (bias corrections are double in torch) cast to the tensor's dtype,
    as torch casts a Python double when it meets a float32 tensor."""
    return jnp.asarray(scalar).astype(like.dtype)


@defop("adam_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def adam_update(lr, beta1, beta2, eps, weight_decay, *tensors, n, amsgrad, maximize,
                decoupled_weight_decay):
    """Inputs: 5 hyper-parameters, then n each of params, grads, steps, exp_avgs, exp_avg_sqs
    and (amsgrad) max_exp_avg_sqs. Outputs: new params, steps, exp_avgs, exp_avg_sqs and
    (amsgrad) max_exp_avg_sqs, n of each."""
    groups = _split(tensors, n, 6 if amsgrad else 5)
    params, grads, steps, exp_avgs, exp_avg_sqs = groups[:5]
    grads = [-g if maximize else g for g in grads]
    if decoupled_weight_decay:
        params = decoupled_decayed(params, lr, weight_decay)
    else:
        grads = l2_decayed(grads, params, weight_decay)
    exp_avgs = optax.tree.update_moment(grads, exp_avgs, beta1, 1)
    exp_avg_sqs = optax.tree.update_moment_per_elem_norm(grads, exp_avg_sqs, beta2, 2)
    steps = [s + 1 for s in steps]
    maxes = [jnp.maximum(m, v) for m, v in zip(groups[5], exp_avg_sqs, strict=True)] \
        if amsgrad else []
    new_params = []
    for p, m, v, step in zip(params, exp_avgs, maxes or exp_avg_sqs, steps, strict=True):
        step = step.astype(jnp.float64)
        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = jnp.sqrt(1 - beta2 ** step)
        denom = jnp.sqrt(v) / _as(bias_correction2_sqrt, v) + eps
        new_params.append(p + _as(-step_size, p) * m / denom)
    return (*new_params, *steps, *exp_avgs, *exp_avg_sqs, *maxes)


@defop("rmsprop_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def rmsprop_update(lr, alpha, eps, weight_decay, momentum, *tensors, n, centered,
                   use_momentum, maximize):
    """Inputs: 5 hyper-parameters, then n each of params, grads, steps, square_avgs,
    (use_momentum) momentum_buffers and (centered) grad_avgs. Outputs: the new values of
    all of them but grads, in the same order."""
    groups = _split(tensors, n, 4 + use_momentum + centered)
    params, grads, steps, square_avgs = groups[:4]
    bufs = groups[4] if use_momentum else []
    grad_avgs = groups[-1] if centered else []
    grads = [-g if maximize else g for g in grads]
    grads = l2_decayed(grads, params, weight_decay)
    if centered:
        scale = optax.scale_by_stddev(decay=alpha, eps=eps, eps_in_sqrt=False)
        directions, state = scale.update(grads, optax.ScaleByRStdDevState(mu=grad_avgs,
                                                                          nu=square_avgs))
        square_avgs, grad_avgs = state.nu, state.mu
    else:
        scale = optax.scale_by_rms(decay=alpha, eps=eps, eps_in_sqrt=False)
        directions, state = scale.update(grads, optax.ScaleByRmsState(nu=square_avgs))
        square_avgs = state.nu
    if use_momentum:
        directions, state = optax.trace(decay=momentum).update(
            directions, optax.TraceState(trace=bufs))
        bufs = state.trace
    new_params = [p + _as(-lr, p) * d for p, d in zip(params, directions, strict=True)]
    steps = [s + 1 for s in steps]
    return (*new_params, *steps, *square_avgs, *bufs, *grad_avgs)


@defop("adagrad_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def adagrad_update(lr, lr_decay, eps, weight_decay, *tensors, n, maximize):
    """Inputs: 4 hyper-parameters, then n each of params, grads, steps and sums. Outputs:
    new params, steps and sums."""
    params, grads, steps, sums = _split(tensors, n, 4)
    grads = [-g if maximize else g for g in grads]
    grads = l2_decayed(grads, params, weight_decay)
    accumulate = optax.scale_by_rss(initial_accumulator_value=0.0, eps=eps)
    _, state = accumulate.update(grads, optax.ScaleByRssState(sum_of_squares=sums))
    sums = state.sum_of_squares
    steps = [s + 1 for s in steps]
    new_params = []
    for p, g, total, step in zip(params, grads, sums, steps, strict=True):
        clr = lr / (1 + (step.astype(jnp.float64) - 1) * lr_decay)
        new_params.append(p + _as(-clr, p) * g / (jnp.sqrt(total) + eps))
    return (*new_params, *steps, *sums)


# ---- shared by adam.py, rmsprop.py, adagrad.py ---------------------------------------------
def live_hyper(optimizer, index: int, name: str, element: int | None = None):
    """group[name] (or group[name][element], for betas) as a live scalar: a plain float
    eagerly, a graph input re-read on every run when traced, so an lr scheduler or OneCycleLR
    changing it never recompiles. Always a float, so its graph dtype never changes when a
    user writes 0 (int) and later 0.1."""
    where = f"{optimizer._trace_prefix()}group{index}.{name}"
    if element is None:
        return optimizer._hyper(index, name)   # a traced 0 weight decay is the constant 0.0
    return live_scalar(lambda: float(optimizer.param_groups[index][name][element]),
                       f"{where}{element}")


def refuse_differentiable(name: str, differentiable: bool) -> None:
    """torch's differentiable=True makes step() part of the autograd graph; graphnet's
    update ops are not differentiable, so say so instead of silently ignoring the flag."""
    if differentiable:
        raise NotImplementedError(
            f"{name}(differentiable=True): graphnet optimizers do not record their step for "
            f"autograd. Drop differentiable=True (the update itself is the same).")


@x64_scoped   # a float64 parameter gets float64 state (graphnet/_x64.py)
def ensure_state(optimizer, p: Tensor, state: dict, keys, initial=None) -> None:
    """Create the missing state entries of `p` as concrete zeros ('step': a float32 0-d
    tensor, like torch), or `initial[key](p's array)` where given. Concrete, not traced: a
    compiled step then reads them as state inputs, so the first step does not force a
    second compile."""
    initial = initial or {}
    for key in keys:
        if key not in state:
            if key in initial:
                value = initial[key](p._value)
            elif key == "step":
                value = _host.zeros((), jnp.float32)
            else:
                value = _host.zeros(p._value.shape, p._value.dtype)
            state[key] = Tensor._wrap(value)
            # NOTE: with where to find it on a later call: a compiled step that created the
            # state reads whatever `optimizer.state[p][key]` holds then (a load_state_dict),
            # not this tensor (it silently kept stepping the old state before)
            label_state(state[key], f"{optimizer._param_name(p)}.{key}",
                        lambda o=optimizer, p=p, k=key: o.state.get(p, {})[k])


def run_update(optimizer, index: int, op: str, hypers, params, grads, states, keys,
               initial=None, **statics) -> None:
    """One group's step as one multi-tensor op: create missing state (`keys`, in torch's
    order), read the live hyper-parameters (`hypers`: names, or (name, element) for betas),
    dispatch `op` over params, grads and state, and write the outputs back in place."""
    for p, state in zip(params, states, strict=True):
        ensure_state(optimizer, p, state, keys, initial)
    state_tensors = [state[key] for key in keys for state in states]
    hyper = [live_hyper(optimizer, index, *((h,) if isinstance(h, str) else h)) for h in hypers]
    outs = dispatch(op, *hyper, *params, *grads, *state_tensors, n=len(params), **statics)
    assign(list(params) + state_tensors, outs)


def assign(targets, outputs) -> None:
    """Write kernel outputs into the existing tensors in place (a traced step records these
    as state updates)."""
    assert len(targets) == len(outputs), (len(targets), len(outputs))
    for t, new in zip(targets, outputs, strict=True):
        store(t, new._value)
