"""`graphnet.device` and default-type settings, for code written against PyTorch's API.

graphnet places arrays with JAX (its default device: the GPU when jax's CUDA build is
installed, else the CPU), so a device argument is accepted and recorded, never a transfer."""

from __future__ import annotations

from . import _dtype as dt


class device:
    """`graphnet.device("cpu")`, `graphnet.device("cuda", 0)`: accepted wherever PyTorch takes
    one; arrays live where JAX puts them."""

    def __init__(self, type: str = "cpu", index: int | None = None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if ":" in type:
            type, index = type.split(":")[0], int(type.split(":")[1])
        self.type, self.index = type, index

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None
                                                else ")")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        other = device(other) if isinstance(other, str) else other
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


_FLOAT32_NAMES = {"torch.FloatTensor", "graphnet.FloatTensor", "FloatTensor"}


def set_default_tensor_type(t) -> None:
    """Only float32 (PyTorch's default) is supported as the default floating type."""
    if t in _FLOAT32_NAMES or t is dt.float32:
        return
    raise TypeError(f"set_default_tensor_type({t!r}): graphnet's default floating type is "
                    f"float32 and cannot be changed; pass dtype= to factories instead")


def set_default_dtype(d) -> None:
    if d is not dt.float32:
        raise TypeError(f"set_default_dtype({d!r}): graphnet's default floating type is float32 "
                        f"and cannot be changed; pass dtype= to factories instead")


def get_default_dtype() -> dt.dtype:
    return dt.float32
