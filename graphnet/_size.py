"""`graphnet.Size`, a tensor's shape: a tuple that prints as `graphnet.Size([2, 3])` and stays
a Size through the tuple arithmetic PyTorch keeps it through (`x.shape + (4,)`,
`x.shape[1:]`, `2 * x.shape`), so code that prints or type-checks a computed shape sees what
it sees with torch.Size."""

from __future__ import annotations

import math
import operator


class Size(tuple):
    """The shape of a tensor: a tuple that prints like `graphnet.Size([2, 3])`. Made by the
    user, its items are taken as ints, as PyTorch takes them (a 0-d integer tensor, a NumPy
    int, a bool; a float or a string raises TypeError); a tensor's own shape is made with
    `shape_of`, which skips that check."""

    def __new__(cls, sizes=()):
        items = tuple(sizes)
        for i, item in enumerate(items):
            if type(item) is not int:
                try:
                    item = operator.index(item)
                except TypeError:
                    raise TypeError(f"torch.Size() takes an iterable of 'int' (item {i} is "
                                    f"'{type(item).__name__}')") from None
                items = items[:i] + (int(item),) + items[i + 1:]
        return tuple.__new__(cls, items)

    def __repr__(self) -> str:
        return f"graphnet.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)   # Python ints: exact, and no NumPy call (np.prod: ~5 us)

    def __getitem__(self, index):
        got = tuple.__getitem__(self, index)
        return shape_of(got) if isinstance(index, slice) else got

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, times):
        return Size(tuple.__mul__(self, times))

    __rmul__ = __mul__


def shape_of(dims) -> Size:
    """A Size of ints already checked (a JAX array's shape): no per-item check."""
    return tuple.__new__(Size, dims)
