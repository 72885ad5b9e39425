"""Where the first call of a program compiled through JAX spends its time, with a cold and a
warm persistent compilation cache: the floor under graphnet's static first call.

    python -m graphnet.runtime.first_run mlp lenet

For each workload, two fresh processes share one new cache directory (the first fills it,
the second reads it). Each takes the workload's hand-written jax.jit twin
(runtime/workloads_twins.py) and times, one after the other and each blocked on: JAX's
tracing and lowering (`jit.lower`), XLA's compile or the cache read (`.compile()`), the
executable's first run, and a second run; then PyTorch eager's first and second step on the
same model (when torch is installed). graphnet is not involved beyond building the weights,
so whatever the warm first run costs over the second, no graphnet change can remove."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

PHASES = ("lower", "compile", "first_run", "second_run")


def probe(name: str) -> dict:
    """This process's split of the twin's first call, and torch's first two steps."""
    import jax

    from .workloads import WORKLOADS

    workload = WORKLOADS[name]()
    run = workload.variants["jax"]
    seconds = {}
    start = time.perf_counter()
    lowered = run.jitted.lower(*run.arguments())
    seconds["lower"] = time.perf_counter() - start
    start = time.perf_counter()
    compiled = lowered.compile()
    seconds["compile"] = time.perf_counter() - start
    arguments = run.arguments()
    for phase in ("first_run", "second_run"):
        start = time.perf_counter()
        _, *state = compiled(*arguments)      # the step donates its inputs: feed it its outputs
        jax.block_until_ready(state)
        seconds[phase] = time.perf_counter() - start
        arguments = (*state, *arguments[3:])
    if "torch" in workload.variants:
        for phase in ("torch_first", "torch_second"):
            start = time.perf_counter()
            workload.variants["torch"]()
            workload.blockers["torch"]()
            seconds[phase] = time.perf_counter() - start
    return seconds


def study(name: str) -> dict:
    """{"cold": seconds, "warm": seconds} for workload `name`, each from a fresh process."""
    from .compare._subprocess import run_json_probe

    with tempfile.TemporaryDirectory(prefix="graphnet-first-run-") as directory:
        command = [sys.executable, "-m", "graphnet.runtime.first_run", name, "--probe",
                   "--cache-dir", directory]
        env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=directory)
        return {temp: run_json_probe(command, env, f"first_run's {temp} probe of {name}")
                for temp in ("cold", "warm")}


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=["mlp", "lenet"])
    parser.add_argument("--probe", action="store_true", help="time this process (internal)")
    parser.add_argument("--cache-dir", help="the JAX compilation cache directory (--probe)")
    options = parser.parse_args(argv)
    if options.probe:
        import jax

        # NOTE: before anything compiles; every program is stored, however small or quick
        jax.config.update("jax_compilation_cache_dir", options.cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        print(json.dumps(probe(options.workloads[0])))
        return 0
    for name in options.workloads:
        result = study(name)
        print(name)
        for temp, seconds in result.items():
            parts = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in seconds.items())
            print(f"  {temp}: {parts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
