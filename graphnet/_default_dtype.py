"""The default floating point dtype, as `torch.set_default_dtype` sets it.

Everything PyTorch derives from the default follows it: factories given no dtype (`zeros`,
`randn`, `full(size, 1.5)`, `arange(0.5)`, `linspace`, `eye` ...), `tensor` of Python floats,
the parameters and buffers a layer creates, `finfo()`, and `result_type` of an integer tensor
with a Python float. Like PyTorch's, the setting is one per process (not per thread).

>>> graphnet.set_default_dtype(graphnet.float64)
>>> graphnet.zeros(2).dtype
graphnet.float64

A compiled function reads the default while it is traced (through `default_float()`), and the
trace depends on it (`_dispatch.depends_on`): called after a switch, it traces again, so the
compiled program never keeps the dtype of an earlier setting.
"""

from __future__ import annotations

import warnings
import weakref

from . import _dtype as dt

_ONLY_FLOATS = "only floating-point types are supported as the default type"
_current = {"dtype": dt.float32}
# the dispatch modes (tracers) already told that their trace depends on the default
_told: weakref.WeakSet = weakref.WeakSet()


def default_float() -> dt.dtype:
    """The dtype a Python float, or a factory given no dtype, makes. graphnet's own code calls
    this (never `dt.float32`) wherever PyTorch uses its default dtype."""
    from ._mode import _stack   # NOTE: lazily: _mode imports _autograd, which builds on us

    # NOTE: every installed mode is told, not only the innermost: a mode between the code
    # and the tracer (vmap's) need not pass `depends_on` on
    for mode in _stack.modes:
        if mode not in _told:
            mode.depends_on(f"graphnet.get_default_dtype() is {_current['dtype']}, as traced",
                            _read)
            _told.add(mode)
    return _current["dtype"]


def _read() -> dt.dtype:
    return _current["dtype"]


def get_default_dtype() -> dt.dtype:
    """The default floating point dtype (float32 unless `set_default_dtype` changed it).

    >>> graphnet.get_default_dtype()
    graphnet.float32
    """
    return default_float()


def set_default_dtype(d) -> None:
    """Make `d` (float16, bfloat16, float32 or float64) the default floating point dtype,
    as `torch.set_default_dtype`. Tensors made before keep their dtype.

    >>> graphnet.set_default_dtype(graphnet.float64)
    >>> graphnet.tensor([1.5]).dtype
    graphnet.float64
    """
    if not isinstance(d, dt.dtype):
        raise TypeError(f"invalid dtype object: {_ONLY_FLOATS} (got {d!r}; pass a graphnet "
                        f"dtype such as graphnet.float64)")
    if not d.is_floating_point or d.is_complex:
        raise TypeError(_ONLY_FLOATS)
    if d is not _current["dtype"]:
        from ._dispatch import clear_kernel_cache

        # NOTE: an eager kernel that reads the default while JAX traces it would keep the
        # old dtype in its cached program; the kernel cache is not keyed on the default
        clear_kernel_cache()
    _current["dtype"] = d


def set_default_tensor_type(t) -> None:
    """Deprecated (`torch.set_default_tensor_type`): a floating legacy type (`graphnet.
    DoubleTensor`) or its name ("torch.DoubleTensor") sets the default dtype to its dtype."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    if isinstance(t, str):
        t = _legacy_type_named(t)
    d = getattr(t, "dtype", None) if isinstance(t, type) else None
    if not isinstance(d, dt.dtype):
        raise TypeError(f"invalid type object: {_ONLY_FLOATS} (got {t!r}; pass a legacy type "
                        f"such as graphnet.DoubleTensor, or use set_default_dtype)")
    set_default_dtype(d)


def _legacy_type_named(name: str):
    """The legacy type "torch.DoubleTensor" (or "graphnet.DoubleTensor") names, with PyTorch's
    errors for a name without a module or one the module lacks."""
    module, _, attribute = name.rpartition(".")
    if not module:
        raise ModuleNotFoundError(f"No module named '{name}'", name=name)
    if module.endswith(".cuda"):
        raise TypeError(f"type {name} not available: graphnet's legacy types are not tied to a "
                        f"device; call set_default_dtype and set_default_device instead")
    if module not in ("torch", "graphnet"):
        raise ModuleNotFoundError(f"No module named '{module}'", name=module)
    from . import _legacy_types   # NOTE: it builds on the factories, which build on this

    found = _legacy_types.LEGACY.get(attribute) or dt._BY_NAME.get(attribute)
    if found is None:
        raise AttributeError(f"module '{module}' has no attribute '{attribute}'")
    return found
