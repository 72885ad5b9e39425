"""`torch.autograd.profiler`: `record_function` labels a region (a no-op here: graphnet has
no profiler of its own to record into), and `profile` refuses with the way to profile a
graphnet program (JAX's profiler, which sees every XLA program it runs)."""

from __future__ import annotations

import contextlib


class record_function(contextlib.ContextDecorator):
    """`with record_function("forward"):` or `@record_function("step")`: runs the code as
    it is (there is no profile to label)."""

    def __init__(self, name: str, args: str | None = None):
        self.name, self.args = name, args

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class profile:
    """Refused: profile a graphnet program with JAX's profiler."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "graphnet.autograd.profiler.profile is not supported: graphnet runs XLA programs, "
            "which JAX's profiler records. Use `with jax.profiler.trace(log_dir):` and "
            "TensorBoard or Perfetto, or time steps with graphnet's bench (`graphnet bench`).")

