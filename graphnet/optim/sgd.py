"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from .._dispatch import dispatch, label_state
from .._aliases import store
from .._autograd_versions import note_step
from . import _kernels  # noqa: F401  (registers sgd_update)
from ._checks import check_tensor_lr
from ._kernels_adaptive import value_in_dtype_of
from ._optimizer import Optimizer, required


class SGD(Optimizer):
    """`SGD(model.parameters(), lr=0.1, momentum=0.9)`; per-group options as in PyTorch."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        check_tensor_lr(lr)
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _step_group(self, index, group, params, grads, states):
        if self._static(index, "differentiable", bool):
            _refuse_leaf_update(params)
        use_momentum = self._static(index, "momentum", lambda m: m != 0)
        if not use_momentum:
            self._update(index, group, params, grads, states, False, False)
            return
        # Parameters whose buffer exists continue it; the others (first step, or a gradient
        # that was None until now) start it from their gradient, as PyTorch does per parameter.
        # NOTE: torch reads every buffer before its loop, so a parameter listed twice in
        # the group starts its buffer afresh on both listings of its first step
        started = getattr(self, "_started", set())
        for has_buf in (True, False):
            chosen = [i for i, (p, s) in enumerate(zip(params, states))
                      if (s.get("momentum_buffer") is not None   # None: torch starts anew
                          and id(p) not in started) == has_buf]
            if chosen:
                self._update(index, group, [params[i] for i in chosen],
                             [grads[i] for i in chosen], [states[i] for i in chosen], True,
                             has_buf)

    def _update(self, index, group, params, grads, states, use_momentum, has_buf):
        bufs = [s["momentum_buffer"] for s in states] if has_buf else []
        outs = dispatch("sgd_update", self._hyper(index, "lr"), self._hyper(index, "momentum"),
                        self._hyper(index, "dampening"), self._hyper(index, "weight_decay"),
                        *params, *grads, *bufs, n=len(params),
                        nesterov=self._static(index, "nesterov", bool),
                        maximize=self._static(index, "maximize", bool), has_buf=has_buf,
                        use_momentum=use_momentum)
        n = len(params)
        for p, new in zip(params, outs[:n]):
            store(p, value_in_dtype_of(p, new))   # a float64 buffer keeps p float32
            note_step(p)
        for p, state, new in zip(params, states, outs[n:]):
            if has_buf:
                store(state["momentum_buffer"], value_in_dtype_of(state["momentum_buffer"], new))
                note_step(state["momentum_buffer"])
            else:
                state["momentum_buffer"] = new
                if getattr(self, "_started", None) is not None:
                    self._started.add(id(p))
                label_state(new, f"{self._param_name(p)}.momentum_buffer")


def _refuse_leaf_update(params) -> None:
    """torch's SGD(differentiable=True) steps with grad mode on, so its in-place update of a
    parameter that requires grad (every optimizer parameter is a leaf) is refused."""
    # NOTE: graphnet stepped such a group silently, while torch raised at step(). torch
    # updates the group's earlier parameters first (but never stores their momentum
    # buffers); graphnet raises before updating any of the group.
    if any(p.requires_grad for p in params):
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation. SGD(differentiable=True) updates with grad mode on, where "
                           "a parameter that requires grad cannot be written in place; drop "
                           "differentiable=True for an ordinary step.")
