"""Tensor methods about layout and construction: stride, is_contiguous, ndimension,
nelement, sum_to_size, resize_/resize_as_, the new_* factories, and the `*_copy` functions
(graphnet tensors never share storage, so `view_copy` is `view`).

`stride()`, `is_contiguous()` and `storage_offset()` report the strides PyTorch gives a view
(graphnet/_strides.py), and row-major ones for any other tensor, as PyTorch does for a
freshly made tensor."""

from __future__ import annotations

from . import _factories as fac
from . import _layout as L
from . import _math as M
from . import _strides
from ._methods import size_argument
from ._settings import uninitialized
from ._tensor import Size, Tensor


def stride(self: Tensor, dim: int | None = None):
    """The strides (in elements) PyTorch would give this tensor: a view's over its source's
    storage (graphnet/_strides.py), row-major for any other tensor; or one of them."""
    shape = tuple(self.shape)
    strides = _strides.layout(self)[0]
    if dim is None:
        return strides
    from ._shape_more import wrap_dim
    return strides[wrap_dim(dim, len(shape))] if shape else 1


def is_contiguous(self: Tensor, memory_format=None) -> bool:
    """Whether the strides are dense in `memory_format`: row-major by default (a transposed
    or stepped view's are not), channels-last order for `channels_last(_3d)`."""
    from . import _memory_format as MF
    fmt = MF.checked(memory_format, "is_contiguous")
    return MF.is_contiguous_as(tuple(self.shape), _strides.layout(self)[0], fmt)


def dim_order(self: Tensor, *, ambiguity_check=False) -> tuple:
    """The dims from the outermost to the innermost in memory, read from the strides
    `stride()` reports (a transpose's `(1, 0)`, channels-last `(0, 2, 3, 1)`). With
    `ambiguity_check` True, or a list of memory formats, a layout that more than one order
    describes (a dim of size 1, equal strides) raises RuntimeError unless exactly one of
    those formats matches it, as in PyTorch."""
    from . import _memory_format as MF
    if not isinstance(ambiguity_check, bool) and not (
            isinstance(ambiguity_check, list)
            and all(isinstance(f, MF.memory_format) for f in ambiguity_check)):
        raise TypeError("The ambiguity_check argument must be a bool or a list of memory "
                        "formats.")
    shape, strides = tuple(self.shape), _strides.layout(self)[0]
    formats = ambiguity_check if isinstance(ambiguity_check, list) else []
    several = any(a == b for a, b in zip(strides, strides[1:])) or 1 in shape
    if (ambiguity_check is not False and several
            and sum(MF.is_contiguous_as(shape, strides, f) for f in formats) != 1):
        raise RuntimeError("The tensor does not have unique dim order, or cannot map to "
                           "exact one of the given memory formats.")
    order, ambiguous = _physical_order(shape, strides, bool(ambiguity_check))
    if ambiguous:
        raise RuntimeError("The tensor does not have unique dim order.")
    return tuple(order)


def _physical_order(shape, strides, check: bool):
    """(dims outermost first, whether two neighbours' order is not fixed by the strides):
    PyTorch's order for an elementwise result, an insertion sort from the innermost dim in
    which zero strides compare with nothing and equal strides keep the longer dim outside."""
    from . import _memory_format as MF
    n = len(shape)
    if n <= 1:
        return list(range(n)), False
    dense = _strides.is_contiguous(shape, strides)
    last = MF.is_contiguous_as(shape, strides, MF.channels_last)
    if dense and not last:
        return list(range(n)), False
    if last and not dense:
        return [0, *range(2, n), 1], False

    def at_least(a, b):
        return b == 0 or (a != 0 and (a >= b or a % b == 0))

    def compare(a, b):   # > 0: dim a belongs inside dim b
        if strides[a] == 0 or strides[b] == 0:
            return 0
        if strides[a] == strides[b]:
            return 0 if at_least(shape[b], shape[a]) else 1
        return -1 if at_least(strides[b], strides[a]) else 1

    perm = list(reversed(range(n)))   # innermost first while sorting
    for i in range(1, n):
        moving = i
        for j in reversed(range(i)):
            side = compare(perm[j], perm[moving])
            if side > 0:
                perm[j], perm[moving] = perm[moving], perm[j]
                moving = j
            elif side < 0:
                break
    ambiguous = check and any(compare(perm[i], perm[i + 1]) != -1 for i in range(n - 1))
    return list(reversed(perm)), ambiguous


def storage_offset(self: Tensor) -> int:
    """Where a view starts in its source's storage, in elements (0 for any other tensor).
    Read while tracing, the compiled program holds the number: the arguments' offsets are
    then checked on each call (compiler/tensor_attributes.py)."""
    from ._mode import current_mode

    mode = current_mode()
    while mode is not None and mode.records_graph:   # the root trace (not a cond branch's)
        mode.offset_read = True
        mode = getattr(mode, "parent", None)
    return _strides.layout(self)[1]


def ndimension(self: Tensor) -> int:
    """The number of dims (`dim()`)."""
    return self.dim()


