"""Stochastic weight averaging and EMA, as `torch.optim.swa_utils` in torch 2.13:
`AveragedModel` (a copy of a model whose parameters are a running average), the averaging
functions, `update_bn` (recompute BatchNorm statistics for the averaged weights) and the
`SWALR` scheduler.

>>> swa_model = AveragedModel(model)           # or multi_avg_fn=get_ema_multi_avg_fn(0.999)
>>> swa_sched = SWALR(opt, swa_lr=0.05)
>>> for epoch in range(epochs):
...     train(...)
...     if epoch >= swa_start:
...         swa_model.update_parameters(model); swa_sched.step()
>>> update_bn(loader, swa_model)

The averages are plain eager tensor math on detached tensors (`update_parameters` reads
`n_averaged` in Python, as torch does): call it outside compiled functions.
"""

from __future__ import annotations

import itertools
import math
import warnings
from copy import deepcopy

from .._autograd import no_grad
from .._dtype import int64
from .._factories import tensor as _tensor
from .._foreach import _foreach_lerp_
from .._x64 import x64
from ..nn._module import Module
from ..nn._norm import _BatchNorm
from ._lr_base import LRScheduler, _per_group

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _check_decay(decay) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         f"[0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    """In-place exponential moving average of a list of tensors:
    ema = lerp(ema, current, 1 - decay)."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _) -> None:
        # NOTE: torch's `_foreach_lerp_`, which rounds once per element (a lerp written out
        # rounded three times, and a bf16 EMA drifted from torch's by a few percent)
        if ema_param_list[0].is_floating_point():
            _foreach_lerp_(ema_param_list, current_param_list, 1 - decay)
            return
        for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
            p_ema.copy_(p_ema * decay + p_model * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """In-place running mean of a list of tensors: avg += (current - avg) / (n + 1)."""

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        if not averaged_param_list[0].is_floating_point():
            # NOTE: torch's integer path (addcdiv / an alpha of 1 / (n + 1)) raises too
            raise RuntimeError(
                "get_swa_multi_avg_fn cannot average integer tensors (torch raises 'Integer "
                "division with addcdiv is no longer supported'): with use_buffers=True and an "
                "integer buffer such as BatchNorm's num_batches_tracked, use the default "
                "averaging (no multi_avg_fn) or avg_fn=get_swa_avg_fn()")
        # torch's weight: a float32 tensor when `num_averaged` is AveragedModel's buffer
        _foreach_lerp_(averaged_param_list, current_param_list, 1 / (num_averaged + 1))
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """ema_fn(ema, current, n) -> decay * ema + (1 - decay) * current."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """swa_fn(avg, current, n) -> avg + (current - avg) / (n + 1)."""

    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A deep copy of `model` whose parameters (and, with use_buffers, buffers) are the
    running average of the model's over `update_parameters` calls: equal-weight SWA by
    default, or any `avg_fn` / `multi_avg_fn` (EMA: `get_ema_multi_avg_fn(decay)`). Calling
    it runs the averaged copy. `n_averaged` is an int64 buffer, as in torch."""

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None,
                 use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        with x64():
            self.register_buffer("n_averaged", _tensor(0, dtype=int64))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    @no_grad()
    def update_parameters(self, model: Module) -> None:
        """Fold `model`'s current parameters into the average (the first call copies)."""
        if self.use_buffers:
            ours = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            theirs = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            ours, theirs = list(self.parameters()), list(model.parameters())
        pairs = list(zip(ours, theirs))   # NOTE: torch zips non-strictly here
        n = int(self.n_averaged)
        if n == 0:
            for p_avg, p_model in pairs:
                p_avg.copy_(p_model.detach())
        else:
            avg = [p.detach() for p, _ in pairs]
            current = [q.detach() for _, q in pairs]
            if self.multi_avg_fn is not None:   # called once per dtype, as torch groups
                groups: dict = {}
                for a, c in zip(avg, current, strict=True):
                    mine, theirs = groups.setdefault(a.dtype, ([], []))
                    mine.append(a)
                    theirs.append(c)
                for mine, theirs in groups.values():
                    self.multi_avg_fn(mine, theirs, self.n_averaged)
            else:   # torch on CPU: the per-tensor SWA mean unless avg_fn is given
                avg_fn = self.avg_fn or get_swa_avg_fn()
                for (p_avg, _), a, c in zip(pairs, avg, current, strict=True):
                    p_avg.copy_(avg_fn(a, c, self.n_averaged))
        if not self.use_buffers:
            for b_avg, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                b_avg.copy_(b_model.detach())
        self.n_averaged.copy_(self.n_averaged + 1)


@no_grad()
def update_bn(loader, model: Module, device=None) -> None:
    """Recompute every BatchNorm's running statistics with one pass over `loader` (a
    cumulative average: momentum=None during the pass), as needed after weight averaging.
    Items that are lists or tuples contribute their first element."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to its `swa_lr` over `anneal_epochs` epochs ('cos' or
    'linear'), then hold it: the scheduler of the SWA phase.

    >>> swa_sched = SWALR(opt, swa_lr=0.05, anneal_epochs=5, anneal_strategy="linear")
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        for lr, group in zip(_per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups,
                             strict=True):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        if not getattr(self, "_get_lr_called_within_step", False):
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs, strict=True)]

    def _set_anneal_func(self, anneal_strategy) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" \
            else self._linear_anneal

    def state_dict(self) -> dict:
        """Attributes but the optimizer and the anneal function."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
