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


__all__ = ["is_available", "device_count", "current_device", "get_device_name",
           "manual_seed", "manual_seed_all", "synchronize", "get_rng_state", "set_rng_state"]


# `torch.cuda.amp.autocast(...)` / `torch.cuda.amp.GradScaler(...)`: the deprecated spellings of
# graphnet.amp's, still in most scripts (with PyTorch's FutureWarning).
amp = device_amp("cuda")
