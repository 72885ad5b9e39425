"""Adagrad (Duchi et al.) with lr_decay, weight decay, an initial accumulator and maximize,
as in torch 2.13."""

from __future__ import annotations

import jax.numpy as jnp

from .. import _host
from .._dispatch import dispatch, label_state
from .._tensor import Tensor
from .._x64 import x64_scoped
from . import _kernels_adaptive as K
from ._checks import check_tensor_lr
from ._optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad with PyTorch's options, state names and param_group keys.

    >>> opt = graphnet.optim.Adagrad(model.parameters(), lr=1e-2, lr_decay=1e-4)

    Step k uses lr / (1 + (k - 1) * lr_decay) and p -= clr * g / (sqrt(sum) + eps). Like
    torch, state ('step' = 0.0, 'sum' = initial_accumulator_value) exists from construction.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        K.refuse_differentiable("Adagrad", differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)
        # NOTE: torch fills every 'sum' with the constructor's value, not the group's.
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, initial_accumulator_value)

    @x64_scoped   # a float64 parameter gets a float64 'sum' (graphnet/_x64.py)
    def _init_state(self, p: Tensor, value) -> None:
        state = self.state[p]
        state["step"] = Tensor._wrap(jnp.zeros((), K.scalar_dtype()))
        state["sum"] = Tensor._wrap(_host.full(p._value.shape, value, p._value.dtype))
        for key in ("step", "sum"):  # names graph inputs when this runs inside a trace
            label_state(state[key], f"{self._param_name(p)}.{key}",
                        lambda p=p, k=key: self.state.get(p, {})[k])

    def _step_group(self, index, group, params, grads, states):
        for p, state in zip(params, states, strict=True):
            if not state:  # a group added after construction: torch 2.13's _init_group
                # fills it from the defaults, not from the group's own value
                self._init_state(p, self.defaults["initial_accumulator_value"])
        steps, sums = [s["step"] for s in states], [s["sum"] for s in states]
        hyper = [K.live_hyper(self, index, name)
                 for name in ("lr", "lr_decay", "eps", "weight_decay")]
        outs = dispatch("adagrad_update", *hyper, *params, *grads, *steps, *sums,
                        n=len(params), maximize=self._static(index, "maximize", bool))
        K.assign(list(params) + steps + sums, outs)
