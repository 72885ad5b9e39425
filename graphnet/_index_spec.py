"""Two readings of the spec `_indexing._split_index` makes of an index (graphnet/_ops/shape.py
`build_index` lists its entries): where PyTorch puts the advanced-index dimensions
(`torch_block`), and, eagerly, slices whose start becomes a kernel argument
(`runtime_starts`)."""

from __future__ import annotations

import numpy as np

from ._index_kinds import is_select


def torch_block(spec, tensors, ndim: int):
    """Where PyTorch puts the dimensions of the advanced indices when NumPy puts them first:
    (position, count), else None. PyTorch applies integer indices as selections before the
    advanced ones, so `x[1, :, [0, 2]]` keeps the slice's dimension first ([3, 2] for a
    [2, 3, 3] x), where NumPy, and so JAX, counts the 1 as an advanced index separated from
    [0, 2] by the slice and puts the advanced dimensions first ([2, 3])."""
    kinds, arrays = [], iter(tensors)
    for item in spec:
        if item[0] == "d":      # a slice whose start is a kernel argument
            next(arrays)
            kinds.append("s")
            continue
        if item[0] != "t":
            kinds.append(item[0])
            continue
        arg = next(arrays)
        if isinstance(arg, int) or is_select(arg):
            kinds.append("i")
        elif arg.dim() == 0 and arg.dtype.name == "bool":
            return None                 # x[True]: a new dimension, NumPy's place is PyTorch's
        else:
            kinds.append(("a", tuple(arg.shape)))
    advanced = [k for k, kind in enumerate(kinds) if kind == "i" or isinstance(kind, tuple)]
    if "i" not in kinds or not any(isinstance(kind, tuple) for kind in kinds):
        return None
    if advanced == list(range(advanced[0], advanced[-1] + 1)):
        return None                     # adjacent in NumPy's sense: the same place in both
    rest = [kind for kind in kinds if kind != "i"]
    own = [k for k, kind in enumerate(rest) if isinstance(kind, tuple)]
    if own != list(range(own[0], own[-1] + 1)):
        return None                     # apart in PyTorch's sense too: first in both
    consumed = sum(1 for kind in kinds if kind in ("s", "i") or isinstance(kind, tuple))
    widths = {"n": 1, "s": 1, "e": ndim - consumed}
    position = sum(widths.get(kind, 0) for kind in rest[:own[0]])
    count = len(np.broadcast_shapes(*[kind[1] for kind in rest if isinstance(kind, tuple)]))
    return position, count


def runtime_starts(spec, tensors, shape):
    """Eagerly, each slice with a start becomes ("d", length, step) with its start a kernel
    argument (after the tensors of the entries before it): `data[i:i + 35]` over a sequence,
    and `x[i:i + 5] = v` or `x[i:i + 5].mul_(2)`, compile one kernel, where a start in the
    spec compiled one per position (about 50 ms each, TBPTT's loop over a corpus). Every
    "t" entry is one dimension here (a mask was split into its integer parts)."""
    if not any(entry[0] == "s" and entry[1] not in (None, 0) for entry in spec):
        return spec, tensors
    used = sum(1 for entry in spec if entry[0] in ("i", "s", "t"))
    new_spec, new_tensors, arrays, dim = [], [], iter(tensors), 0
    for entry in spec:
        if entry[0] == "t":
            new_tensors.append(next(arrays))
        if entry[0] == "s" and entry[1] not in (None, 0) and dim < len(shape):
            start, stop, step = slice(*entry[1:]).indices(shape[dim])
            length = len(range(start, stop, step))
            if length:
                new_spec.append(("d", length, step))
                new_tensors.append(start)
                dim += 1
                continue
        new_spec.append(entry)
        dim += len(shape) - used if entry[0] == "e" else entry[0] in ("i", "s", "t")
    return tuple(new_spec), new_tensors
