"""One process's data-parallel training step on N devices, for the data-parallel axis.

    XLA_FLAGS=--xla_force_host_platform_device_count=N \\
        python -m graphnet.runtime.compare._dp_probe --devices N --params-out FILE.npz

builds the MLP workload's model and data (runtime/workloads.py: same seed, same global
batch for every N), places the batch along the "data" axis of an N-device mesh (the model is
replicated, as DistributedDataParallel keeps it), compiles the usual training step with
`graphnet.compile` and runs `--steps` steps, then writes the parameters to FILE.npz (to compare
with the 1-device run) and times `--rounds` more steps, each blocked on the updated
parameters. It prints one JSON line: {"devices", "platform", "step_s": [seconds per round],
"collectives": [runtime/collectives.py entries of the compiled step]}.

The device count must be fixed before JAX starts, hence a process per N."""

from __future__ import annotations

import argparse
import json
import time


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, required=True)
    parser.add_argument("--params-out", required=True)
    parser.add_argument("--sizes", default="784,256,256,10")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(argv)

    import jax
    import numpy as np

    if jax.device_count() < options.devices:
        parser.error(f"--devices {options.devices}, but JAX sees {jax.device_count()} "
                     f"{jax.default_backend()} device(s); on CPU set XLA_FLAGS="
                     f"--xla_force_host_platform_device_count={options.devices} before starting")
    if options.batch % options.devices:
        parser.error(f"--batch {options.batch} does not split over {options.devices} devices; "
                     f"pick a batch that is a multiple of every device count")
    sizes = tuple(int(s) for s in options.sizes.split(","))
    step, blocker, handle, inputs = build_step(sizes, options.batch, options.devices,
                                               options.seed)
    for _ in range(options.steps):
        step()
    jax.block_until_ready(blocker())
    np.savez(options.params_out, *[np.asarray(p) for p in blocker()])
    times = []
    for _ in range(options.rounds):
        start = time.perf_counter()
        step()
        jax.block_until_ready(blocker())
        times.append(time.perf_counter() - start)

    from ..collectives import collectives

    # NOTE: the steady step is the last artifact: the first call created the momentum buffers
    # and the second traced again. lowered() jits the same run_fn on the same placed arrays.
    program = handle.compiled.artifacts[-1].lowered(inputs).compile()
    print(json.dumps({"devices": options.devices, "platform": jax.default_backend(),
                      "step_s": times, "collectives": collectives(program)}))
    return 0


def build_step(sizes: tuple, batch: int, devices: int, seed: int):
    """(step, blocker, handle, (x, y)): the MLP workload's SGD-momentum step compiled by
    graphnet, its global batch split over the first `devices` devices."""
    import jax
    import numpy as np
    from jax.sharding import NamedSharding, PartitionSpec

    import graphnet

    from ..workloads import mlp_model, sgd_train_step

    rng = np.random.default_rng(seed)   # the data runtime/workloads.py's mlp() makes
    x = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], batch).astype(np.int64)
    mesh = jax.make_mesh((devices,), ("data",), axis_types=(jax.sharding.AxisType.Auto,),
                         devices=jax.devices()[:devices])
    along_batch = NamedSharding(mesh, PartitionSpec("data"))
    # NOTE: placed by hand, the same placement graphnet.compile(mesh=) gives tensor arguments.
    x, y = (graphnet.Tensor._wrap(jax.device_put(graphnet.from_numpy(a)._value, along_batch))
            for a in (x, y))
    model = mlp_model(sizes, seed)
    opt = graphnet.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    step, blocker, handle = sgd_train_step(model, opt, x, y, "static")
    return step, blocker, handle, (x, y)


if __name__ == "__main__":
    raise SystemExit(main())
