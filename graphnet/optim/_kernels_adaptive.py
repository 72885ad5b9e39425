"""Update kernels for Adam/AdamW, RMSprop and Adagrad (one multi-tensor op each), plus the
small state helpers their optimizer classes share.

Each kernel is torch 2.13's single-tensor step (the path it takes on the CPU) written op
for op with `_cpu_ops.py`, which rounds where torch's CPU kernels round: a float16 or
bfloat16 step then gives torch's numbers bit for bit. The update math of optax (used here
before) is algebraically the same for Adam's moments, RMSprop and Adagrad's accumulator,
but rounds elsewhere (3-20% of half-precision elements came out 1 ulp away), and optax's
amsgrad takes the maximum of the bias-corrected moment, which torch does not.

Python numbers in torch's step (the bias corrections 1 - beta ** step, Adagrad's decayed
lr) are doubles computed from the float32 step tensor; they are float64 here.
"""

from __future__ import annotations

import jax.numpy as jnp

from .. import _host
from .._dispatch import dispatch, label_state, live_scalar
from .._ops import defop
from .._ops._promote import cpp_name
from . import _cpu_ops as C
from ._kernels import is_off, updated_in_place
from .._aliases import store
from .._autograd_versions import note_step
from .._tensor import Tensor
from .._x64 import x64_scoped


def _split(tensors, n: int, count: int) -> list:
    assert len(tensors) == n * count, (len(tensors), n, count)
    return [list(tensors[i * n:(i + 1) * n]) for i in range(count)]


def _as(scalar, like):
    """A float64 scalar (bias corrections are double in torch) cast to the tensor's dtype,
    as torch casts a Python double when it meets a float32 tensor."""
    return jnp.asarray(scalar).astype(like.dtype)


def _lerp_(start, end, weight):
    """torch's `start.lerp_(end, weight)`, which needs `end` in `start`'s dtype: after
    `model.double()` torch's Adam (and centered RMSprop) raises this on its float32 state."""
    if start.dtype != end.dtype:
        raise RuntimeError(f"expected dtype {cpp_name(start.dtype)} for `end` but got dtype "
                           f"{cpp_name(end.dtype)}")
    return C.lerp(start, end, weight)


def _kept(new, state):
    """An in-place update's result in the state's own dtype, as torch's `state.op_(...)` writes
    it (float64 math on float32 state after `model.double()` is rounded back right away)."""
    return new.astype(state.dtype)


@defop("adam_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def adam_update(lr, beta1, beta2, eps, weight_decay, *tensors, n, amsgrad, maximize,
                decoupled_weight_decay):
    """Inputs: 5 hyper-parameters, then n each of params, grads, steps, exp_avgs, exp_avg_sqs
    and (amsgrad) max_exp_avg_sqs. Outputs: new params, steps, exp_avgs, exp_avg_sqs and
    (amsgrad) max_exp_avg_sqs, n of each."""
    groups = _split(tensors, n, 6 if amsgrad else 5)
    params, grads, steps, exp_avgs, exp_avg_sqs = groups[:5]
    maxes = groups[5] if amsgrad else [None] * n
    outs = ([], [], [], [], [])
    for p, g, step, m, v, top in zip(params, grads, steps, exp_avgs, exp_avg_sqs, maxes,
                                     strict=True):
        # torch's _single_tensor_adam, op for op (see _cpu_ops.py for the rounding)
        g = -g if maximize else g
        step = step + 1
        if not is_off(weight_decay):
            if decoupled_weight_decay:
                p = C.mul(p, 1 - lr * weight_decay)
            else:
                g = C.add(g, p, weight_decay)
        m = _lerp_(m, g, 1 - beta1)
        v = C.addcmul(C.mul(v, beta2), g, g, 1 - beta2)
        t = step.astype(jnp.float64)
        step_size = lr / (1 - beta1 ** t)
        bias_correction2_sqrt = (1 - beta2 ** t) ** 0.5
        if amsgrad:
            top = C.maximum(top, v)
        denom = C.add_scalar(C.div_scalar(C.sqrt(top if amsgrad else v),
                                          bias_correction2_sqrt), eps)
        p = C.addcdiv(p, m, denom, -step_size)
        for out, value in zip(outs, (p, step, m, v, top), strict=True):
            out.append(value)
    return tuple(x for out in outs[:5 if amsgrad else 4] for x in out)


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
    outs = ([], [], [], [], [])
    for k, (p, g, step, v) in enumerate(zip(params, grads, steps, square_avgs, strict=True)):
        # torch's _single_tensor_rmsprop, op for op
        g = -g if maximize else g
        if not is_off(weight_decay):
            g = C.add(g, p, weight_decay)
        v = _kept(C.addcmul(C.mul(v, alpha), g, g, 1 - alpha), v)
        if centered:
            grad_avg = _lerp_(grad_avgs[k], g, 1 - alpha)
            avg = C.sqrt(C.addcmul(v, grad_avg, grad_avg, -1))
            outs[4].append(grad_avg)
        else:
            avg = C.sqrt(v)
        avg = C.add_scalar(avg, eps)
        if use_momentum:
            buf = _kept(C.addcdiv(C.mul(bufs[k], momentum), g, avg), bufs[k])
            p = C.add(p, buf, -lr)
            outs[3].append(buf)
        else:
            p = C.addcdiv(p, g, avg, -lr)
        for out, value in zip(outs, (p, step + 1, v), strict=False):
            out.append(value)
    return tuple(x for out in outs for x in out)


