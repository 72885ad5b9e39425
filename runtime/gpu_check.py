"""The GPU check (issue 13, item 4), ready for a machine with a GPU:

    pip install -e ".[gpu,test]" && python -m graphnet.runtime.gpu_check --out gpu-report

It refuses to run unless JAX's default backend is a GPU, then runs `graphnet compare` on the
benchmark workloads with graphnet dynamic, static and plan, the hand-written `jax.jit` twins,
PyTorch eager on CUDA (the twins follow `torch.cuda.is_available()`, or
GRAPHNET_TORCH_DEVICE) and `torch.compile`, over step time, compile cost, memory (with the
device's own peak statistics) and the data-parallel axis on the real devices, and writes the
report and `gpu_check.json` (devices, versions, the summary rows) into OUT."""

from __future__ import annotations

import argparse
import json
import os
import sys

WORKLOADS = ["mlp", "lenet", "tiny", "lstm-lm", "transformer", "convnet", "resnet18-train"]
AXES = ["step_time", "compile", "memory", "scaling", "data_parallel"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="gpu-report")
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--no-torch-compile", action="store_true")
    opts = parser.parse_args(argv)
    import jax

    if jax.default_backend() != "gpu":
        print(f"gpu_check: JAX's backend is {jax.default_backend()!r}, not a GPU; install "
              f"JAX's CUDA build (pip install -e \".[gpu]\")", file=sys.stderr)
        return 2
    from rich.console import Console

    from .compare import conclusions, report
    from .compare._axis import Context
    from .compare.study import run_study

    ctx = Context(preset="quick" if opts.quick else "default", workloads=WORKLOADS,
                  torch=True, torch_compile=not opts.no_torch_compile)
    console = Console(width=110)
    results = run_study(ctx, AXES, console=console)
    results["summary"] = conclusions.summarize(results)
    os.makedirs(opts.out, exist_ok=True)
    with open(os.path.join(opts.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    report.write_report(results, opts.out)
    report.render_terminal_summary(results, console, opts.out)
    try:
        import torch

        torch_device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    except ImportError:
        torch_device = None
    with open(os.path.join(opts.out, "gpu_check.json"), "w") as f:
        json.dump({"devices": [str(d) for d in jax.devices()], "torch_device": torch_device,
                   "machine": results["machine"], "summary": results["summary"]}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
