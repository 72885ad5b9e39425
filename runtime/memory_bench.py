"""Memory and hot-path benchmark for dynamic (eager) mode.

`python -m graphnet.runtime.memory_bench` runs an eager MLP training step (forward, cross_entropy,
backward, SGD with momentum) once per batch size over many different batch sizes and prints
the process's resident memory (VmRSS) at checkpoints. Every new input shape compiles new
kernels; with bounded kernel caches (`graphnet.set_kernel_cache_size`) the resident memory
levels off instead of growing with the number of shapes seen.

`python -m graphnet.runtime.memory_bench --timing` instead times the same step at one fixed
batch size (the eager hot path: every kernel already compiled) and prints the median per-step time.

This is a benchmark, not a test: its numbers depend on the machine and the JAX version."""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux /proc; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_step(sizes=(64, 128, 128, 10), seed: int = 0):
    """An eager training step `step(x, y) -> loss` for an MLP with ReLUs and SGD momentum."""
    import graphnet
    import graphnet.nn.functional as F

    from .workloads import mlp_model

    model = mlp_model(sizes, seed)
    opt = graphnet.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step, model


def batch(batch_size: int, sizes, rng):
    import graphnet

    x = graphnet.from_numpy(rng.standard_normal((batch_size, sizes[0]), dtype=np.float32))
    y = graphnet.from_numpy(rng.integers(0, sizes[-1], batch_size).astype(np.int64))
    return x, y


def cache_entries() -> str:
    """The eager kernel caches' entry counts, where this graphnet version reports them."""
    from graphnet import _dispatch

    stats = getattr(_dispatch, "kernel_cache_info", None)
    if stats is None:
        return ""
    info = stats()
    return (f"{info['entries']} of {info['max_entries']} compiled kernels, "
            f"{info['functions']} functions, {info['evictions']} evicted")


def memory(n_sizes: int, checkpoints: list[int], sizes) -> None:
    step, model = build_step(sizes)
    rng = np.random.default_rng(0)
    print(f"{'sizes run':>10} {'RSS MiB':>9}  kernel cache")
    print(f"{0:>10} {rss_mb():>9.0f}  {cache_entries()}", flush=True)
    for i in range(1, n_sizes + 1):
        loss = step(*batch(i + 7, sizes, rng))   # batch sizes 8, 9, ... all different
        if i in checkpoints:
            loss.item()
            print(f"{i:>10} {rss_mb():>9.0f}  {cache_entries()}", flush=True)


def timing(batch_size: int, steps: int, rounds: int, sizes) -> None:
    import jax

    step, model = build_step(sizes)
    x, y = batch(batch_size, sizes, np.random.default_rng(0))
    params = list(model.parameters())
    for _ in range(3):   # compile everything this shape needs
        step(x, y)
    per_step = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            step(x, y)
        jax.block_until_ready([p._value for p in params])
        per_step.append((time.perf_counter() - start) / steps)
    print(f"median {statistics.median(per_step) * 1e6:.0f} us/step "
          f"(min {min(per_step) * 1e6:.0f}, max {max(per_step) * 1e6:.0f}; "
          f"batch {batch_size}, {rounds} rounds of {steps} steps)", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, default=120, help="how many batch sizes to run")
    parser.add_argument("--checkpoints", default="20,60,120",
                        help="print RSS after this many sizes (comma-separated)")
    parser.add_argument("--timing", action="store_true",
                        help="time the eager step at one batch size instead")
    parser.add_argument("--batch", type=int, default=64, help="batch size for --timing")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    layer_sizes = (64, 128, 128, 10)
    if args.timing:
        timing(args.batch, args.steps, args.rounds, layer_sizes)
    else:
        checkpoints = sorted(int(c) for c in args.checkpoints.split(","))
        memory(args.sizes, checkpoints, layer_sizes)


if __name__ == "__main__":
    main()
