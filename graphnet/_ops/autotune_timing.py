"""How the autotuner times candidates (conv_autotune.py): compiled a thread per core, run on
random inputs of the op's shape, interleaved, the minimum over rounds; and a convolution
candidate's three timed directions."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import jax

from .. import _xla as xla
from .._x64 import x64_scoped


def measure(fns: dict, args: tuple, rounds: int = 5) -> dict:
    """{label: seconds} for each jitted `fn(*args)` in `fns`: all compiled first, on a thread
    per core (XLA compiles outside the GIL: the compiles are most of what tuning costs), each
    run once, then `rounds` interleaved rounds (every fn once per round, blocking); the
    minimum over rounds, the figure least disturbed by other work on the machine."""
    args = tuple(jax.device_put(a) for a in args)
    with ThreadPoolExecutor(max_workers=max(1, min(len(fns), os.cpu_count() or 1))) as pool:
        futures = {label: pool.submit(_compile, fn, args)
                   for label, fn in fns.items()}
        compiled = {label: future.result() for label, future in futures.items()}
    for fn in compiled.values():
        jax.block_until_ready(fn(*args))
    times = {label: [] for label in compiled}
    for _ in range(rounds):
        for label, fn in compiled.items():
            start = time.perf_counter()
            jax.block_until_ready(fn(*args))
            times[label].append(time.perf_counter() - start)
    return {label: min(values) for label, values in times.items()}


@x64_scoped   # a worker thread: graphnet's kernels are traced with 64-bit types on
def _compile(fn, args):
    return xla.jit(fn, True).lower(*args).compile()


def _directions(fn: Callable) -> dict:
    """fn(x, w)'s three directions as functions of (x, w, g): the values, the input gradient
    and the weight gradient for cotangent g (XLA drops the unused forward of each pullback)."""
    return {"forward": lambda x, w, g: fn(x, w),
            "input_grad": lambda x, w, g: jax.vjp(lambda a: fn(a, w), x)[1](g)[0],
            "weight_grad": lambda x, w, g: jax.vjp(lambda b: fn(x, b), w)[1](g)[0]}


