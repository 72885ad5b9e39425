"""`graphnet.device`, where arrays live, and default-type settings.

A device names a JAX device: `"cpu"` is the host, `"cuda"` / `"cuda:N"` the N-th JAX GPU.
`tensor.device` says where a tensor's array is; `.to(device)`, `.cuda()`, `.cpu()`,
`Module.to(device)` and every factory's `device=` move or place arrays with
`jax.device_put`. Asking for a GPU on a machine whose JAX has none raises a RuntimeError that
says so. Inside a compiled function placement is XLA's: the program runs where its inputs
are, so `.to(device)` there only checks that the device exists."""

from __future__ import annotations

import jax


_TYPES = ("cpu", "cuda", "meta")


class device:
    """`graphnet.device("cpu")`, `graphnet.device("cuda", 0)`, `graphnet.device("cuda:1")`:
    PyTorch's device object (`.type`, `.index`)."""

    def __init__(self, type="cpu", index: int | None = None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            from . import cuda     # PyTorch: a bare ordinal means the accelerator, if any

            if not cuda.is_available():
                raise RuntimeError("Cannot access accelerator device when none is available.")
            type, index = "cuda", type
        elif not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({type.__class__.__name__})")
        elif ":" in type:
            type, ordinal = type.split(":", 1)
            if index is not None or not ordinal.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{ordinal}'")
            index = int(ordinal)
        if type not in _TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of "
                               f"device string: {type}")
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type, self.index = type, index

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None
                                                else ")")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        # NOTE: as in PyTorch, a device never equals a string (device('cpu') != 'cpu').
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return device, (self.type, self.index)

    def __enter__(self) -> "device":
        """`with graphnet.device("cpu"):` makes it the default device for the block, as in
        PyTorch 2."""
        self.__dict__.setdefault("_previous", []).append(_default_device)
        set_default_device(self)
        return self

    def __exit__(self, *exc) -> None:
        global _default_device
        _default_device = self.__dict__["_previous"].pop()


def _gpus() -> list:
    try:
        return jax.devices("gpu")
    except RuntimeError:
        return []


def jax_device(where) -> "jax.Device":
    """The JAX device a PyTorch-style device argument names; a RuntimeError naming what this
    machine has when there is no such device."""
    where = where if isinstance(where, device) else device(where)
    if where.type == "cpu":
        return jax.devices("cpu")[0]
    if where.type == "meta":
        raise RuntimeError("graphnet has no 'meta' device: JAX arrays always hold data; use "
                           "jax.eval_shape or graphnet.trace_graph to work with shapes only")
    gpus = _gpus()
    index = where.index if where.index is not None else _current_gpu
    if not gpus:
        from .cuda import NoGPUError    # an AssertionError too, as PyTorch without CUDA raises

        raise NoGPUError(
            f"Found no CUDA device for {str(where)!r}: JAX here has only "
            f"{sorted({d.platform for d in jax.devices()})} backends (install jax[cuda12] on a "
            f"machine with an NVIDIA GPU), or use device='cpu'; graphnet.cuda.is_available() "
            f"tells which")
    if index >= len(gpus):
        raise RuntimeError(f"CUDA error: invalid device ordinal {index} (this machine has "
                           f"{len(gpus)} GPU{'s' if len(gpus) != 1 else ''})")
    return gpus[index]


_current_gpu = 0   # graphnet.cuda.set_device


def of_jax(jax_dev) -> device:
    """graphnet's device for a JAX device: the host is `cpu` (no index, as PyTorch prints a
    CPU tensor's device), a GPU is `cuda:N`."""
    if jax_dev.platform == "cpu":
        return device("cpu")
    return device("cuda", _gpus().index(jax_dev) if jax_dev in _gpus() else jax_dev.id)


_default_device: device | None = None


def set_default_device(where) -> None:
    """Where factories put new tensors when they get no `device=` (None: JAX's default)."""
    global _default_device
    if where is None:
        _default_device = None
        return
    jax_device(where)   # refuse a device this machine does not have, now
    _default_device = where if isinstance(where, device) else device(where)


def get_default_device() -> device:
    return _default_device or of_jax(jax.devices()[0])


def place(value, where):
    """`value` (a jax.Array) on the device `where` names (`None`: the default device, when
    one was set). Arrays already there, and traced values, are returned as they are."""
    where = where if where is not None else _default_device
    if where is None:
        return value
    target = jax_device(where)
    if not isinstance(value, jax.Array) or target in value.devices():
        return value
    return jax.device_put(value, target)
