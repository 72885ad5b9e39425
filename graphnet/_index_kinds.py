"""What kind of index item a tensor is, where PyTorch decides it by dtype and rank rather
than by type (graphnet/_indexing.py reads these): a 0-d integer tensor is a select (the number
it holds, a view), a 0-d bool or uint8 tensor a mask with no dimensions (a Python bool), and a
tensor value written through an advanced index must have the destination's dtype."""

from __future__ import annotations

import jax
import numpy as np

from ._host_reads import host_values
from ._tensor import Tensor


def is_select(item) -> bool:
    """A 0-d integer tensor, which PyTorch reads as the number it holds (a select, a view);
    a 0-d bool or uint8 tensor is a mask instead (`scalar_mask`)."""
    return isinstance(item, Tensor) and item.dim() == 0 and not item.dtype.is_floating_point \
        and not item.dtype.is_complex and item.dtype.name not in ("bool", "uint8")


def scalar_mask(item) -> bool:
    """A 0-d bool or uint8 tensor: PyTorch reads it as a Python bool (a mask with no
    dimensions: `x[tensor(True)]` is [1, ...], `x[tensor(False)]` is [0, ...])."""
    return isinstance(item, Tensor) and item.dim() == 0 and item.dtype.name in ("bool", "uint8")


def scalar_mask_value(item: Tensor) -> bool:
    """The bool a `scalar_mask` holds (a traced one is refused: the shape depends on it)."""
    # NOTE: PyTorch (2.13) gives no uint8 deprecation warning for a 0-d byte tensor
    values = host_values(
        item, "boolean-mask indexing",
        "indexing by a 0-d bool tensor adds a dimension of size 0 or 1 depending on its "
        "value, so it cannot be traced; use graphnet.where(mask, x, other) instead")
    return bool(np.asarray(values).reshape(()))


def concrete_select(item) -> bool:
    """Whether a 0-d integer index tensor holds a number now: not a traced graph value, nor
    a JAX tracer (under graphnet.func.vmap, one index per sample)."""
    return isinstance(item._value, jax.Array) and not isinstance(item._value, jax.core.Tracer)


def layout_index(index: tuple) -> tuple:
    """`index` for the strides of its view: a traced 0-d index (`_split_index`) as 0.
    NOTE: its place is unknown while tracing, so storage_offset() and the overlap check
    (graphnet/_overlap.py) read such a view as the first one; its strides are exact."""
    return tuple(0 if is_select(item) and not concrete_select(item) else item
                 for item in index)


def check_value_dtype(self: Tensor, items: tuple, value) -> None:
    """PyTorch's refusal of a tensor value of another dtype when the index `items` (a tuple)
    have an advanced part (a tensor, list or array; a 0-d integer tensor is a select): its
    index_put does no cast. One bool mask with a 0-d value is its masked_fill, which casts;
    so do basic indices (copy_)."""
    if not isinstance(value, Tensor) or value.dtype == self.dtype:
        return
    if not any(isinstance(item, (list, tuple, np.ndarray)) or
               (isinstance(item, Tensor) and not is_select(item)) for item in items):
        return
    if len(items) == 1 and isinstance(items[0], Tensor) and items[0].dtype.name == "bool" \
            and value.dim() == 0:
        return
    from ._shape_more import type_name

    raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                       f"{type_name(self.dtype)} for the destination and "
                       f"{type_name(value.dtype)} for the source.")


def check_broadcast(tensors) -> None:
    """PyTorch's IndexError for index tensors whose shapes do not broadcast together (JAX's
    refusal came as a ShapeError, which `except IndexError` missed)."""
    shapes = [tuple(t.shape) for t in tensors if isinstance(t, Tensor)]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                         "with shapes " + ", ".join(str(list(s)) for s in shapes)) from None


def value_shape_error(target: tuple, value: Tensor, advanced: bool) -> RuntimeError:
    """PyTorch's error for `x[index] = value` whose value does not broadcast to the indexed
    part `target` (a shape): its `index_put_` message for an advanced index, its `expand`
    messages for a basic one (before, JAX's broadcast error with graphnet's index spec)."""
    shape = tuple(value.shape)
    if advanced:
        return RuntimeError(f"shape mismatch: value tensor of shape {list(shape)} cannot be "
                            f"broadcast to indexing result of shape {list(target)}")
    if len(shape) > len(target):
        from ._dtype_methods import _TYPE_NAMES

        kind = _TYPE_NAMES.get(value.dtype, "Tensor")
        return RuntimeError(f"expand(torch.{kind}{{{list(shape)}}}, size={list(target)}): the "
                            f"number of sizes provided ({len(target)}) must be greater or "
                            f"equal to the number of dimensions in the tensor ({len(shape)})")
    offset = len(target) - len(shape)
    for i, n in enumerate(shape):
        if n != 1 and n != target[offset + i]:
            return RuntimeError(
                f"The expanded size of the tensor ({target[offset + i]}) must match the "
                f"existing size ({n}) at non-singleton dimension {offset + i}.  Target sizes: "
                f"{list(target)}.  Tensor sizes: {list(shape)}")
    return RuntimeError(f"shape mismatch: value tensor of shape {list(shape)} cannot be "
                        f"broadcast to indexing result of shape {list(target)}")


def check_copy_shapes(dst: tuple, src: tuple) -> None:
    """PyTorch's errors for `dst.copy_(src)` where `src` does not broadcast to `dst`."""
    if dst == src:
        return
    ndim = max(len(dst), len(src))
    for k in range(1, ndim + 1):
        a = dst[-k] if k <= len(dst) else 1
        b = src[-k] if k <= len(src) else 1
        if a != b and 1 not in (a, b):
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b "
                               f"({b}) at non-singleton dimension {ndim - k}")
    wide = tuple(np.broadcast_shapes(dst, src))
    if wide != dst:
        raise RuntimeError(f"output with shape {list(dst)} doesn't match the broadcast shape "
                           f"{list(wide)}")
