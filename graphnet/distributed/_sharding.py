"""Placing tensors on a device mesh: the batch split along the mesh's "data" axis, state
replicated (DDP) or split along its first dimension (FSDP). JAX's SPMD partitioner does the
rest: every program that reads such arrays runs on all devices, and XLA inserts the
collectives (the gradient all-reduce, FSDP's all-gathers). graphnet communicates nothing
itself.

Eagerly a placement is `jax.device_put` (behind an identity op when the tensor needs grad,
so the tape crosses it). Inside a trace it is the `with_sharding` op, a
`jax.lax.with_sharding_constraint` in the compiled program. With several processes, a
process's batch is its local part of the global batch
(`jax.make_array_from_process_local_data`) and replicated state is the same value on every
process (`host_local_array_to_global_array`)."""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from .._dispatch import dispatch
from .._mode import tracing
from .._tensor import Tensor

DATA = "data"


def data_size(mesh) -> int:
    return int(mesh.shape[DATA]) if DATA in mesh.shape else 1


def batch_sharding(mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec(DATA))


def replicated(mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def fsdp_sharding(shape, mesh) -> NamedSharding:
    """Split the first dimension that divides by the data axis's size; replicate the rest
    (biases of odd sizes, scalars)."""
    n = data_size(mesh)
    for dim, size in enumerate(shape):
        if size % n == 0 and size >= n:
            return NamedSharding(mesh, PartitionSpec(*([None] * dim), DATA))
    return replicated(mesh)


def check_batch(t: Tensor, mesh, what: str = "input") -> None:
    """A batch that does not divide over the data axis cannot be split evenly: say so with
    both numbers and the ways out."""
    n = data_size(mesh)
    if t.dim() == 0:
        raise ValueError(f"{what}: a 0-d tensor has no batch dimension to split over the "
                         f"mesh's {n} '{DATA}' devices")
    batch = t.shape[0] * (jax.process_count() if _multi_process(mesh) else 1)
    if batch % n:
        raise ValueError(
            f"{what}: a batch of {batch} does not divide over the mesh's {n} '{DATA}' devices; "
            f"use a batch size that is a multiple of {n} (DataLoader(drop_last=True) drops a "
            f"short last batch) or a mesh whose data axis divides {batch}")


def _multi_process(mesh) -> bool:
    return jax.process_count() > 1 and any(d.process_index != jax.process_index()
                                           for d in mesh.devices.flat)


def place(t: Tensor, sharding) -> Tensor:
    """`t` laid out as `sharding`: a graph node while tracing; eagerly `t` itself, its array
    laid out anew (the same values), so that an in-place write of the call (`x.mul_(2)`,
    `seen[:, 0] = 1`) reaches the caller's tensor (a copy lost it, silently) and a leaf
    stays a leaf (a clone's history was refused by a backward inside the step). Only a
    non-leaf that needs grad is copied on the tape, so its gradient flows back."""
    if tracing():
        return dispatch("with_sharding", t, sharding=sharding)
    value = t._value
    if getattr(value, "sharding", None) == sharding:
        return t
    from graphnet._x64 import x64

    with x64():   # int64 labels stay int64 (JAX's default scope narrows them)
        placed = jax.device_put(value, sharding)
    if t.requires_grad and t.grad_fn is not None:
        moved = dispatch("clone", t)
        moved._value = placed
        return moved
    t._value = placed
    return t


def shard_batch(t: Tensor, mesh, what: str = "input") -> Tensor:
    """`t` split along dimension 0 over the mesh's data axis. With several processes `t` is
    this process's share of the global batch."""
    check_batch(t, mesh, what)
    sharding = batch_sharding(mesh)
    if _multi_process(mesh) and not tracing():
        return Tensor._wrap(jax.make_array_from_process_local_data(sharding, np.asarray(
            t._value)))
    return place(t, sharding)


def batch_size_of(values) -> int | None:
    """The batch size of a call: the first dimension of its first tensor (in argument order,
    nested containers walked) that has one; None when it has none."""
    if isinstance(values, Tensor):
        return values.shape[0] if values.dim() else None
    items = values.values() if isinstance(values, dict) else \
        values if isinstance(values, (list, tuple)) else ()
    for item in items:
        found = batch_size_of(item)
        if found is not None:
            return found
    return None


def split_input(t: Tensor, mesh, batch: int | None, what: str) -> Tensor:
    """A call's tensor on the mesh: split over the data axis when its first dimension is the
    call's batch (`batch_size_of`), else replicated, as PyTorch's DDP leaves the other
    arguments whole (a causal mask, a temperature: they were split too, and refused as "a
    batch of 6" beside a batch of 8). NOTE: a tensor whose first size equals the batch's by
    chance is split too: the values are the same, with several processes it would be read
    as this process's share."""
    if batch is None or (t.dim() and t.shape[0] == batch):
        return shard_batch(t, mesh, what)
    if _multi_process(mesh) and not tracing():
        from jax.experimental import multihost_utils

        return Tensor._wrap(multihost_utils.host_local_array_to_global_array(
            np.asarray(t._value), mesh, PartitionSpec()))
    return place(t, replicated(mesh))


def put_state(t: Tensor, sharding) -> None:
    """Give a parameter, buffer or optimizer-state tensor the layout `sharding`, in place
    (the tensor object stays the same, so modules and optimizers keep pointing at it)."""
    value = t._value
    if not isinstance(value, jax.Array) or value.sharding == sharding:
        return
    if _multi_process(sharding.mesh):
        from jax.experimental import multihost_utils

        # every process holds the whole value: make it one replicated global array first
        value = multihost_utils.host_local_array_to_global_array(
            np.asarray(value), sharding.mesh, PartitionSpec())
        if value.sharding != sharding:
            value = jax.device_put(value, sharding)
        t._value = value
    else:
        t._value = jax.device_put(value, sharding)


def state_sharding(t: Tensor, mesh, policy: str) -> NamedSharding:
    if policy == "fsdp":
        return fsdp_sharding(tuple(t.shape), mesh)
    return replicated(mesh)