@defop("adagrad_update", "opaque", n_outputs=0, differentiable=False, function=None,
       method=None, overwrites=updated_in_place)
def adagrad_update(lr, lr_decay, eps, weight_decay, *tensors, n, maximize):
    """Inputs: 4 hyper-parameters, then n each of params, grads, steps and sums. Outputs:
    new params, steps and sums."""
    params, grads, steps, sums = _split(tensors, n, 4)
    outs = ([], [], [])
    for p, g, step, total in zip(params, grads, steps, sums, strict=True):
        # torch's _single_tensor_adagrad, op for op
        step = step + 1
        g = -g if maximize else g
        if not is_off(weight_decay):
            g = C.add(g, p, weight_decay)
        clr = lr / (1 + (step.astype(jnp.float64) - 1) * lr_decay)
        total = _kept(C.addcmul(total, g, g, 1), total)
        std = C.add_scalar(C.sqrt(total), eps)
        p = C.addcdiv(p, g, std, -clr)
        for out, value in zip(outs, (p, step, total), strict=True):
            out.append(value)
    return tuple(x for out in outs for x in out)


# ---- shared by adam.py, rmsprop.py, adagrad.py ---------------------------------------------
def live_hyper(optimizer, index: int, name: str, element: int | None = None):
    """group[name] (or group[name][element], for betas) as a live scalar: a plain float
    eagerly, a graph input re-read on every run when traced, so an lr scheduler or OneCycleLR
    changing it never recompiles. Always a float, so its graph dtype never changes when a
    user writes 0 (int) and later 0.1."""
    where = f"{optimizer._trace_prefix()}group{index}.{name}"
    if element is None:
        return optimizer._hyper(index, name)   # a traced 0 weight decay is the constant 0.0
    optimizer._refuse_traced(index, f"{name}'][{element}",
                             optimizer.param_groups[index][name][element])
    return live_scalar(lambda: float(optimizer.param_groups[index][name][element]),
                       f"{where}{element}")


def refuse_differentiable(name: str, differentiable: bool) -> None:
    """torch's differentiable=True makes step() part of the autograd graph; graphnet's
    update ops are not differentiable, so say so instead of silently ignoring the flag."""
    if differentiable:
        raise NotImplementedError(
            f"{name}(differentiable=True): graphnet optimizers do not record their step for "
            f"autograd. Drop differentiable=True (the update itself is the same).")


def scalar_dtype():
    """PyTorch's dtype of an optimizer's 0-d state ('step', NAdam's mu_product, ASGD's eta and
    mu): float64 when that is the default dtype, else float32 (its _get_scalar_dtype)."""
    from .._default_dtype import default_float
    from .. import _dtype as dt

    return jnp.float64 if default_float() == dt.float64 else jnp.float32


@x64_scoped   # a float64 parameter gets float64 state (graphnet/_x64.py)
def ensure_state(optimizer, p: Tensor, state: dict, keys, initial=None, optional=()) -> None:
    """Create the missing state entries of `p` as concrete zeros ('step': a 0-d tensor of
    `scalar_dtype()`, like torch), or `initial[key](p's array)` where given. Concrete, not
    traced: a compiled step then reads them as state inputs, so the first step does not force
    a second compile.

    `optional` are the keys an option adds (Adam's 'max_exp_avg_sq' with amsgrad): torch
    creates them only with a new state, so turning the option on for a parameter that has
    stepped raises torch's KeyError instead of starting the entry from zero."""
    initial = initial or {}
    if state:
        for key in optional:
            if key not in state:
                raise KeyError(key)
    for key in keys:
        if key not in state:
            if key in initial:
                value = initial[key](p._value)
            elif key == "step":
                value = _host.zeros((), scalar_dtype())
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
        store(t, value_in_dtype_of(t, new))
        note_step(t)


def value_in_dtype_of(target: Tensor, new: Tensor):
    """`new`'s value cast to `target`'s dtype, to write over `target` in place."""
    # NOTE: torch's in-place state updates keep the state's dtype: after `model.double()` an
    # existing float32 momentum buffer or Adagrad sum is updated in float64 and rounded back to
    # float32. Storing the float64 result let the state drift, and a compiled step traced with
    # float32 state then crashed on float64 inputs.
    return new._value if new.dtype == target.dtype else new.to(target.dtype)._value
