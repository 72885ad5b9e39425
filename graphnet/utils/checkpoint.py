"""`graphnet.utils.checkpoint`: activation checkpointing's API (`checkpoint`,
`checkpoint_sequential`), so models written with it run unchanged.

The results and gradients are exactly those of calling the function directly, which is what
checkpointing guarantees. The memory saving is not made: graphnet's eager tape keeps the
segment's intermediates, and a compiled program leaves rematerialisation to XLA."""

from __future__ import annotations

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, preserve_rng_state=True, **kwargs):
    """`function(*args, **kwargs)`, with the same values and gradients."""
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments: int, input, use_reentrant=None, **kwargs):
    """Run a Sequential (or a list of modules) in `segments` checkpointed pieces."""
    modules = list(functions.children()) if hasattr(functions, "children") else list(functions)
    for module in modules:
        input = module(input)
    return input
