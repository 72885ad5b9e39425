"""`Function.apply` while a graph is recorded: one `custom_function` node per call.

The node's inputs are the forward's outputs, then every tensor the backward may read (saved
with `save_for_backward`, or kept as an attribute of `ctx`), then the forward's tensor
arguments. Its kernel is the identity on the outputs under `jax.custom_vjp`; the VJP rebinds
those tensors to JAX's arrays and calls the user's `backward` on them (`_OnTracers`). The
forward's own ops were traced under no_grad, so the gradient reaches the arguments only
through this node, exactly as PyTorch's tape does."""

from __future__ import annotations

import copy

import jax
from jax.custom_derivatives import SymbolicZero

from .. import _autograd
from .._dispatch import dispatch, ran_user_code
from .._mode import DispatchMode, push_mode
from .._x64 import x64
from .._tensor import Tensor
from .function import _call_backward, _validate


class _OnTracers(DispatchMode):
    """Runs each op's kernel directly on JAX's tracers, as part of the program JAX is
    differentiating. NOTE: index value checks cannot read traced values, so they are skipped
    here: indices a backward uses come from its forward, which was checked.

    What the user's backward computes under `no_grad()`, or through `detach()` / `.data`, is
    a constant to a second derivative, as on PyTorch's tape: those values are wrapped in
    `stop_gradient`. (Before, JAX differentiated through them: a compiled double backward
    through `with no_grad(): s = x.exp()` gave 2e^x + 2xe^x where PyTorch gives 2e^x.)"""

    def run_op(self, opdef, args, attrs):
        out = opdef.impl(*[a._value if isinstance(a, Tensor) else a for a in args], **attrs)
        outs = out if opdef.n_outputs != 1 else (out,)
        if not _autograd.grad_mode.enabled:
            outs = tuple(jax.lax.stop_gradient(o) for o in outs)
        results = tuple(Tensor._wrap(o) for o in outs)
        return results if opdef.n_outputs != 1 else results[0]

    def on_tensor_created(self, t) -> None:     # `detach()` and `.data` aliases
        t._value = jax.lax.stop_gradient(t._value)

    @staticmethod
    def once_differentiable(outputs):
        """A `@once_differentiable` backward's results: PyTorch's error if JAX differentiates
        them (a double backward), else the same values."""
        single = not isinstance(outputs, tuple)
        wrapped = tuple(Tensor._wrap(_refuse_derivative(o._value)) if isinstance(o, Tensor)
                        else o for o in ((outputs,) if single else outputs))
        return wrapped[0] if single else wrapped


@jax.custom_jvp
def _refuse_derivative(x):
    return x


@_refuse_derivative.defjvp
def _refuse_derivative_jvp(primals, tangents):
    raise RuntimeError("trying to differentiate twice a function that was marked with "
                       "@once_differentiable")


class _Spec:
    """What one traced call needs to run the user's backward: hashed by identity."""

    def __init__(self, cls, ctx, n_out, saved_slots, arg_positions, n_args, out_dtypes):
        self.cls, self.ctx = cls, ctx
        self.n_out = n_out
        self.saved_slots = saved_slots        # ("save", i) | ("attr", name), per saved input
        self.arg_positions = arg_positions    # forward argument index per tensor argument
        self.n_args = n_args
        self.out_dtypes = out_dtypes

    def kernel(self, *arrays):
        n_out = self.n_out

        @jax.custom_vjp
        def identity(*a):
            return tuple(a[:n_out])

        def fwd(*a):   # symbolic zeros: the primals come as CustomVJPPrimal
            a = tuple(p.value for p in a)
            return identity(*a), a

        def bwd(res, cts):
            # an output nothing used has a symbolic zero cotangent: None for the user's
            # backward after `ctx.set_materialize_grads(False)`, as PyTorch passes, else zeros
            # (an integer output's cotangent is JAX's float0: zeros of the output's dtype)
            cts = [c if not isinstance(c, SymbolicZero) and c.dtype != jax.dtypes.float0
                   else jax.numpy.zeros(out.shape, out.dtype) if self.ctx.materialize_grads
                   else None for c, out in zip(cts, res)]
            grads = self.backward(res, cts)
            return (None,) * (len(res) - len(grads)) + tuple(grads)

        identity.defvjp(fwd, bwd, symbolic_zeros=True)
        return identity(*arrays)

    def backward(self, res, cts) -> list:
        """The user's backward on arrays: one cotangent (or None) per tensor argument."""
        n_out, n_saved = self.n_out, len(self.saved_slots)
        ctx = copy.copy(self.ctx)
        saved = list(ctx.to_save)
        for slot, array in zip(self.saved_slots, res[n_out:n_out + n_saved]):
            kind, key = slot
            if kind == "save":
                saved[key] = Tensor._wrap(array)
            else:
                setattr(ctx, key, Tensor._wrap(array))
        ctx.to_save = tuple(saved)
        args = res[n_out + n_saved:]
        name = f"{self.cls.__name__}Backward"
        with x64(), push_mode(_OnTracers()):
            # with grad mode on, so that what the backward runs under no_grad() is told apart
            grads = _call_backward(self.cls, ctx, [None if c is None else Tensor._wrap(c)
                                                   for c in cts], self.n_args, True)
            out = []
            for position, a in zip(self.arg_positions, args):
                g = None if not _autograd.floating(a.dtype) else \
                    _validate(name, position, grads[position], (a.shape, a.dtype))
                out.append(None if g is None else g._value)
        return out


def apply_static(cls, ctx, args, output, record: bool):
    single = not isinstance(output, tuple)
    outs = (output,) if single else output
    tensor_outs = [o for o in outs if isinstance(o, Tensor)]
    ran_user_code(cls.forward, cls.backward, getattr(cls, "setup_context", None))
    if not record:
        return output
    saved, slots = [], []
    for i, t in enumerate(ctx.to_save):
        if isinstance(t, Tensor):
            saved.append(t)
            slots.append(("save", i))
    for name, value in vars(ctx).items():
        if isinstance(value, Tensor):
            saved.append(value)
            slots.append(("attr", name))
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    spec = _Spec(cls, ctx, len(tensor_outs), slots, positions, len(args),
                 [o.dtype for o in tensor_outs])
    results = dispatch("custom_function", *tensor_outs, *saved, *(args[i] for i in positions),
                       spec=spec)
    nondiff = {id(t) for t in ctx.non_differentiable}
    it = iter(results)
    wrapped = []
    for o in outs:
        if not isinstance(o, Tensor):
            wrapped.append(o)
            continue
        r = next(it)
        if id(o) in nondiff:
            r.grad_fn, r.requires_grad = None, False
        wrapped.append(r)
    return wrapped[0] if single else tuple(wrapped)
