"""`graphnet.cuda`: PyTorch's `torch.cuda` questions answered from JAX's backends, so the usual
script boilerplate (`device = "cuda" if torch.cuda.is_available() else "cpu"`,
`torch.cuda.manual_seed_all(0)`) runs unchanged.

A GPU here is any JAX device whose platform is "gpu" (a JAX CUDA or ROCm build). graphnet has
one random generator for every device, so the cuda seeding functions seed it; the per-device
generator states PyTorch keeps have no counterpart."""

from __future__ import annotations

import contextlib
import time
from typing import NamedTuple

import jax

from ._legacy_types import CUDA_LEGACY
from .amp._device_spellings import device_amp
from ._random import default_generator, get_rng_state, manual_seed, set_rng_state


def _gpus() -> list:
    try:
        return jax.devices("gpu")
    except RuntimeError:        # no GPU backend in this JAX build, or no device
        return []


def is_available() -> bool:
    """True when JAX sees a GPU."""
    return bool(_gpus())


def device_count() -> int:
    """The number of GPUs JAX sees (0 without one)."""
    return len(_gpus())


class NoGPUError(RuntimeError, AssertionError):
    """What PyTorch built without CUDA raises (an AssertionError) for a GPU-only call; a
    RuntimeError too, as graphnet's other device errors are."""


def _need_gpu(what: str) -> None:
    if not is_available():
        raise NoGPUError(f"graphnet.cuda.{what}: JAX sees no GPU "
                         f"(graphnet.cuda.is_available() is False)")


def current_device() -> int:
    _need_gpu("current_device()")
    return 0


def get_device_name(device=None) -> str:
    gpus = _gpus()
    index = 0 if device is None else int(getattr(device, "index", device) or 0)
    if index >= len(gpus):
        raise RuntimeError(f"graphnet.cuda.get_device_name({index}): JAX sees "
                           f"{len(gpus)} GPU(s)")
    return gpus[index].device_kind


def is_initialized() -> bool:
    return is_available()


def manual_seed(seed: int) -> None:      # noqa: F811  (torch.cuda.manual_seed)
    """Seed graphnet's one generator (it serves every device) when a GPU is there. Without
    one, nothing: PyTorch's CPU stream does not move for a CUDA seed (NOTE: reseeding it
    changed every later `randn` of a CPU script that called `cuda.manual_seed_all`)."""
    if is_available():
        default_generator.manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    manual_seed(seed)


def seed() -> None:
    """A random seed for the GPU's generator (graphnet's one generator), as `manual_seed`."""
    if is_available():
        default_generator.seed()


seed_all = seed


def initial_seed() -> int:
    _need_gpu("initial_seed()")
    return default_generator.initial_seed()


def synchronize(device=None) -> None:
    """Wait for the work queued so far on the GPU (JAX's arrays are waited on where they are
    read, so every live array is waited on); without a GPU, PyTorch's error."""
    _need_gpu("synchronize()")
    for d in jax.live_arrays():
        d.block_until_ready()


def ipc_collect() -> None:
    _need_gpu("ipc_collect()")


def get_device_properties(device=None):
    """The GPU's name, memory and compute capability, from JAX's device."""
    _need_gpu("get_device_properties()")
    gpu = _gpus()[int(getattr(device, "index", device) or 0)]
    major, _, minor = str(getattr(gpu, "compute_capability", "0.0")).partition(".")
    return _Properties(gpu.device_kind, int((gpu.memory_stats() or {}).get("bytes_limit", 0)),
                       int(major or 0), int(minor or 0),
                       int(getattr(gpu, "core_count", 0) or 0))


def get_device_capability(device=None) -> tuple:
    props = get_device_properties(device)
    return props.major, props.minor


class _Properties(NamedTuple):
    name: str
    total_memory: int
    major: int
    minor: int
    multi_processor_count: int


class device:
    """`with graphnet.cuda.device(i):`: JAX places arrays itself; the index is checked."""

    def __init__(self, device):
        self.idx = -1 if device is None else int(getattr(device, "index", device) or 0)

    def __enter__(self):
        if self.idx >= 0:
            set_device(self.idx)

    def __exit__(self, *exc) -> None:
        return None


