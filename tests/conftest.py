import os
import sys

import jax

# NOTE: a cold run's time is mostly XLA compiling thousands of tiny kernels, so the tests
# compile with LLVM's optimization level 0. That changes how fast the compiled code runs, not
# what it computes (XLA-CPU's fast math stays off at every level): a cold run of
# test_op_parity.py and test_models.py took 1 m 37 s instead of 2 m 30 s, all passing.
# Set before JAX starts its backend (it reads XLA_FLAGS then); subprocesses inherit it. An
# XLA_FLAGS that already names a level keeps it.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + " --xla_backend_optimization_level=0").strip()

# tests import `parity` (tests/parity.py) as a plain module
sys.path.insert(0, os.path.dirname(__file__))

# NOTE: most test time is XLA compiling many tiny per-op kernels (eager mode jits each op once
# per signature). JAX's persistent compilation cache shares those compiles between the xdist
# workers and across runs; it changes how fast kernels are built, never what they compute.
_CACHE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".jax-cache")
jax.config.update("jax_compilation_cache_dir", _CACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
# subprocesses the tests start (multi-device checks, the CLI) share it instead of writing to
# the user's own cache (graphnet/_compile_cache.py); a test that sets its own keeps it
os.environ.setdefault("GRAPHNET_COMPILE_CACHE", _CACHE)
