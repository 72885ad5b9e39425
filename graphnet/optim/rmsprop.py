"""RMSprop (Hinton), with momentum, centering, weight decay and maximize, as in torch 2.13."""

from __future__ import annotations

from .._dispatch import dispatch
from . import _kernels_adaptive as K
from ._checks import check_tensor_lr
from ._optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop with PyTorch's options, state names and param_group keys.

    >>> opt = graphnet.optim.RMSprop(model.parameters(), lr=1e-2, momentum=0.9, centered=True)

    eps is added outside the square root: p -= lr * g / (sqrt(square_avg) + eps). State per
    parameter: 'step' (float32 0-d tensor), 'square_avg', 'momentum_buffer' (momentum > 0)
    and 'grad_avg' (centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        K.refuse_differentiable("RMSprop", differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, index, group, params, grads, states):
        use_momentum = self._static(index, "momentum", lambda m: m > 0)
        centered = self._static(index, "centered", bool)
        keys = ["step", "square_avg"] + (["momentum_buffer"] if use_momentum else []) \
            + (["grad_avg"] if centered else [])
        for p, state in zip(params, states, strict=True):
            K.ensure_state(self, p, state, keys, optional=keys[2:])
        state_tensors = [state[key] for key in keys for state in states]
        hyper = [K.live_hyper(self, index, name)
                 for name in ("lr", "alpha", "eps", "weight_decay", "momentum")]
        outs = dispatch("rmsprop_update", *hyper, *params, *grads, *state_tensors,
                        n=len(params), centered=centered, use_momentum=use_momentum,
                        maximize=self._static(index, "maximize", bool))
        K.assign(list(params) + state_tensors, outs)
