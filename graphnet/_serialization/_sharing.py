"""Tensors that share one storage in a checkpoint load as tensors that share values.

torch.save writes a storage once however many tensors view it (``[t, t[1:3]]``, tied weights
in a state_dict); torch.load gives them one storage again, so an in-place change of one shows
in the others. graphnet does the same with its views (graphnet/_aliases.py): the storage
loads as one flat tensor and each tensor is a view of it (a slice and a reshape, or
``as_strided`` for other strides), so a write through any of them reaches the others.

graphnet.save finds such tensors by their storage owner (graphnet/_overlap.py) and writes the
owner's values once, with each tensor's (offset, size, stride) in the ``views`` metadata
(format version 2). Tensors that require grad (Parameters) are their own storage in graphnet,
never views of another tensor, so they are saved and loaded as their own copies.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._errors import checkpoint_error

Place = tuple  # (offset, size, stride), in elements of the storage
_DAMAGED = "The file is corrupted or was edited by hand; load an earlier checkpoint."


def _contiguous(size: tuple, stride: tuple) -> bool:
    expected = 1
    for n, s in zip(reversed(size), reversed(stride)):
        if n != 1:
            if s != expected:
                return False
            expected *= n
    return True


def views_of(flat: Any, places: list[Place]) -> list[Any]:
    """One tensor per place, each a view of the 1-D tensor ``flat``: an in-place change of any
    of them shows in the others. The first place that is all of ``flat`` gets ``flat`` itself."""
    out, whole = [], (int(flat.numel()),)
    for offset, size, stride in places:
        size, stride = tuple(size), tuple(stride)
        numel = math.prod(size)
        if offset == 0 and size == whole and not any(t is flat for t in out):
            out.append(flat)
        elif _contiguous(size, stride):
            out.append(flat[offset:offset + numel].view(size))
        else:
            out.append(flat.as_strided(size, stride, offset))
    return out


# How many elements a view may have per element of its storage. Views whose elements overlap
# (`base.expand(2, 3)`, `signal.unfold(0, 4, 1)`) have more elements than their storage, and
# loading one computes all of them: a bound keeps a hostile file from asking for terabytes
# from a few bytes. A view past it is saved as its own tensor (values kept, sharing not).
_OVERLAP_FACTOR, _OVERLAP_SLACK = 16, 1 << 16


def _layout_ok(size: tuple, stride: tuple, offset: int, storage_numel: int) -> bool:
    """In bounds, not empty, and (when its elements overlap, as an expanded or unfolded view's
    do) not more than `_OVERLAP_FACTOR` times its storage's elements, plus some slack."""
    numel = math.prod(size)
    if numel == 0 or offset >= storage_numel \
            or numel > _OVERLAP_FACTOR * storage_numel + _OVERLAP_SLACK:
        return False
    return offset + sum((n - 1) * s for n, s in zip(size, stride)) < storage_numel


def _gather(flat: np.ndarray, offset: int, size: tuple, stride: tuple) -> np.ndarray:
    byte_strides = [s * flat.itemsize if n > 1 else 0 for n, s in zip(size, stride)]
    return np.lib.stride_tricks.as_strided(flat[offset:], size, byte_strides)


def plan(tensors: dict[str, Any], to_numpy: Callable[[Any], np.ndarray]
         ) -> tuple[dict[str, np.ndarray], dict[str, list]]:
    """The arrays graphnet.save writes for ``tensors`` (name -> tensor) and the views metadata:
    tensors sharing a storage owner become views of one flat array of the owner's values."""
    from graphnet import _overlap

    groups: dict[int, tuple[Any, list[str]]] = {}
    for name, t in tensors.items():
        if not t.requires_grad:
            owner = _overlap.owner(t)
            groups.setdefault(id(owner), (owner, []))[1].append(name)
    arrays = {name: np.asarray(to_numpy(t)) for name, t in tensors.items()}
    views: dict[str, list] = {}
    for owner, names in groups.values():
        if len(names) < 2:
            continue
        flat = np.asarray(to_numpy(owner)).reshape(-1)
        members = []
        for name in names:
            strides, offset = _overlap._layout(tensors[name])
            size, array = tuple(arrays[name].shape), arrays[name]
            # NOTE: shared only where the values say so: a view whose owner later took other
            # storage (`owner.data = ...`) is saved as its own tensor, never with wrong values
            if array.dtype == flat.dtype and len(strides) == len(size) \
                    and _layout_ok(size, strides, offset, flat.size) \
                    and _gather(flat, offset, size, strides).tobytes() == array.tobytes():
                members.append((name, [offset, list(size), list(strides)]))
        if len(members) < 2:
            continue
        storage = _fresh(f"{members[0][0]}#storage", arrays)
        arrays[storage] = flat
        for name, place in members:
            del arrays[name]
            views[name] = [storage, *place]
    return arrays, views


def _fresh(base: str, taken: dict) -> str:
    name, n = base, 1
    while name in taken or name == "__metadata__":
        name, n = f"{base}{n}", n + 1
    return name


def _is_count(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def parse_views(text: str, shapes: dict[str, tuple], where: str) -> dict[str, tuple]:
    """The ``views`` metadata of a version-2 file: view name -> (storage, offset, size, stride),
    each checked to lie inside its 1-D storage entry (``shapes``: entry name -> shape)."""
    try:
        views = json.loads(text)
    except (ValueError, RecursionError):
        views = None
    if not isinstance(views, dict):
        raise checkpoint_error(where, "its views metadata is not a JSON object", _DAMAGED)
    out = {}
    for name, spec in views.items():
        def bad(what: str) -> Exception:
            return checkpoint_error(where, f"view {name[:80]!r} {what}", _DAMAGED)

        if name in shapes:
            raise bad("is also a tensor of the file")
        if not (isinstance(spec, list) and len(spec) == 4):
            raise bad("is not [storage, offset, size, stride]")
        storage, offset, size, stride = spec
        if not (isinstance(storage, str) and storage in shapes and len(shapes[storage]) == 1
                and storage not in views):
            raise bad(f"refers to {str(storage)[:80]!r}, which is not a 1-D tensor of the file")
        if not (_is_count(offset) and isinstance(size, list) and isinstance(stride, list)
                and len(size) == len(stride) <= 64
                and all(_is_count(v) for v in size + stride)):
            raise bad("has an offset, size or stride that is not made of non-negative ints")
        if not _layout_ok(tuple(size), tuple(stride), offset, shapes[storage][0]):
            raise bad(f"(offset {offset}, size {size[:8]}, stride {stride[:8]}) does not lie "
                      f"inside its storage of {shapes[storage][0]} elements, or repeats them "
                      f"more than {_OVERLAP_FACTOR} times")
        out[name] = (storage, offset, tuple(size), tuple(stride))
    return out
