"""Adadelta, ASGD and Rprop with torch 2.13's options, defaults, state names and validation.
Each group's step is one multi-tensor op (`_kernels_classic.py`); their hyper-parameters are
live inputs of a compiled step, so a scheduler changing lr never recompiles."""

from __future__ import annotations

import jax.numpy as jnp

from .. import _host
from . import _kernels_adaptive as K
from . import _kernels_classic  # noqa: F401  (registers the update ops)
from ._checks import check_tensor_lr
from ._optimizer import Optimizer


def _check_lr(lr) -> None:
    check_tensor_lr(lr)
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


class Adadelta(Optimizer):
    """Adadelta (Zeiler): p -= lr * sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g.

    >>> opt = graphnet.optim.Adadelta(model.parameters(), lr=1.0, rho=0.9)

    State per parameter: 'step' (float32 0-d tensor), 'square_avg', 'acc_delta'.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        K.refuse_differentiable("Adadelta", differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, index, group, params, grads, states):
        K.run_update(self, index, "adadelta_update", ("lr", "rho", "eps", "weight_decay"),
                     params, grads, states, ["step", "square_avg", "acc_delta"],
                     maximize=self._static(index, "maximize", bool))


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky): SGD with the step size eta = lr / (1 + lambd * lr *
    t) ** alpha and decay (1 - lambd * eta), plus a running average 'ax' of the parameters
    that starts after step t0.

    >>> opt = graphnet.optim.ASGD(model.parameters(), lr=1e-2, t0=100)

    State per parameter: 'step', 'eta', 'mu' (float32 0-d tensors) and 'ax'.
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        K.refuse_differentiable("ASGD", differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _step_group(self, index, group, params, grads, states):
        lr = float(group["lr"])   # eta starts at the group's lr when the state is created
        K.run_update(self, index, "asgd_update", ("lr", "lambd", "alpha", "t0", "weight_decay"),
                     params, grads, states, ["step", "eta", "mu", "ax"],
                     initial={"eta": lambda _: jnp.asarray(lr, K.scalar_dtype()),
                              "mu": lambda _: jnp.ones((), K.scalar_dtype())},
                     maximize=self._static(index, "maximize", bool))


class Rprop(Optimizer):
    """Resilient backpropagation: each element's step size grows by etas[1] while its
    gradient keeps its sign and shrinks by etas[0] when it flips (then that step is
    skipped), clamped to step_sizes; p -= sign(g) * step_size. lr is only the initial step
    size.

    >>> opt = graphnet.optim.Rprop(model.parameters(), lr=1e-2, etas=(0.5, 1.2))

    State per parameter: 'step' (float32 0-d tensor), 'prev', 'step_size'.
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        K.refuse_differentiable("Rprop", differentiable)
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _step_group(self, index, group, params, grads, states):
        lr = float(group["lr"])   # the initial step size of a new state entry
        K.run_update(self, index, "rprop_update",
                     (("etas", 0), ("etas", 1), ("step_sizes", 0), ("step_sizes", 1)),
                     params, grads, states, ["step", "prev", "step_size"],
                     initial={"step_size": lambda v: _host.full(v.shape, lr, v.dtype)},
                     maximize=self._static(index, "maximize", bool))
