"""``map_location`` for graphnet.load, with torch.load's rules.

Every storage in a file has a location tag: torch.save records where each storage was
(``'cpu'``, ``'cuda:0'`` ...); graphnet.save's tensors are host copies, tagged ``'cpu'``.
``map_location`` turns a tag into the device the storage's tensors load onto, as torch does:

- None: the tag itself; a ``'cuda...'`` tag needs a GPU, as in torch;
- a device or a device name: that device, whatever the tag;
- a dict: ``map_location.get(tag, tag)`` (values are location strings, as in torch);
- a function ``fn(storage, tag)``: called once per storage with a host storage (LoadedStorage)
  and the tag; it returns a storage (``storage``, ``storage.cpu()``, ``storage.cuda(1)``),
  whose device is where the tensors go, or None for the tag's own device.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_CUDA_TAG = re.compile(r"cuda(?::([0-9]+))?")
_CPU_ONLY_FIX = ("If you are running on a CPU-only machine, please use graphnet.load with "
                 "map_location=graphnet.device('cpu') to map your storages to the CPU.")


class LoadedStorage:
    """What a ``map_location`` function receives: a storage's size and device (the host), and
    torch's ways to move it (``cpu()``, ``cuda(i)``, ``to(device=...)``). Its tensors are built
    on the device of the storage the function returns."""

    __slots__ = ("_nbytes", "device")

    def __init__(self, nbytes: int, device: Any) -> None:
        self._nbytes, self.device = nbytes, device

    def nbytes(self) -> int:
        return self._nbytes

    def size(self) -> int:
        return self._nbytes

    def __len__(self) -> int:
        return self._nbytes

    def element_size(self) -> int:
        return 1

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def to(self, *, device: Any, non_blocking: bool = False) -> LoadedStorage:
        from graphnet import _device

        where = _device.device(device)
        _device.jax_device(where)   # a RuntimeError naming what this machine has, as Tensor.to
        return LoadedStorage(self._nbytes, where)

    def cpu(self) -> LoadedStorage:
        return self.to(device="cpu")

    def cuda(self, device: Any = None, non_blocking: bool = False) -> LoadedStorage:
        from graphnet import _device

        if device is None:
            where = _device.device("cuda")
        elif isinstance(device, int) and not isinstance(device, bool):
            where = _device.device("cuda", device)
        else:
            where = _device.device(device)
        return self.to(device=where)

    def __repr__(self) -> str:
        return f"LoadedStorage(nbytes={self._nbytes}, device='{self.device}')"


def default_restore(location: str) -> Any:
    """The device a location tag names, refused as torch.load refuses it when that device is
    missing (RuntimeError)."""
    import graphnet
    from graphnet import _device

    if location == "cpu":
        return _device.device("cpu")
    match = _CUDA_TAG.fullmatch(location)
    if match:
        count = graphnet.cuda.device_count()
        if count == 0:
            raise RuntimeError("Attempting to deserialize object on a CUDA device but "
                               "graphnet.cuda.is_available() is False. " + _CPU_ONLY_FIX)
        index = int(match.group(1) or 0)
        if index >= count:
            raise RuntimeError(f"Attempting to deserialize object on CUDA device {index} but "
                               f"graphnet.cuda.device_count() is {count}. Please use "
                               f"graphnet.load with map_location to map your storages to an "
                               f"existing device.")
        return _device.device("cuda", index)
    if location == "meta":
        raise RuntimeError("graphnet.load cannot restore storages on the 'meta' device: graphnet "
                           "has no meta device (JAX arrays always hold data); load with "
                           "map_location='cpu' instead")
    raise RuntimeError(f"don't know how to restore data location of a storage (tagged with "
                       f"{location[:80]})")


Restore = Callable[[int, str], Any]


def restorer(map_location: Any) -> Restore:
    """``restore(nbytes, tag)``: the device for one storage, or None to leave its tensors
    where graphnet puts new tensors (no map_location, a host tag: what load always did)."""
    from graphnet import _device

    if map_location is None:
        def restore(nbytes: int, location: str) -> Any:
            where = default_restore(location)
            return None if where.type == "cpu" else where
    elif isinstance(map_location, dict):
        def restore(nbytes: int, location: str) -> Any:
            target = map_location.get(location, location)
            if not isinstance(target, str):
                raise TypeError(f"graphnet.load: map_location maps {location!r} to "
                                f"{type(target).__name__} {target!r}; the values of a "
                                f"map_location dict are location strings such as 'cpu' or "
                                f"'cuda:0', as in torch.load")
            return default_restore(target)
    elif isinstance(map_location, (str, _device.device)) or _is_torch_device(map_location):
        where = _device.device(str(map_location))

        def restore(nbytes: int, location: str) -> Any:
            return default_restore(str(where))
    elif callable(map_location):
        def restore(nbytes: int, location: str) -> Any:
            result = map_location(LoadedStorage(nbytes, _device.device("cpu")), location)
            if result is None:
                return default_restore(location)
            if not isinstance(result, LoadedStorage):
                raise TypeError(f"graphnet.load: map_location returned {type(result).__name__}, "
                                f"not a storage; a map_location function returns the storage "
                                f"it was given (moved with .cpu() or .cuda()) or None")
            return result.device
    else:
        raise TypeError(f"graphnet.load: map_location must be a device, a device name such as "
                        f"'cpu', a dict of location strings or a function (storage, location), "
                        f"not {type(map_location).__name__}")
    return restore


def _is_torch_device(x: Any) -> bool:
    """A torch.device, told by name so that graphnet never imports torch."""
    return type(x).__module__ == "torch" and type(x).__name__ == "device"
