"""`default_collate`: turn a list of samples into one batch, the way PyTorch does.

Tensors and NumPy arrays are stacked along a new first dimension; Python floats become a
float64 tensor, ints an int64 tensor, bools a bool tensor; strings stay a list; dicts,
tuples, lists and namedtuples are collated field by field (a tuple sample gives a list)."""

from __future__ import annotations

import collections.abc as abc
import copy

import numpy as np

from ... import _dtype as dt
from ... import _factories as fac
from ... import _math as M
from ..._tensor import Tensor


def _collate_tensors(batch):
    for i, t in enumerate(batch):
        if not isinstance(t, Tensor):   # NOTE: [tensor(1.), 2] raised AttributeError on .shape
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    shape = batch[0].shape
    for i, t in enumerate(batch):
        if t.shape != shape:
            raise RuntimeError(f"default_collate: sample 0 has shape {list(shape)} but sample "
                               f"{i} has shape {list(t.shape)}; stacking needs equal shapes. "
                               f"Pad the samples or pass DataLoader(collate_fn=...)")
    return M.stack(list(batch), 0)


def _collate_arrays(batch):
    if batch[0].dtype.kind in "OSUV":
        raise TypeError(f"default_collate: numpy arrays of dtype {batch[0].dtype} can't become "
                        f"tensors; convert them to numbers first or pass collate_fn=...")
    shapes = {a.shape for a in batch}
    if len(shapes) != 1:
        raise RuntimeError(f"default_collate: numpy samples have different shapes "
                           f"{sorted(shapes)}; stacking needs equal shapes")
    if len({a.dtype for a in batch}) > 1:   # PyTorch's promotion, not NumPy's (int64 with
        return M.stack([fac.tensor(a) for a in batch], 0)   # float32 is float32)
    return fac.tensor(np.stack(batch))  # one host-to-device copy, dtype kept


def _collate_numpy_scalars(batch):
    return fac.tensor(list(batch))   # each number's own dtype, promoted as PyTorch does


def _collate_floats(batch):
    return fac.tensor(list(batch), dtype=dt.float64)


def _collate_ints(batch):  # bools are ints in Python; np.asarray keeps them bool
    return fac.tensor(list(batch))


def _collate_strings(batch):
    return batch


# NOTE: first match wins, so subclasses (bool of int) rely on the target function agreeing.
_LEAF_RULES = [
    (Tensor, _collate_tensors),
    (np.ndarray, _collate_arrays),
    ((str, bytes), _collate_strings),
    (np.generic, _collate_numpy_scalars),
    (float, _collate_floats),
    (int, _collate_ints),
]


# NOTE: a container sample keeps its type, as in PyTorch: a mutable one is copied and its
# items replaced (a defaultdict keeps its default, a list subclass its class), another is
# rebuilt from the items; a type that allows neither gives a plain dict or list. The batch of
# `[MyList([1]), MyList([2])]` was a plain list, `default_convert(defaultdict)` a plain dict.
def _same_mapping(elem, items: dict):
    try:
        if isinstance(elem, abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(items)
            return clone
        return type(elem)(items)
    except TypeError:
        return items


def _same_sequence(elem, items: list):
    try:
        if isinstance(elem, abc.MutableSequence):
            clone = copy.copy(elem)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(elem)(items)
    except TypeError:
        return items


def default_collate(batch):
    """Collate a list of samples into a batch.

    >>> default_collate([(graphnet.ones(2), 0), (graphnet.zeros(2), 1)])
    [tensor([[1., 1.],
            [0., 0.]]), tensor([0, 1])]
    """
    elem = batch[0]
    for kind, rule in _LEAF_RULES:
        if isinstance(elem, kind):
            return rule(batch)
    if isinstance(elem, abc.Mapping):
        return _same_mapping(elem, {key: default_collate([sample[key] for sample in batch])
                                    for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch, strict=True)))
    if isinstance(elem, abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(field) for field in zip(*batch, strict=True)]
        if isinstance(elem, tuple):
            return fields  # PyTorch returns a list for tuple samples too
        return _same_sequence(elem, fields)
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}. Pass "
                    f"DataLoader(collate_fn=...) to batch other types")


def default_convert(data):
    """What a DataLoader with `batch_size=None` applies to each sample: NumPy arrays and
    scalars become tensors, containers are converted element by element."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSUV":
        return fac.tensor(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return fac.tensor(np.asarray(data))
    if isinstance(data, abc.Mapping):
        return _same_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_sequence(data, [default_convert(d) for d in data])
    return data
