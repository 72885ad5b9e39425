"""The attention switches of `graphnet.backends`, as PyTorch has them:

- `mha.set_fastpath_enabled(False)` stops MultiheadAttention and the Transformer encoder
  from taking PyTorch's fused inference path. It changes numbers: that path leaves NaN
  where a query may attend to nothing, uses exact GELU for any `nn.GELU`, and zeroes the
  padded positions of a TransformerEncoder's output.
- `cuda.enable_{flash,mem_efficient,math,cudnn}_sdp(bool)` (and `nn.attention.sdpa_kernel`)
  say which scaled-dot-product-attention kernels may run. graphnet has one kernel, whose
  numbers are PyTorch's math kernel's; on CPU PyTorch runs its flash kernel when that is
  allowed and the inputs suit it, else the math kernel, else it refuses. graphnet refuses
  where PyTorch would (`check_sdp_allowed`) and otherwise computes as usual.

A compiled function that read a switch recompiles when the switch changes."""

from __future__ import annotations

import contextlib
import math
import warnings

# Names as in PyTorch's torch._C._get_<name>_sdp_enabled, in nn.attention's listing order.
SDP_KERNELS = ("cudnn", "flash", "mem_efficient", "math", "overrideable")
_sdp_enabled = dict.fromkeys(SDP_KERNELS, True)
_sdp_priority = [1, 2, 0, 3, 4]   # SDPBackend values, PyTorch's default order
_fastpath = {"enabled": True}


def get_fastpath_enabled() -> bool:
    """Whether the fused inference path of MultiheadAttention and TransformerEncoder(Layer)
    may be taken (it still needs eval mode, no gradient and PyTorch's other conditions).

    >>> graphnet.backends.mha.get_fastpath_enabled()
    True
    """
    return _fastpath["enabled"]


def set_fastpath_enabled(value: bool) -> None:
    """Allow (True, the default) or forbid the fused inference path; see get_fastpath_enabled.

    >>> graphnet.backends.mha.set_fastpath_enabled(False)   # the ordinary path, always
    """
    _fastpath["enabled"] = value


def fastpath_enabled_traced() -> bool:
    """get_fastpath_enabled(), and a compiled function reading it recompiles on a change."""
    from .. import _dispatch

    _dispatch.depends_on(f"graphnet.backends.mha.get_fastpath_enabled() is "
                         f"{_fastpath['enabled']!r}, as traced", lambda: _fastpath["enabled"])
    return _fastpath["enabled"]


def sdp_enabled(name: str) -> bool:
    return _sdp_enabled[name]


def set_sdp_enabled(name: str, enabled: bool) -> None:
    if not isinstance(enabled, bool):
        raise RuntimeError(f"set_sdp_use_{name} expects a bool, but got "
                           f"{type(enabled).__name__}")
    _sdp_enabled[name] = enabled


def sdp_priority() -> list:
    return list(_sdp_priority)


def set_sdp_priority(order: list) -> None:
    _sdp_priority[:] = [int(b) for b in order]


def _flash_suits(query, key, value, dropout_p: float, enable_gqa: bool) -> bool:
    """PyTorch's CPU flash kernel's conditions (sdp_utils_cpp): 4-D inputs of one batch size
    and head count (fewer key/value heads with enable_gqa), one head dim, no dropout."""
    if dropout_p > 0.0 or not query.dim() == key.dim() == value.dim() == 4:
        return False
    if not query.shape[-1] == key.shape[-1] == value.shape[-1]:
        return False
    if not query.shape[0] == key.shape[0] == value.shape[0]:
        return False
    return enable_gqa or query.shape[1] == key.shape[1] == value.shape[1]


def check_sdp_allowed(query, key, value, dropout_p: float, enable_gqa: bool) -> None:
    """Raise PyTorch's RuntimeError where the enabled kernels leave none to run on CPU."""
    from .. import _dispatch

    out_shape = (*query.shape[:-1], value.shape[-1])
    if key.shape[-2] == 0 or math.prod(out_shape) == 0:
        return   # PyTorch answers an empty attention before it picks a kernel

    flash, math_on = _sdp_enabled["flash"], _sdp_enabled["math"]
    _dispatch.depends_on(
        f"graphnet.backends.cuda flash/math sdp enabled is ({flash}, {math_on}), as traced",
        lambda: (_sdp_enabled["flash"], _sdp_enabled["math"]))
    if math_on:
        return
    if not flash:
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. "
                           "This is likely due to turning off both the math kernel and the "
                           "fused kernels. Enable one: graphnet.backends.cuda."
                           "enable_math_sdp(True), or leave the nn.attention.sdpa_kernel "
                           "block")
    if not _flash_suits(query, key, value, dropout_p, enable_gqa):
        raise RuntimeError("No available kernel.  Aborting execution. (Only the flash kernel "
                           "is enabled, and these inputs do not suit it: it takes 4-D inputs "
                           "of one batch size, head count and head dim, without dropout. "
                           "Enable the math kernel: graphnet.backends.cuda."
                           "enable_math_sdp(True))")


def _switch_pair(name: str, what: str):
    def enabled() -> bool:
        return _sdp_enabled[name]

    def enable(enabled: bool) -> None:
        set_sdp_enabled(name, enabled)

    enabled.__name__, enable.__name__ = f"{name}_sdp_enabled", f"enable_{name}_sdp"
    enabled.__doc__ = f"Whether {what} scaled dot product attention is enabled."
    enable.__doc__ = f"Enable (True) or disable (False) {what} scaled dot product attention."
    return enabled, enable


def add_sdp_switches(cuda) -> None:
    """Give the `backends.cuda` module PyTorch's SDPA switches."""
    for name, what in (("flash", "flash"), ("mem_efficient", "memory efficient"),
                       ("math", "math"), ("cudnn", "cuDNN")):
        enabled, enable = _switch_pair(name, what)
        setattr(cuda, enabled.__name__, enabled)
        setattr(cuda, enable.__name__, enable)
    cuda.is_flash_attention_available = lambda: False   # graphnet has no flash kernel
    cuda.sdp_kernel = sdp_kernel


@contextlib.contextmanager
def sdp_kernel(enable_flash: bool = True, enable_math: bool = True,
               enable_mem_efficient: bool = True, enable_cudnn: bool = True):
    """Deprecated, as in PyTorch: nn.attention.sdpa_kernel with the kernels named True."""
    warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this "
                  "context manager will be removed. Please see "
                  "`torch.nn.attention.sdpa_kernel()` for the new context manager, with "
                  "updated signature.", FutureWarning, stacklevel=3)
    from ..nn.attention import SDPBackend, sdpa_kernel

    chosen = [(enable_flash, SDPBackend.FLASH_ATTENTION),
              (enable_mem_efficient, SDPBackend.EFFICIENT_ATTENTION),
              (enable_math, SDPBackend.MATH), (enable_cudnn, SDPBackend.CUDNN_ATTENTION)]
    with sdpa_kernel([backend for on, backend in chosen if on]) as context:
        yield context
