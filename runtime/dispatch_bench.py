"""What one eager op costs: dynamic mode's dispatch overhead against PyTorch eager.

`python -m graphnet.runtime.dispatch_bench` times, interleaved with PyTorch eager (its default
threads) in the same process, each case below and prints the median over rounds of each side
and their ratio (graphnet / PyTorch):

- `add chain`: N small adds (`y = y + x`, 8x8 float32) in a row, per op in microseconds, with
  inputs that need no grad and with inputs that require grad (every op recorded on the tape);
- `tiny`: Linear(16, 16) + ReLU on a batch of 8, `.sum().backward()`, microseconds per call;
- `lenet`: the benchmark's LeNet training step (runtime/workloads_zoo.py: SGD momentum,
  cross-entropy, batch 64), milliseconds per step.

Every kernel is compiled before timing (warm-up calls), and each timed block ends by waiting
for its results, so what is measured is the per-call cost of the hot path. `--quick` runs a
few calls of each case (a smoke check; its numbers mean nothing).

This is a benchmark, not a test: its numbers depend on the machine and the JAX version."""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable, NamedTuple

import jax
import numpy as np


class Case(NamedTuple):
    name: str
    unit: str                 # "us/op", "us", "ms"
    per_call: float           # what one call counts for (N ops in a chain, 1 otherwise)
    graphnet: Callable        # zero-argument callable; returns something to block on
    torch: Callable | None


def _block(result) -> None:
    jax.block_until_ready([getattr(r, "_value", r) for r in result]
                          if isinstance(result, (list, tuple)) else getattr(result, "_value",
                                                                            result))


# ---- the cases ------------------------------------------------------------------------------
def add_chain(n: int, requires_grad: bool, torch) -> Case:
    import graphnet

    rng = np.random.default_rng(0)
    data = rng.standard_normal((8, 8), dtype=np.float32)
    x = graphnet.from_numpy(data.copy()).requires_grad_(requires_grad)

    def run_graphnet():
        y = x
        for _ in range(n):
            y = y + x
        return y

    run_torch = None
    if torch is not None:
        tx = torch.from_numpy(data.copy()).requires_grad_(requires_grad)

        def run_torch():
            y = tx
            for _ in range(n):
                y = y + tx
            return y

    label = f"add chain x{n}, 8x8" + (", requires_grad" if requires_grad else "")
    return Case(label, "us/op", n, run_graphnet, run_torch)


def tiny(torch) -> Case:
    """Linear(16, 16) + ReLU, batch 8: forward, `.sum().backward()` (grads accumulate)."""
    import graphnet
    from graphnet import nn

    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 16), nn.ReLU())
    data = np.random.default_rng(0).standard_normal((8, 16), dtype=np.float32)
    x = graphnet.from_numpy(data)
    params = list(model.parameters())

    def run_graphnet():
        model(x).sum().backward()
        return [p._grad for p in params]

    run_torch = None
    if torch is not None:
        tmodel = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.ReLU())
        with torch.no_grad():
            for tp, p in zip(tmodel.parameters(), params):
                tp.copy_(torch.from_numpy(np.array(p._value)))
        tx = torch.from_numpy(data)

        def run_torch():
            tmodel(tx).sum().backward()

    return Case("tiny Linear(16,16)+ReLU b8, fwd+bwd", "us", 1, run_graphnet, run_torch)


def lenet(batch: int, torch) -> Case:
    from .workloads_zoo import _lenet_torch, lenet_graphnet

    step, blocker, _, model = lenet_graphnet(batch, 0, None)

    def run_graphnet():
        step()
        return blocker()

    run_torch = None
    if torch is not None:
        torch_step, torch_blocker, _ = _lenet_torch(model, batch, 0)

        def run_torch():
            torch_step()
            torch_blocker()

    return Case(f"lenet train step b{batch}", "ms", 1, run_graphnet, run_torch)


# ---- timing ---------------------------------------------------------------------------------
_SCALE = {"us/op": 1e6, "us": 1e6, "ms": 1e3}


def _time(fn: Callable, calls: int, blocks: bool) -> float:
    """Seconds per call of `fn`, over `calls` calls, waiting for the last result."""
    start = time.perf_counter()
    for _ in range(calls):
        result = fn()
    if blocks:
        _block(result)
    return (time.perf_counter() - start) / calls


def measure(case: Case, rounds: int, calls: int, warmup: int = 3) -> dict:
    """Medians over `rounds` of graphnet's and PyTorch's per-call time (in the case's unit),
    each round timing graphnet then PyTorch (`calls` calls each)."""
    for _ in range(warmup):
        _block(case.graphnet())
        if case.torch is not None:
            case.torch()
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(_time(case.graphnet, calls, True))
        if case.torch is not None:
            theirs.append(_time(case.torch, calls, False))
    scale = _SCALE[case.unit] / case.per_call
    g = statistics.median(ours) * scale
    t = statistics.median(theirs) * scale if theirs else None
    return {"case": case.name, "unit": case.unit, "graphnet": g, "torch": t,
            "ratio": g / t if t else None}


def _torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


def run(quick: bool = False, chain: int = 100, rounds: int = 7, lenet_batch: int = 64,
        cases: tuple = ("chain", "tiny", "lenet")) -> list:
    """Measure the cases; returns one dict per case (see `measure`)."""
    torch = _torch_or_none()
    if quick:
        chain, rounds, lenet_batch = 5, 1, 4
    built = []
    if "chain" in cases:
        built += [(add_chain(chain, False, torch), 20), (add_chain(chain, True, torch), 20)]
    if "tiny" in cases:
        built.append((tiny(torch), 200))
    if "lenet" in cases:
        built.append((lenet(lenet_batch, torch), 10))
    return [measure(case, rounds, 1 if quick else calls, warmup=1 if quick else 3)
            for case, calls in built]


def format_rows(rows: list) -> str:
    lines = [f"{'case':44s} {'unit':6s} {'graphnet':>10s} {'pytorch':>10s} {'ratio':>7s}"]
    for r in rows:
        t = f"{r['torch']:10.2f}" if r["torch"] is not None else f"{'-':>10s}"
        ratio = f"{r['ratio']:7.2f}" if r["ratio"] is not None else f"{'-':>7s}"
        lines.append(f"{r['case']:44s} {r['unit']:6s} {r['graphnet']:10.2f} {t} {ratio}")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few calls each (smoke check)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--chain", type=int, default=100, help="adds per chain")
    parser.add_argument("--lenet-batch", type=int, default=64)
    parser.add_argument("--cases", default="chain,tiny,lenet",
                        help="comma-separated: chain, tiny, lenet")
    args = parser.parse_args(argv)
    rows = run(args.quick, args.chain, args.rounds, args.lenet_batch,
               tuple(args.cases.split(",")))
    print(format_rows(rows))


if __name__ == "__main__":
    main()
