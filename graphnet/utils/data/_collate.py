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
    return fac.tensor(np.stack(batch))  # one host-to-device copy, dtype kept


def _collate_numpy_scalars(batch):
    return fac.tensor(np.array(batch))


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
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        if isinstance(elem, abc.MutableMapping):  # keeps OrderedDict, defaultdict ...
            clone = copy.copy(elem)
            clone.update(collated)
            return clone
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch, strict=True)))
    if isinstance(elem, abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(field) for field in zip(*batch, strict=True)]
        if isinstance(elem, (tuple, list)):
            return fields  # PyTorch returns a list for tuple samples too
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
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
        converted = {key: default_convert(value) for key, value in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data
