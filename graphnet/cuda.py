"""`graphnet.cuda`: PyTorch's `torch.cuda` questions answered from JAX's backends, so the usual
script boilerplate (`device = "cuda" if torch.cuda.is_available() else "cpu"`,
`torch.cuda.manual_seed_all(0)`) runs unchanged.

A GPU here is any JAX device whose platform is "gpu" (a JAX CUDA or ROCm build). graphnet has
one random generator for every device, so the cuda seeding functions seed it; the per-device
generator states PyTorch keeps have no counterpart."""

from __future__ import annotations

import jax

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


def current_device() -> int:
    if not is_available():
        raise RuntimeError("graphnet.cuda.current_device(): JAX sees no GPU "
                           "(graphnet.cuda.is_available() is False)")
    return 0


def get_device_name(device=None) -> str:
    gpus = _gpus()
    index = 0 if device is None else int(getattr(device, "index", device) or 0)
    if index >= len(gpus):
        raise RuntimeError(f"graphnet.cuda.get_device_name({index}): JAX sees "
                           f"{len(gpus)} GPU(s)")
    return gpus[index].device_kind


def manual_seed(seed: int) -> None:      # noqa: F811  (torch.cuda.manual_seed)
    """Seed graphnet's one generator (it serves every device)."""
    default_generator.manual_seed(seed)


def manual_seed_all(seed: int) -> None:
    """Seed graphnet's one generator (it serves every device)."""
    default_generator.manual_seed(seed)


def synchronize(device=None) -> None:
    """Wait for the work queued so far: JAX's arrays are waited on where they are read, so
    there is nothing graphnet-wide to wait for."""
    for d in jax.live_arrays():
        d.block_until_ready()


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
           "max_memory_reserved", "reset_peak_memory_stats"]


# `torch.cuda.amp.autocast(...)` / `torch.cuda.amp.GradScaler(...)`: the deprecated spellings of
# graphnet.amp's, still in most scripts (with PyTorch's FutureWarning).
amp = device_amp("cuda")
