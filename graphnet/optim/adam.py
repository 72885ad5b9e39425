"""Adam and AdamW (decoupled weight decay), with amsgrad and maximize, as in torch 2.13."""

from __future__ import annotations

from .._dispatch import dispatch
from . import _kernels_adaptive as K
from ._checks import check_adam_tensor_lr, checked_adam_betas
from ._optimizer import Optimizer


class Adam(Optimizer):
    """Adam (Kingma & Ba) with PyTorch's options, state names and param_group keys.

    >>> opt = graphnet.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
    >>> loss.backward(); opt.step(); opt.zero_grad()

    State per parameter: 'step' (float32 0-d tensor), 'exp_avg', 'exp_avg_sq' and, with
    amsgrad, 'max_exp_avg_sq'. `foreach`, `fused` and `capturable` are accepted and stored;
    every group already runs as one fused multi-tensor op.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        check_adam_tensor_lr(lr, foreach, capturable)
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
        betas = checked_adam_betas(betas, foreach, capturable)
        K.refuse_differentiable(type(self).__name__, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _step_group(self, index, group, params, grads, states):
        amsgrad = self._static(index, "amsgrad", bool)
        keys = ["step", "exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if amsgrad else [])
        for p, state in zip(params, states, strict=True):
            K.ensure_state(self, p, state, keys, optional=keys[3:])
        state_tensors = [state[key] for key in keys for state in states]
        outs = dispatch("adam_update", K.live_hyper(self, index, "lr"),
                        K.live_hyper(self, index, "betas", 0),
                        K.live_hyper(self, index, "betas", 1),
                        K.live_hyper(self, index, "eps"),
                        K.live_hyper(self, index, "weight_decay"),
                        *params, *grads, *state_tensors, n=len(params),
                        amsgrad=amsgrad, maximize=self._static(index, "maximize", bool),
                        decoupled_weight_decay=self._static(index, "decoupled_weight_decay",
                                                            bool))
        K.assign(list(params) + state_tensors, outs)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p *= 1 - lr * weight_decay
    before the Adam update. Same as `Adam(..., decoupled_weight_decay=True)`.

    >>> opt = graphnet.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
