"""NAdam, RAdam and Adamax with torch 2.13's options, defaults, state names and validation.
Each group's step is one multi-tensor op (`_kernels_adam_family.py`), so a compiled train
step runs it as one node; lr, betas, eps, weight_decay and momentum_decay are live inputs a
scheduler may change between calls without a recompile."""

from __future__ import annotations

import jax.numpy as jnp

from . import _kernels_adam_family  # noqa: F401  (registers the update ops)
from . import _kernels_adaptive as K
from ._checks import check_tensor_lr
from ._optimizer import Optimizer

_ADAM_HYPERS = ("lr", ("betas", 0), ("betas", 1), "eps", "weight_decay")


def check_adam_args(lr, betas, eps, weight_decay) -> None:
    """The checks torch's Adam-like constructors share, with its messages."""
    check_tensor_lr(lr)
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat), with momentum_decay's schedule
    mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)).

    >>> opt = graphnet.optim.NAdam(model.parameters(), lr=2e-3, decoupled_weight_decay=True,
    ...                            weight_decay=1e-2)

    State per parameter: 'step', 'mu_product' (float32 0-d tensors), 'exp_avg', 'exp_avg_sq'.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_adam_args(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        K.refuse_differentiable("NAdam", differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, index, group, params, grads, states):
        K.run_update(self, index, "nadam_update", _ADAM_HYPERS + ("momentum_decay",), params,
                     grads, states, ["step", "mu_product", "exp_avg", "exp_avg_sq"],
                     initial={"mu_product": _one},
                     maximize=self._static(index, "maximize", bool),
                     decoupled_weight_decay=self._static(index, "decoupled_weight_decay",
                                                         bool))


def _one(_):
    return jnp.ones((), K.scalar_dtype())   # NAdam's mu_product starts at 1 (torch's dtype)


class RAdam(Optimizer):
    """Rectified Adam (Liu et al.): plain momentum SGD while the variance of the adaptive lr
    is intractable (rho_t <= 5), the rectified Adam step after.

    >>> opt = graphnet.optim.RAdam(model.parameters(), lr=1e-3)

    State per parameter: 'step' (float32 0-d tensor), 'exp_avg', 'exp_avg_sq'.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_adam_args(lr, betas, eps, weight_decay)
        K.refuse_differentiable("RAdam", differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, index, group, params, grads, states):
        K.run_update(self, index, "radam_update", _ADAM_HYPERS, params, grads, states,
                     ["step", "exp_avg", "exp_avg_sq"],
                     maximize=self._static(index, "maximize", bool),
                     decoupled_weight_decay=self._static(index, "decoupled_weight_decay",
                                                         bool))


class Adamax(Optimizer):
    """Adam with the infinity norm: u = max(beta2 * u, |g| + eps),
    p -= lr / (1 - beta1 ** t) * m / u.

    >>> opt = graphnet.optim.Adamax(model.parameters(), lr=2e-3)

    State per parameter: 'step' (float32 0-d tensor), 'exp_avg', 'exp_inf'.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_adam_args(lr, betas, eps, weight_decay)
        K.refuse_differentiable("Adamax", differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _step_group(self, index, group, params, grads, states):
        K.run_update(self, index, "adamax_update", _ADAM_HYPERS, params, grads, states,
                     ["step", "exp_avg", "exp_inf"],
                     maximize=self._static(index, "maximize", bool))
