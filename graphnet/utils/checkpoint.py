"""`graphnet.utils.checkpoint`: activation checkpointing's API (`checkpoint`,
`checkpoint_sequential`), so models written with it run unchanged.

The results and gradients are those of PyTorch's checkpoint, which are those of calling the
function directly, with one exception PyTorch has: with `use_reentrant=True` (its default
when the argument is left out) the segment is an autograd Function of its tensor inputs, so
when none of them requires grad its outputs do not either and the parameters inside get no
gradient (PyTorch warns "None of the inputs have requires_grad=True"). The memory saving is
not made: graphnet's eager tape keeps the segment's intermediates, and a compiled program
leaves rematerialisation to XLA.

Since the segment runs once, its side effects happen once: a BatchNorm in train mode inside
it updates its running statistics once per step, where PyTorch's backward runs the segment
again and updates them a second time (its running mean moves about twice as far per step).
Likewise with `use_reentrant=True` an output that depends on no input requiring grad does
not require grad here, where PyTorch's Function marks every output."""

from __future__ import annotations

import warnings

from .._autograd import no_grad
from .._tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


def _default_reentrant(sequential: bool) -> bool:
    if sequential:
        message = ("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter "
                   "should be passed explicitly. In version 2.9 we will raise an exception if "
                   "use_reentrant is not passed. ")
    else:
        message = ("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                   "explicitly. Starting in PyTorch 2.9, calling checkpoint without "
                   "use_reentrant will raise an exception. ")
    warnings.warn(message + "use_reentrant=False is recommended, but if you need to preserve "
                  "the current default behavior, you can pass use_reentrant=True. Refer to "
                  "docs for more details on the differences between the two variants.",
                  stacklevel=3)
    return True


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """`function(*args, **kwargs)`, with PyTorch checkpoint's values and gradients.

    >>> y = checkpoint(block, x, use_reentrant=False)
    """
    if use_reentrant is None:
        use_reentrant = _default_reentrant(False)
    kwargs.pop("preserve_rng_state", True)  # the segment is not recomputed: nothing to keep
    if not use_reentrant:
        if determinism_check not in ("default", "none"):
            raise ValueError(f"determinism_check should be one of ['default', 'none'], but "
                             f"got {determinism_check}")
        if context_fn is not None:          # PyTorch enters its two contexts around it
            forward_context, _ = context_fn()
            with forward_context:
                return function(*args, **kwargs)
        return function(*args, **kwargs)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if context_fn is not None or debug is not False:
        raise ValueError("Passing `context_fn` or `debug` is only supported when "
                         "use_reentrant=False.")
    if not any(a.requires_grad for a in args if isinstance(a, Tensor)):
        # NOTE: PyTorch runs the segment under no_grad and records it as a Function of its
        # inputs: with no input needing grad its outputs need none, nor do its parameters
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=2)
        with no_grad():
            return function(*args)
    return function(*args)


def checkpoint_sequential(functions, segments: int, input, use_reentrant=None, **kwargs):
    """Run a Sequential (or a list of modules) in `segments` pieces, each but the last one
    checkpointed, as PyTorch does."""
    if use_reentrant is None:
        use_reentrant = _default_reentrant(True)
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    modules = list(functions.children()) if hasattr(functions, "children") else list(functions)

    def run(start: int, end: int):
        def forward(x):
            for module in modules[start:end + 1]:
                x = module(x)
            return x
        return forward

    size = len(modules) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run(end + 1, len(modules) - 1)(input)
