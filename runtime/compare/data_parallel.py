"""The data-parallel axis of `graphnet compare` (`axes.data_parallel`, docs/compare.md): the
MLP training step compiled by graphnet with its global batch split over 1, 2, 4, 8 devices.

For each device count it records the step time (median of timed rounds, each blocked on the
updated parameters), the collectives XLA inserted into the compiled step and their bytes per
step (runtime/collectives.py), and how far the parameters after a few steps are from the
1-device run's (data parallelism must not change the numbers: the gradient is the mean over
the global batch either way).

Each device count runs in a fresh process (`_dp_probe`): on CPU the devices are fake ones
(`--xla_force_host_platform_device_count`), a flag JAX reads once when it starts. They share
the machine's cores, so there the step times say nothing about scaling; on a machine with
several accelerators the probes use the real devices and the same axis measures it."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile

import numpy as np

from ..collectives import summarize
from ._axis import Context
from ._subprocess import run_json_probe

DEVICE_COUNTS = (1, 2, 4, 8)
SIZES = (784, 256, 256, 10)   # runtime/workloads.py's default MLP
BATCH = 128                   # global batch: divides by every device count
DEVICE_FLAG = "--xla_force_host_platform_device_count"
CPU_NOTE = ("fake CPU devices share the machine's cores: only correctness and communication "
            "volume are meaningful here; on a GPU machine the same axis measures real scaling")


def measure(ctx: Context) -> dict:
    """`axes.data_parallel`: per device count, step time, collectives and parameter drift."""
    import jax

    platform = jax.default_backend()
    if platform == "cpu":
        counts = list(ctx.pick(DEVICE_COUNTS[:2], DEVICE_COUNTS, DEVICE_COUNTS))
        note = CPU_NOTE
    else:
        counts = [n for n in DEVICE_COUNTS if n <= jax.device_count()]
        counts = counts[:2] if ctx.preset == "quick" else counts
        note = (f"real {platform} devices, fixed global batch: step_s measures strong "
                f"scaling up to the {jax.device_count()} device(s) this machine has")
    steps, rounds = ctx.pick(2, 3, 5), ctx.pick(3, 7, 15)
    runs = []
    with tempfile.TemporaryDirectory(prefix="graphnet-dp-") as directory:
        for n in counts:
            ctx.progress(f"data parallel: {n} device{'s' if n > 1 else ''}")
            path = os.path.join(directory, f"params_{n}.npz")
            run = run_probe(n, path, steps=steps, rounds=rounds, seed=ctx.seed)
            with np.load(path) as saved:
                run["params"] = [saved[k] for k in saved.files]
            runs.append(run)
    reference = runs[0]["params"]
    return {
        "settings": {
            "workload": "mlp", "sizes": list(SIZES), "global_batch": BATCH,
            "optimizer": "SGD lr 0.01 momentum 0.9", "mode": "static",
            "placement": "batch split along the mesh's data axis; parameters and optimizer "
                         "state replicated (DistributedDataParallel)",
            "steps_compared": steps, "rounds": rounds, "platform": platform, "note": note,
        },
        "devices": counts,
        "step_s": [statistics.median(r["step_s"]) for r in runs],
        "bytes_per_step": [sum(c["bytes"] for c in r["collectives"]) for r in runs],
        "collectives": [summarize(r["collectives"]) for r in runs],
        "max_abs_diff_vs_1": [max(float(np.max(np.abs(a - b))) for a, b in
                                  zip(reference, r["params"])) for r in runs],
    }


def run_probe(devices: int, params_out: str, *, steps: int, rounds: int, seed: int = 0,
              timeout: float = 600) -> dict:
    """Run `_dp_probe --devices N` in a new process with N host devices; its JSON."""
    command = [sys.executable, "-m", "graphnet.runtime.compare._dp_probe", "--devices",
               str(devices), "--params-out", params_out, "--steps", str(steps), "--rounds",
               str(rounds), "--seed", str(seed), "--batch", str(BATCH),
               "--sizes", ",".join(map(str, SIZES))]
    env = dict(os.environ, XLA_FLAGS=with_device_count(os.environ.get("XLA_FLAGS", ""),
                                                       devices))
    return run_json_probe(command, env, f"data-parallel axis: the probe for {devices} "
                          f"device(s) (XLA_FLAGS={env['XLA_FLAGS']})", timeout)


def with_device_count(flags: str, devices: int) -> str:
    """`flags` (XLA_FLAGS) with the host device count set to `devices`, other flags kept."""
    kept = [f for f in flags.split() if not f.startswith(DEVICE_FLAG)]
    return " ".join(kept + [f"{DEVICE_FLAG}={devices}"])
