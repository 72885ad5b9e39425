"""`torch.profiler`: `record_function` labels a region (a no-op here, as in
`graphnet.autograd.profiler`: graphnet has no profiler of its own), `ProfilerActivity`,
`ProfilerAction` and `schedule` as PyTorch defines them, so that annotated model code and
a training script's profiling setup run unchanged; `profile` refuses with the way to profile
a graphnet program (JAX's profiler, which sees every XLA program it runs)."""

from __future__ import annotations

import enum

from .autograd.profiler import record_function

__all__ = ["ProfilerAction", "ProfilerActivity", "profile", "record_function", "schedule",
           "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0):
    """PyTorch's profiling schedule: step number -> ProfilerAction (skip `skip_first` steps,
    then cycles of `wait` idle, `warmup` and `active` recording steps, `repeat` times; 0:
    forever)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup="
            f"{warmup} (need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
            f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        import warnings

        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)

    def action(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if skip_first_wait:
            step += wait     # every cycle shifted: the first one starts without its wait
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        mod = step % cycle
        if mod < wait:
            return ProfilerAction.NONE
        if mod < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


def _refuse(name: str):
    raise NotImplementedError(
        f"graphnet.profiler.{name} is not supported: graphnet runs XLA programs, which JAX's "
        f"profiler records. Use `with jax.profiler.trace(log_dir):` and TensorBoard or "
        f"Perfetto, or time steps with graphnet's bench (`graphnet bench`).")


class profile:
    """Refused: profile a graphnet program with JAX's profiler."""

    def __init__(self, *args, **kwargs):
        _refuse("profile")


def tensorboard_trace_handler(*args, **kwargs):
    """Refused with `profile`: JAX's profiler writes TensorBoard traces itself."""
    _refuse("tensorboard_trace_handler")
