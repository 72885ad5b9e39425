"""`LRScheduler`, the base of graphnet's lr schedulers (public in `lr_scheduler`): it owns
`last_epoch`, `base_lrs`, `get_last_lr()`, `state_dict()` and the step protocol of torch 2.13
(the constructor already takes step 0)."""

from __future__ import annotations

import warnings

from .. import _dispatch
from .._errors import TraceError
from .._mode import tracing
from .._tensor import Tensor
from ._optimizer import Optimizer

_EPOCH_WARNING = ("scheduler.step(epoch) is deprecated (as in PyTorch): call scheduler.step() "
                  "once per epoch. The lr for the given epoch comes from the closed form.")

_ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 and "
    "later, you should call them in the opposite order: `optimizer.step()` before "
    "`lr_scheduler.step()`.  Failure to do this will result in PyTorch skipping the first "
    "value of the learning rate schedule. See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate")


def _watch_optimizer_steps(optimizer) -> None:
    """Start counting `optimizer.step()` calls for the order warning in `step()`: every
    step sets `_opt_called` once the attribute exists (optim/_hooks.py). As in torch, which
    wraps opt.step when its first scheduler is built, steps taken before that do not count."""
    if "_opt_called" not in optimizer.__dict__:
        optimizer._opt_called = False


def set_group_lr(group: dict, lr) -> None:
    """`group["lr"] = lr`, but a tensor lr is written in place (`fill_`), as PyTorch's
    schedulers write it: the user's tensor and the optimizer's stay the same object."""
    if isinstance(group["lr"], Tensor):
        group["lr"].fill_(lr.item() if isinstance(lr, Tensor) else lr)
    else:
        group["lr"] = lr


def _check_optimizer(optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _per_group(name: str, optimizer: Optimizer, value) -> list:
    """One value per param group: a list/tuple must match the group count."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups: "
                             f"{len(value)} values for {len(optimizer.param_groups)} groups")
        return list(value)
    return [value] * len(optimizer.param_groups)


def refuse_while_tracing(scheduler) -> None:
    """A scheduler's step is Python bookkeeping (epoch count, new learning rates): inside code
    being compiled it would run once, while tracing, and never on later calls, so the learning
    rate would silently stop changing. Refuse it there, with the fix."""
    if tracing():
        name = type(scheduler).__name__
        raise TraceError(
            f"{name}.step() was called inside a function being compiled. Its Python "
            f"bookkeeping would run only while tracing, never on later calls, so the learning "
            f"rate would stop changing. Call scheduler.step() outside the compiled function "
            f"(once per epoch, after the batch loop); the compiled step re-reads the learning "
            f"rate on every call, so changing it never recompiles.")


class LRScheduler:
    """Base class. Subclasses define `get_lr()` (the chainable, recursive form that `step()`
    uses) and optionally `_get_closed_form_lr()` (used by the deprecated `step(epoch)`)."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                lr = group["lr"]
                group.setdefault("initial_lr", lr.clone() if isinstance(lr, Tensor) else lr)
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   f"when resuming with last_epoch={last_epoch}; load the "
                                   f"optimizer's state_dict first, or use last_epoch=-1")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        _watch_optimizer_steps(optimizer)
        self._initial_step()

    def _initial_step(self) -> None:
        """Take step 0 (SequentialLR calls it again when its next scheduler takes over)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()   # sets the lr for epoch 0
        finally:
            self._is_initial = False

    def get_lr(self) -> list:
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr()")

    def get_last_lr(self) -> list:
        """The lr of every param group as last set by this scheduler."""
        # read inside a compiled step (to log or scale by it): a later lr traces again
        _dispatch.depends_on(f"{type(self).__name__}.get_last_lr() == {self._last_lr}",
                             lambda: list(self._last_lr))
        return self._last_lr

    def _group_lrs(self) -> list:
        """The groups' lrs, a tensor lr as a copy (get_last_lr() never aliases one)."""
        return [group["lr"].clone() if isinstance(group["lr"], Tensor) else group["lr"]
                for group in self.optimizer.param_groups]

    def _warn_if_outside_step(self) -> None:
        if not getattr(self, "_get_lr_called_within_step", False):
            warnings.warn("To get the last learning rate computed by the scheduler, use "
                          "get_last_lr(); get_lr() computes the next one", UserWarning,
                          stacklevel=3)

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or, deprecated, jump to `epoch`) and write the new lrs."""
        refuse_while_tracing(self)
        # NOTE: StepLR(opt, 1).step() before any opt.step() was silent; torch warns on the
        # first explicit step (the constructor's step 0 leaves _step_count at 1).
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(_ORDER_WARNING, UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        """The step without its bookkeeping: SequentialLR calls `_update_lr(0)` to restart
        the next scheduler from its closed form at a milestone."""
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed = getattr(self, "_get_closed_form_lr", None)
                values = closed() if closed is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            set_group_lr(group, lr)
        self._last_lr = self._group_lrs()

    def state_dict(self) -> dict:
        """Every attribute but the optimizer."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)


class _LRScheduler(LRScheduler):
    """The base's old name, still subclassed by older code (as in torch)."""
