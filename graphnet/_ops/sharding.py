"""`with_sharding`: a tensor's layout on a device mesh, inside a traced program.

`jax.lax.with_sharding_constraint` tells XLA's SPMD partitioner how the value is laid out
(the batch split over the mesh's data axis); its gradient is the same constraint on the
cotangent. Users reach it through `graphnet.distributed` placements and
`nn.parallel.DistributedDataParallel`, never by name."""

from __future__ import annotations

import jax

from ._table import defop


@defop("with_sharding", "opaque", function=None, method=None, foldable=False)
def with_sharding(x, *, sharding):
    return jax.lax.with_sharding_constraint(x, sharding)
