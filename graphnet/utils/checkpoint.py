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
not require grad here, where PyTorch's Function marks every output.

With `use_reentrant=True` only the tensors the function returns itself, or as items of the
tuple it returns, are outputs of PyTorch's Function; a tensor inside a list or dict (or a
nested tuple) was computed under no_grad and takes no gradient. graphnet detaches such
tensors so: an auxiliary loss returned as `(h, {"aux": aux})` trains nothing, as in PyTorch.

`create_selective_checkpoint_contexts` and `CheckpointPolicy` are accepted for
`context_fn=`: with no recomputation there is nothing to choose between saving and
recomputing, so the policy is not consulted and the values are the same.
`set_checkpoint_early_stop` and `set_checkpoint_debug_enabled` are context managers that
change nothing here, for the same reason."""

from __future__ import annotations

import contextlib
import enum
import warnings

from .._autograd import no_grad
from .._tensor import Tensor

__all__ = ["CheckpointError", "CheckpointFunction", "CheckpointPolicy", "DefaultDeviceType",
           "SelectiveCheckpointContext", "check_backward_validity", "checkpoint",
           "checkpoint_sequential", "create_selective_checkpoint_contexts", "detach_variable",
           "get_device_states", "noop_context_fn", "set_checkpoint_debug_enabled",
           "set_checkpoint_early_stop", "set_device_states"]


class CheckpointError(RuntimeError):
    """PyTorch raises it when a recomputation differs from the forward; graphnet does not
    recompute, so it is never raised, and is here for `except CheckpointError:`."""


class CheckpointPolicy(enum.Enum):
    """What a selective checkpointing policy answers for an op (not consulted here)."""
    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


class SelectiveCheckpointContext:
    def __init__(self, *, is_recompute, op_output=None) -> None:
        self.is_recompute, self.op_output = is_recompute, op_output


def noop_context_fn():
    """`context_fn`'s default: two contexts that do nothing."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def create_selective_checkpoint_contexts(policy_fn_or_list, allow_cache_entry_mutation=False):
    """The forward and recompute contexts of selective checkpointing, for
    `checkpoint(..., use_reentrant=False, context_fn=partial(this, policy))`. They change
    nothing here (see the module docstring); the policy is checked as PyTorch checks it."""
    del allow_cache_entry_mutation
    if not isinstance(policy_fn_or_list, list) and not callable(policy_fn_or_list):
        raise TypeError("policy_fn_or_list must be either a function or a list of ops.")
    return contextlib.nullcontext(), contextlib.nullcontext()


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool):
    """PyTorch's switch for stopping recomputation early; nothing is recomputed here."""
    del enable
    yield


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """PyTorch's switch for checkpoint's debug printout; nothing is recomputed here."""
    del enabled
    yield


def check_backward_validity(inputs) -> None:
    """PyTorch's warning when no tensor of `inputs` requires grad."""
    if not any(t.requires_grad for t in inputs if isinstance(t, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=2)


def get_device_states(*args):
    """(device ids, RNG states) of the accelerator tensors among `args`: graphnet keeps no
    per-device RNG state to restore (it does not recompute), so ([], [])."""
    return [], []


def set_device_states(devices, states, *, device_type=None) -> None:
    """Nothing to restore (see `get_device_states`)."""


class DefaultDeviceType:
    """The device type whose RNG state checkpointing would save: "cpu" unless set."""

    _default_device_type = None

    @staticmethod
    def set_device_type(device: str = "cuda") -> None:
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type() -> str:
        return DefaultDeviceType._default_device_type or "cpu"


class CheckpointFunction:
    """PyTorch's reentrant checkpoint as an autograd Function:
    `CheckpointFunction.apply(function, preserve_rng_state, *args)` is
    `checkpoint(function, *args, use_reentrant=True)`."""

    @staticmethod
    def apply(run_function, preserve_rng_state, *args):
        return checkpoint(run_function, *args, use_reentrant=True,
                          preserve_rng_state=preserve_rng_state)


def detach_variable(inputs):
    """Each tensor of the tuple `inputs` detached, keeping its requires_grad flag."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    out = []
    for item in inputs:
        if isinstance(item, Tensor):
            flag, item = item.requires_grad, item.detach()
            item.requires_grad_(flag)
        out.append(item)
    return tuple(out)


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
    return _function_outputs(function(*args))


def _function_outputs(out):
    """`out` as PyTorch's reentrant checkpoint returns it: the tensors in it that are not
    outputs of its autograd Function (not `out` itself, nor an item of the tuple `out`)
    detached, as computed under no_grad."""
    if isinstance(out, Tensor):
        return out
    if isinstance(out, tuple):   # a namedtuple comes back a tuple, as from PyTorch's Function
        return tuple(item if isinstance(item, Tensor) else _no_grad_copy(item)
                     for item in out)
    return _no_grad_copy(out)


def _no_grad_copy(value):
    from ._pytree import tree_map   # PyTorch's container walk

    def detach(leaf):
        return leaf.detach() if isinstance(leaf, Tensor) and leaf.requires_grad else leaf

    return tree_map(detach, value)


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
