"""`graphnet.nn.attention`: which scaled-dot-product-attention kernels may run, as in
`torch.nn.attention` (`SDPBackend`, the `sdpa_kernel` context manager).

graphnet has one attention kernel, with the numbers of PyTorch's math kernel; these settings
only decide where `F.scaled_dot_product_attention` refuses to run, as PyTorch does on CPU
(graphnet/backends/_attention_flags.py).

>>> from graphnet.nn.attention import SDPBackend, sdpa_kernel
>>> with sdpa_kernel(SDPBackend.MATH):
...     out = F.scaled_dot_product_attention(q, k, v)
"""

from __future__ import annotations

import contextlib
import enum

from ..backends import _attention_flags as flags

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.Enum):
    """The scaled-dot-product-attention kernels, with PyTorch's values (`int(backend)`)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self) -> int:
        return self.value

    __index__ = __int__


# the switch (backends/_attention_flags.py's name) each backend turns on
_SWITCH = {"cudnn": SDPBackend.CUDNN_ATTENTION, "flash": SDPBackend.FLASH_ATTENTION,
           "mem_efficient": SDPBackend.EFFICIENT_ATTENTION, "math": SDPBackend.MATH,
           "overrideable": SDPBackend.OVERRIDEABLE}


def _enabled_backends(with_priority: bool = False) -> list:
    backends = [_SWITCH[name] for name in flags.SDP_KERNELS if flags.sdp_enabled(name)]
    if with_priority:
        order = flags.sdp_priority()
        backends.sort(key=lambda b: order.index(int(b)))
    return backends


def _set_backends(backends: list, set_priority: bool) -> None:
    for name in flags.SDP_KERNELS:
        flags.set_sdp_enabled(name, _SWITCH[name] in backends)
    if set_priority:
        chosen = [int(b) for b in backends]
        flags.set_sdp_priority(chosen + [b for b in flags.sdp_priority() if b not in chosen])


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Within the block only `backends` (one SDPBackend or a list) may run
    scaled_dot_product_attention; on exit the previous settings come back. With
    `set_priority`, the list's order is also the order they are tried in.

    >>> with sdpa_kernel([SDPBackend.MATH, SDPBackend.FLASH_ATTENTION]):
    ...     out = F.scaled_dot_product_attention(q, k, v)
    """
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError(f"Backend must be an instance of SDPBackend or a list of "
                             f"SDPBackend instances, got {type(backends).__name__}")
    backends = [backends] if isinstance(backends, SDPBackend) else list(dict.fromkeys(backends))
    previous = _enabled_backends(with_priority=set_priority)
    try:
        _set_backends(backends, set_priority)
        yield {}
    finally:
        _set_backends(previous, set_priority)
