"""One process's first calls with a JAX persistent compilation cache, for the compile axis.

    python -m graphnet.runtime.compare._cache_probe WORKLOAD --cache-dir DIR

points JAX's persistent compilation cache at DIR, storing every compile however small or
quick (so dynamic mode's per-op kernels are stored too), builds WORKLOAD without PyTorch,
times the warm-up calls of static, then of dynamic, then of the hand-written jax.jit where
the workload has one (compile_cost.warmup_calls, each call blocked on), and prints one JSON
line on stdout: {"workload", "warmup_s": {variant: [seconds]}, "phases_s": static's phases,
"graphs"}. Run twice on one new DIR, the first
process finds the cache cold and fills it, the second finds it warm."""

from __future__ import annotations

import argparse
import json


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload")
    parser.add_argument("--cache-dir", required=True)
    options = parser.parse_args(argv)

    import jax

    # NOTE: before anything compiles: JAX decides once per process whether the cache is used.
    jax.config.update("jax_compilation_cache_dir", options.cache_dir)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

    from ._axis import Context
    from .compile_cost import PROBED, TWINS, fresh_workload, static_phases, warmup_calls

    workload = fresh_workload(options.workload, Context(torch=False))
    missing = [v for v in PROBED if v not in workload.variants]
    if missing:
        parser.error(f"workload {options.workload} has no variant(s) {missing}; the cache "
                     f"probe times {list(PROBED)}")
    timed = list(PROBED) + [v for v in TWINS if v in workload.variants]
    warmups = {variant: warmup_calls(workload, variant) for variant in timed}
    phases, graphs = static_phases(workload)
    print(json.dumps({"workload": options.workload, "warmup_s": warmups, "phases_s": phases,
                      "graphs": graphs}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
