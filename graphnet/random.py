"""`graphnet.random`, as `torch.random`: the global generator's seeding and state functions,
and `fork_rng`, which restores that state on leaving its block.

>>> with graphnet.random.fork_rng():
...     noise = graphnet.randn(3)    # the draws after the block are those it would have had
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ._random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,
                      seed, set_rng_state)

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed",
           "manual_seed", "seed", "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str | None = None) -> Iterator[None]:
    """Run the block, then put the global generator back in the state it had before it.

    NOTE: graphnet has one generator for every device (JAX keys are not per device), so
    `devices` and `device_type` choose nothing; they are accepted as torch's are."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
