"""Each variant timed alone, in its own process, processes alternated: ratios without the
rotation's bias.

`graphnet bench` times its variants interleaved in one process, so that a noisy machine
slows all of them alike. At the MLP's scale that method has a bias of its own: a variant's
place in the rotation (which arrays the previous variant left in the caches, which buffers
the allocator hands back) moves its median by about 7%; two handles on one executable
measured 1.55 and 1.45 ms in one run. Here each process builds one workload, runs one
variant (warm-up, then `rounds` rounds of `steps` steps, blocked on the updated parameters
after each round) and prints its median; the parent starts the variants in turn, `repeats`
times, and reports each ratio as the median of the ratios of neighbouring processes.

    python -m graphnet.runtime.solo_bench mlp --variants static jax torch --repeats 4
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time


def time_variant(workload: str, variant: str, rounds: int, steps: int) -> float:
    """Median seconds per step of one variant, in this process."""
    import jax
    import numpy as np

    from .workloads import WORKLOADS

    w = WORKLOADS[workload]()
    step, blocker = w.variants[variant], w.blockers[variant]

    def block():
        out = blocker()
        if variant != "torch":      # torch's parameters are done when its step returns
            jax.block_until_ready(out)

    for _ in range(max(steps, 20)):
        step()
    block()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        block()
        samples.append((time.perf_counter() - start) / steps)
    return float(np.median(samples))


def run(workload: str, variants: list, repeats: int, rounds: int, steps: int) -> dict:
    """{variant: [median seconds per step, one per process]}, processes alternated."""
    times: dict = {v: [] for v in variants}
    for _ in range(repeats):
        for variant in variants:
            out = subprocess.run(
                [sys.executable, "-m", "graphnet.runtime.solo_bench", "--child", workload,
                 variant, str(rounds), str(steps)],
                check=True, capture_output=True, text=True).stdout
            times[variant].append(json.loads(out.strip().splitlines()[-1])["seconds"])
    return times


def ratios(times: dict, base: str) -> dict:
    """variant -> median over repeats of (variant / base), each from the same repeat."""
    return {v: statistics.median(a / b for a, b in zip(ts, times[base]))
            for v, ts in times.items() if v != base}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graphnet.runtime.solo_bench")
    parser.add_argument("workload", nargs="?", default="mlp")
    parser.add_argument("--variants", nargs="+", default=["static", "jax", "torch"])
    parser.add_argument("--base", default="jax", help="the variant ratios are taken against")
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--child", nargs=4, metavar=("WORKLOAD", "VARIANT", "ROUNDS", "STEPS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        workload, variant, rounds, steps = args.child
        print(json.dumps({"seconds": time_variant(workload, variant, int(rounds),
                                                  int(steps))}))
        return 0
    times = run(args.workload, args.variants, args.repeats, args.rounds, args.steps)
    for variant, ts in times.items():
        print(f"{variant:>8}: " + "  ".join(f"{t * 1e3:.3f}" for t in ts) + " ms")
    if args.base in times:
        for variant, r in ratios(times, args.base).items():
            print(f"{variant} / {args.base}: {r:.3f}x (median of {args.repeats} neighbouring "
                  f"pairs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
