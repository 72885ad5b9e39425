"""The process group: PyTorch's `init_process_group` and friends on `jax.distributed`.

What maps to what:
    init / init_process_group   -> jax.distributed.initialize(coordinator_address,
                                   num_processes, process_id, local_device_ids)
    rank, world size            -> jax.process_index(), jax.process_count()
    backend "gloo" / "mpi"      -> jax_cpu_collectives_implementation (CPU collectives);
    backend "nccl"              -> nothing to set: XLA's GPU collectives are its own
    barrier                     -> jax.experimental.multihost_utils.sync_global_devices
    all_reduce                  -> multihost_utils.process_allgather (an XLA all-gather over
                                   every process) reduced the same way on every process
    destroy_process_group       -> jax.distributed.shutdown

JAX, unlike PyTorch, must be told about the other processes before it starts its backend: the
first JAX array anywhere in the process fixes the device list for good. `import graphnet` makes
no array, so `init()` goes right after the imports, before any tensor is built."""

from __future__ import annotations

import datetime
import enum
import os
from urllib.parse import urlparse

import jax
import numpy as np

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")
_BACKENDS = {None: "gloo", "gloo": "gloo", "cpu:gloo": "gloo", "mpi": "mpi", "nccl": None,
             "cuda:nccl": None}


def is_available() -> bool:
    """True: JAX always ships `jax.distributed` (PyTorch's answer for a build without c10d)."""
    return True


def is_initialized() -> bool:
    """True between `init()` and `destroy_process_group()` (jax.distributed.is_initialized)."""
    return jax.distributed.is_initialized()


def _require_initialized() -> None:
    if not is_initialized():
        raise ValueError(_NOT_INITIALIZED)


def get_rank(group=None) -> int:
    """This process's index among all processes (`jax.process_index()`)."""
    _require_default_group(group)
    _require_initialized()
    return jax.process_index()


def get_world_size(group=None) -> int:
    """How many processes take part (`jax.process_count()`); each may hold several devices,
    so the number of devices is `jax.device_count()`."""
    _require_default_group(group)
    _require_initialized()
    return jax.process_count()


def _require_default_group(group) -> None:
    if group is not None:
        raise NotImplementedError(
            "graphnet.distributed has one process group (every process): pass group=None. "
            "For collectives over part of the devices, shard over an axis of "
            "graphnet.distributed.mesh(data=, model=) instead.")


def init(backend: str | None = None, init_method: str | None = None,
         world_size: int | None = None, rank: int | None = None,
         timeout: datetime.timedelta | float | None = None, *,
         local_device_ids: list[int] | None = None) -> None:
    """Join this process to the others (`torch.distributed.init_process_group`).

    Where the rendezvous comes from, first match wins:
      - `init_method="tcp://host:port"` with `world_size=` and `rank=`;
      - the variables torchrun and `python -m graphnet.distributed.launch` set: MASTER_ADDR,
        MASTER_PORT, RANK, WORLD_SIZE (and LOCAL_RANK / LOCAL_WORLD_SIZE);
      - JAX's own: JAX_COORDINATOR_ADDRESS, and Slurm / Open MPI / TPU environments, which
        `jax.distributed.initialize` detects itself.
    With more than one process per machine (LOCAL_WORLD_SIZE > 1) each process gets the
    accelerator numbered LOCAL_RANK, as `torch.cuda.set_device(local_rank)` would do; on CPU
    that choice has no effect. `timeout` bounds the wait for the other processes.

    >>> import graphnet as torch
    >>> torch.distributed.init()       # under: python -m graphnet.distributed.launch --nproc 2
    >>> torch.distributed.get_rank(), torch.distributed.get_world_size()
    (0, 2)
    """
    if is_initialized():
        raise ValueError("trying to initialize the default process group twice!")
    if backend not in _BACKENDS:
        raise ValueError(f"graphnet.distributed.init: unknown backend {backend!r}; use one of "
                         f"'gloo' or 'mpi' (CPU collectives), 'nccl' (GPU: XLA's own), or None")
    address, world_size, rank = _rendezvous(init_method, world_size, rank)
    if local_device_ids is None and int(os.environ.get("LOCAL_WORLD_SIZE", "1")) > 1:
        local_device_ids = [int(os.environ["LOCAL_RANK"])] if "LOCAL_RANK" in os.environ else None
    from jax._src import xla_bridge   # NOTE: JAX has no public "has the backend started?"

    if xla_bridge.backends_are_initialized():
        raise RuntimeError(
            "graphnet.distributed.init() must run before the first tensor or JAX array is "
            "made: JAX fixes its device list when its backend starts, and it has started. "
            "Call init() right after the imports.")
    if _BACKENDS[backend] is not None:
        jax.config.update("jax_cpu_collectives_implementation", _BACKENDS[backend])
    kwargs = {}
    if timeout is not None:
        seconds = timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else timeout
        kwargs["initialization_timeout"] = max(1, int(seconds))
    try:
        jax.distributed.initialize(coordinator_address=address, num_processes=world_size,
                                   process_id=rank, local_device_ids=local_device_ids, **kwargs)
    except ValueError as err:
        if address is None or world_size is None or rank is None:
            raise ValueError(
                f"graphnet.distributed.init: no rendezvous found ({err}). Launch with "
                f"`python -m graphnet.distributed.launch --nproc N script.py` or torchrun "
                f"(they set MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE), or pass "
                f"init_method='tcp://host:port', world_size= and rank=") from err
        raise