def nelement(self: Tensor) -> int:
    """The number of elements (`numel()`)."""
    return self.numel()


def sum_to_size(self: Tensor, *size) -> Tensor:
    """`self` summed down to `size`, which must expand to self's shape (the reverse of
    broadcasting: the reduction a gradient of a broadcast input needs)."""
    size = L._shape_args(size)
    shape = tuple(self.shape)
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != shape[lead + i] for i, s in enumerate(size)):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size "
                           f"{{{list(shape)}}}.")
    dims = list(range(lead)) + [lead + i for i, s in enumerate(size)
                                if s == 1 and shape[lead + i] != 1]
    if not dims:
        return self
    return L.reshape(M.sum(self, tuple(dims), keepdim=True), size)


def resize_(self: Tensor, *size, memory_format=None) -> Tensor:
    """Reshape in place to `size`; the elements kept are the first ones in row-major order,
    new ones (PyTorch leaves them uninitialised) are zero."""
    size = L._shape_args(size)
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    total = Size(size).numel()
    flat = L.reshape(self, -1)
    if total <= flat.numel():
        flat = flat[:total]
    else:
        flat = L.cat([flat, fac.zeros(total - flat.numel(), dtype=self.dtype)])
    result = L.reshape(flat, size)
    self._value, self.grad_fn, self._oi = result._value, result.grad_fn, result._oi
    return self


def resize_as_(self: Tensor, the_template: Tensor, memory_format=None) -> Tensor:
    """`resize_` to the shape of `the_template`."""
    return resize_(self, tuple(the_template.shape))


def resize(self: Tensor, *sizes) -> Tensor:
    """The deprecated out-of-place `resize`: a reshape that keeps the number of elements."""
    sizes = L._shape_args(sizes)
    total = Size(sizes).numel()
    if total != self.numel():
        raise RuntimeError(f"requested resize to {'x'.join(map(str, sizes))} ({total} elements "
                           f"in total), but the given tensor has a size of "
                           f"{'x'.join(map(str, self.shape))} ({self.numel()} elements). "
                           f"autograd's resize can only change the shape of a given tensor, "
                           f"while preserving the number of elements. ")
    return L.reshape(self, sizes)


def resize_as(self: Tensor, tensor: Tensor) -> Tensor:
    """`resize` to `tensor`'s shape."""
    return resize(self, tuple(tensor.shape))


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (the transpose, for real tensors)."""
    if input.dim() < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {input.dim()}-D tensor.")
    return L.transpose(input, -2, -1)


def _new(name, factory):
    # NOTE: the size in any of PyTorch's forms: `x.new_ones(size=(2,))` raised TypeError
    def method(self: Tensor, *size, dtype=None, device=None, requires_grad=False,
               layout=None, pin_memory=False, **kwargs):
        t = fac.batched_like(self, factory(size_argument(name, "size", size, kwargs),
                                           dtype or self.dtype))
        return t.requires_grad_() if requires_grad else t
    method.__name__ = method.__qualname__ = name
    return method


new_empty = _new("new_empty", lambda s, d: uninitialized(fac.zeros(s, dtype=d)))
new_zeros = _new("new_zeros", lambda s, d: fac.zeros(s, dtype=d))
new_ones = _new("new_ones", lambda s, d: fac.ones(s, dtype=d))


def new_empty_strided(self: Tensor, size, stride, *, dtype=None, device=None,
                      requires_grad=False, layout=None, pin_memory=False) -> Tensor:
    """`new_empty(size)`: graphnet tensors are always contiguous, so `stride` is not kept."""
    return new_empty(self, tuple(size), dtype=dtype, requires_grad=requires_grad)


def new_full(self: Tensor, size, fill_value, *, dtype=None, device=None, requires_grad=False,
             layout=None, pin_memory=False) -> Tensor:
    """A tensor of `size` filled with `fill_value`, with self's dtype unless given."""
    return fac.batched_like(self, fac.full(tuple(size), fill_value, dtype=dtype or self.dtype,
                                           requires_grad=requires_grad))


def new_tensor(self: Tensor, data, *, dtype=None, device=None, requires_grad=False,
               layout=None, pin_memory=False) -> Tensor:
    """A new tensor of `data` (copied), with self's dtype unless given."""
    if isinstance(data, Tensor):
        data = data.detach()
        return data.to(dtype or self.dtype).clone().requires_grad_(requires_grad)
    return fac.tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


METHODS = {"stride": stride, "is_contiguous": is_contiguous, "storage_offset": storage_offset,
           "ndimension": ndimension,
           "nelement": nelement, "sum_to_size": sum_to_size, "resize_": resize_,
           "resize_as_": resize_as_, "new_empty": new_empty, "new_zeros": new_zeros,
           "new_ones": new_ones, "new_full": new_full, "new_tensor": new_tensor,
           "new_empty_strided": new_empty_strided, "resize": resize, "resize_as": resize_as,
           "adjoint": adjoint, "dim_order": dim_order}
