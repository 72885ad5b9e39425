import os
import sys

import jax

# NOTE: a cold run's time is mostly XLA compiling thousands of tiny kernels, so the tests
# compile with two test-only flags. LLVM's optimization level 0: a cold run of
# test_op_parity.py and test_models.py took 1 m 37 s instead of 2 m 30 s. XLA-CPU's legacy
# fusion emitters instead of the MLIR ones: 16 instead of 23 ms per small compile, and the
# whole cold suite 6 m 36 s instead of 9 m 51 s. They change how the code is generated, not
# the math (XLA-CPU's fast math stays off either way); float rounding may differ in the last
# bits, which only a comparison that rests on rounding noise can see (test_mode_protocol's
# Adam step on a zero gradient was one). tests/test_default_xla_flags.py runs end-to-end
# parity tests again in a subprocess with XLA's own defaults, the code users get.
# Set before JAX starts its backend (it reads XLA_FLAGS then); subprocesses inherit them. An
# XLA_FLAGS that already names a level is left as it is, and so is every flag when
# GRAPHNET_TEST_DEFAULT_XLA=1.
TEST_XLA_FLAGS = "--xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false"
if os.environ.get("GRAPHNET_TEST_DEFAULT_XLA") != "1" \
        and "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + TEST_XLA_FLAGS).strip()

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
# A worker runs thousands of eager kernels; with the default bound (512) it evicted and rebuilt
# them (188 more compile requests in 2,836 over three parity files), so the tests keep more.
# tests/test_eager_cache.py sets its own bounds to test eviction.
os.environ.setdefault("GRAPHNET_KERNEL_CACHE_SIZE", "2048")

# NOTE: xdist (--dist loadfile) hands whole files to its workers in collection order. The
# files that took longest in a cold run go first, so a run ends on short files instead of
# one worker finishing a long file alone (longest job first); the others keep their order.
HEAVY_FIRST = [
    "test_op_parity.py", "test_conv_extra_functional.py",
    "test_distributions_breadth_sampling.py", "test_default_xla_flags.py",
    "test_models.py", "test_missing_names.py", "test_distributions_more_sampling.py",
    "test_distributions_breadth.py", "test_amp_parity.py",
    "test_linalg.py", "test_fuzz_modules.py", "test_seed_corpus.py",
    "test_everyday_programs.py", "test_compare_cli.py", "test_sharding.py",
    "test_conv_extra_modules.py", "test_attention.py", "test_packed_sequence.py",
    "test_guard_mutations.py", "test_shape_extra.py", "test_distributed_processes.py",
    "test_solo_bench.py", "test_examples_beyond_seeds.py", "test_distributions_more.py",
    "test_autocast.py", "test_workloads_more.py", "test_eager_cache.py"]


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items[:] = sorted(items, key=lambda item: rank.get(item.path.name, len(rank)))  # stable