init_process_group = init


def _rendezvous(init_method, world_size, rank):
    """(coordinator address, process count, process id); None where JAX should detect it."""
    world_size = None if world_size in (None, -1) else int(world_size)
    rank = None if rank in (None, -1) else int(rank)
    env = os.environ
    if init_method is not None and not init_method.startswith("env://"):
        url = urlparse(init_method)
        if url.scheme != "tcp" or not url.hostname or not url.port:
            raise ValueError(f"graphnet.distributed.init: init_method={init_method!r} is not "
                             f"supported; use 'env://' or 'tcp://host:port' (JAX's "
                             f"coordinator runs at that address in process 0)")
        if world_size is None or rank is None:
            raise ValueError(f"graphnet.distributed.init: init_method={init_method!r} needs "
                             f"world_size= and rank= as well")
        return f"{url.hostname}:{url.port}", world_size, rank
    if "MASTER_ADDR" in env or "MASTER_PORT" in env:
        for name in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE"):
            needed = not (name == "RANK" and rank is not None
                          or name == "WORLD_SIZE" and world_size is not None)
            if needed and name not in env:
                raise ValueError(f"Error initializing graphnet.distributed using env:// "
                                 f"rendezvous: environment variable {name} expected, but not "
                                 f"set (torchrun and graphnet.distributed.launch set it)")
        address = f"{env['MASTER_ADDR']}:{env['MASTER_PORT']}"
        world_size = int(env["WORLD_SIZE"]) if world_size is None else world_size
        rank = int(env["RANK"]) if rank is None else rank
        return address, world_size, rank
    # JAX's own variables (JAX_COORDINATOR_ADDRESS) and cluster detection fill the rest
    if world_size is None and "WORLD_SIZE" in env:
        world_size = int(env["WORLD_SIZE"])
    if rank is None and "RANK" in env:
        rank = int(env["RANK"])
    return None, world_size, rank


def barrier(group=None) -> None:
    """Wait until every process gets here: a tiny all-reduce over all devices."""
    from jax.experimental import multihost_utils

    _require_default_group(group)
    _require_initialized()
    multihost_utils.sync_global_devices("graphnet.distributed.barrier")


def destroy_process_group(group=None) -> None:
    """Leave the group (`jax.distributed.shutdown`); waits for the other processes."""
    _require_default_group(group)
    _require_initialized()
    jax.distributed.shutdown()


class ReduceOp(enum.Enum):
    """How `all_reduce` combines the processes' values (torch.distributed.ReduceOp)."""
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


_REDUCE = {ReduceOp.SUM: np.sum, ReduceOp.AVG: np.mean, ReduceOp.PRODUCT: np.prod,
           ReduceOp.MIN: np.min, ReduceOp.MAX: np.max}


def all_reduce(tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Replace `tensor`, in place on every process, by the reduction over all processes.

    The values travel through one XLA all-gather over every device
    (`multihost_utils.process_allgather`) and every process reduces the same gathered array
    in the same order, so all processes end bit-for-bit equal. Made for eager code such as
    averaging gradients by hand; inside `graphnet.compile` a mesh lets XLA place the
    collectives instead.

    >>> for p in model.parameters():
    ...     dist.all_reduce(p.grad, op=dist.ReduceOp.AVG)
    """
    from jax.experimental import multihost_utils

    from .._autograd import no_grad
    from .._factories import as_array
    from .._mode import tracing
    from .._tensor import Tensor
    from .._x64 import x64

    _require_default_group(group)
    _require_initialized()
    if async_op:
        raise NotImplementedError("graphnet.distributed.all_reduce runs synchronously: call it "
                                  "with async_op=False (JAX dispatch is asynchronous anyway)")
    if op not in _REDUCE:
        raise ValueError(f"all_reduce: op must be a graphnet.distributed.ReduceOp, got {op!r}")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"all_reduce: expected a graphnet Tensor, got {type(tensor).__name__}")
    if tracing():
        raise RuntimeError("graphnet.distributed.all_reduce inside graphnet.compile: it is a "
                           "process-level collective that runs eagerly; call it outside the "
                           "compiled function")
    with x64():   # int64 and float64 keep their types on the way through JAX
        gathered = multihost_utils.process_allgather(tensor._value)
    reduced = np.asarray(_REDUCE[op](gathered, axis=0)).astype(gathered.dtype)
    with no_grad():
        tensor._assign(Tensor._wrap(as_array(reduced)))
    return None
