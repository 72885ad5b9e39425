"""`mesh(data=, model=)`: the device grid that sharded training is laid out on.

It is a `jax.sharding.Mesh` over every device of every process (`jax.devices()`), with the
axes named "data" (the batch is split along it; parameters are replicated across it) and
"model" (for splitting a layer's weights). Both axes are automatic (`AxisType.Auto`): XLA's
SPMD partitioner decides where collectives go, as in `jax.jit` without explicit sharding
annotations inside the function."""

from __future__ import annotations

import jax


def mesh(data: int | None = None, model: int = 1) -> jax.sharding.Mesh:
    """A `jax.sharding.Mesh` of shape (data, model) over all global devices.

    `data` defaults to every device not used by `model`: `jax.device_count() // model`.

    >>> m = graphnet.distributed.mesh()            # 8 devices: {'data': 8, 'model': 1}
    >>> m = graphnet.distributed.mesh(data=4, model=2)
    """
    for name, value in (("data", data), ("model", model)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise ValueError(f"graphnet.distributed.mesh: {name} must be a positive int, "
                             f"got {name}={value!r}")
    devices = jax.devices()
    count = len(devices)
    if data is None:
        if count % model:
            raise ValueError(f"graphnet.distributed.mesh(model={model}): the {count} devices "
                             f"do not split into groups of {model}; pick a model size that "
                             f"divides {count}")
        data = count // model
    if data * model != count:
        raise ValueError(f"graphnet.distributed.mesh(data={data}, model={model}) needs "
                         f"data * model = {data * model} devices, but there are {count} "
                         f"(jax.device_count()); choose data * model == {count}, e.g. "
                         f"mesh(data={count // model if count % model == 0 else count}, "
                         f"model={model if count % model == 0 else 1})")
    auto = jax.sharding.AxisType.Auto
    return jax.make_mesh((data, model), ("data", "model"), axis_types=(auto, auto),
                         devices=devices)