class Stream:
    """A GPU stream: JAX orders the work on its device itself, so this one only waits."""

    def __init__(self, device=None, priority: int = 0, **kwargs):
        if not is_available():
            raise RuntimeError("graphnet.cuda.Stream requires a GPU (JAX sees none)")

    def synchronize(self) -> None:
        synchronize()

    def wait_stream(self, stream) -> None:
        """JAX runs one ordered queue per device: nothing to wait for."""

    def wait_event(self, event) -> None:
        """As `wait_stream`."""

    def query(self) -> bool:
        return True


class Event:
    """A timing point: `record()` waits for the GPU's work and notes the time, so
    `start.elapsed_time(end)` gives milliseconds as PyTorch's event pair does."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False,
                 interprocess: bool = False):
        if not is_available():
            raise RuntimeError("graphnet.cuda.Event requires a GPU (JAX sees none)")
        self.time = None

    def record(self, stream=None) -> None:
        synchronize()
        self.time = time.perf_counter()

    def synchronize(self) -> None:
        synchronize()

    def wait(self, stream=None) -> None:
        """As `Stream.wait_event`."""

    def query(self) -> bool:
        return True

    def elapsed_time(self, end: Event) -> float:
        if self.time is None or end.time is None:
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        return (end.time - self.time) * 1000.0


def current_stream(device=None) -> Stream:
    return Stream(device)


default_stream = current_stream


@contextlib.contextmanager
def stream(s):
    """`with graphnet.cuda.stream(s):`: one ordered queue per device, so the block just runs."""
    yield


def set_device(device) -> None:
    """Select a GPU: JAX places arrays itself, so only the index is checked."""
    index = int(getattr(device, "index", device) or 0)
    if index >= device_count():
        raise RuntimeError(f"graphnet.cuda.set_device({index}): JAX sees {device_count()} "
                           f"GPU(s)")


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Whether a GPU is there to compute in bfloat16 (XLA supports it on every GPU it runs)."""
    return is_available()


def get_rng_state_all() -> list:
    """One state per GPU; graphnet's one generator serves them all."""
    return [get_rng_state() for _ in range(device_count())]


def set_rng_state_all(new_states) -> None:
    for state in list(new_states)[:1]:
        set_rng_state(state)


def empty_cache() -> None:
    """Nothing to release: XLA's allocator keeps no cache graphnet can empty."""


def _bytes(key: str, device=None) -> int:
    """A figure of the GPU's memory statistics (JAX's `memory_stats()`); 0 without a GPU."""
    gpus = _gpus()
    index = int(getattr(device, "index", device) or 0)
    if index >= len(gpus):
        return 0
    return int((gpus[index].memory_stats() or {}).get(key, 0))


def memory_allocated(device=None) -> int:
    return _bytes("bytes_in_use", device)


def max_memory_allocated(device=None) -> int:
    return _bytes("peak_bytes_in_use", device)


def memory_reserved(device=None) -> int:
    return _bytes("bytes_reserved", device) or _bytes("bytes_in_use", device)


def max_memory_reserved(device=None) -> int:
    return _bytes("peak_bytes_in_use", device)


def reset_peak_memory_stats(device=None) -> None:
    """JAX keeps the peak itself and cannot reset it: the next figure is since start-up."""


__all__ = ["is_available", "device_count", "current_device", "get_device_name",
           "manual_seed", "manual_seed_all", "synchronize", "get_rng_state", "set_rng_state",
           "set_device", "is_bf16_supported", "get_rng_state_all", "set_rng_state_all",
           "empty_cache", "memory_allocated", "max_memory_allocated", "memory_reserved",
           "max_memory_reserved", "reset_peak_memory_stats", "is_initialized", "seed",
           "seed_all", "initial_seed", "ipc_collect", "get_device_properties",
           "get_device_capability", "device", "Stream", "Event", "current_stream",
           "default_stream", "stream", *CUDA_LEGACY]
globals().update(CUDA_LEGACY)      # graphnet.cuda.FloatTensor ...


# `torch.cuda.amp.autocast(...)` / `torch.cuda.amp.GradScaler(...)`: the deprecated spellings of
# graphnet.amp's, still in most scripts (with PyTorch's FutureWarning).
amp = device_amp("cuda")
