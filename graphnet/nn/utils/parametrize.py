"""`graphnet.nn.utils.parametrize`: a tensor of a module computed from other tensors, as
PyTorch has it.

`register_parametrization(module, "weight", P())` moves the parameter to
`module.parametrizations.weight.original` and makes `module.weight` a property that returns
`P()(original)` each time it is read. As in PyTorch, the module's class is swapped for a
subclass `Parametrized<Class>` holding that property, and `state_dict` keys become
`parametrizations.weight.original` (`original0`, `original1` ... when `right_inverse`
returns several tensors).

Because the weight is recomputed on every read from the lifted `original`, a compiled
training step traces the parametrization and recomputes it on every call, and gradients
reach `original` in both modes.

>>> class Symmetric(nn.Module):
...     def forward(self, X): return X.triu() + X.triu(1).transpose(-1, -2)
>>> register_parametrization(layer, "weight", Symmetric())
"""

from __future__ import annotations

import copy
import copyreg
from collections.abc import Sequence
from contextlib import contextmanager

from ... import _mode
from ..._autograd import no_grad
from ..._tensor import Parameter, Tensor
from .._containers import ModuleDict, ModuleList
from .._module import Module

__all__ = ["cached", "ParametrizationList", "register_parametrization", "is_parametrized",
           "remove_parametrizations", "type_before_parametrizations",
           "transfer_parametrizations_and_params"]

_cache_depth = 0
_cache: dict = {}
_blocks: list = []      # per open cached() block: the dispatch mode it was entered in


@contextmanager
def cached():
    """Inside this block each parametrized tensor is computed once, on first read, and
    reused (say, a weight read at every step of an RNN loop). Inside a compiled function's
    trace too: a parametrization with state (spectral_norm's power iteration updates `_u`
    and `_v`) must run once per block there as it does eagerly; before, every read inside
    the trace ran it again, and a compiled step that used the module twice gave other
    numbers than PyTorch, silently."""
    global _cache_depth, _cache
    _cache_depth += 1
    _blocks.append(_mode.current_mode())
    try:
        yield
    finally:
        _cache_depth -= 1
        _blocks.pop()
        if not _cache_depth:
            _cache = {}


def _depend_on_outer_blocks() -> None:
    """A trace that reads a parametrized tensor holds while no cached() block is open around
    the compiled call: one opened later makes the next call trace again, which refuses it
    (`_cached_value`). NOTE: a program compiled outside any block ran inside one as it was,
    computing the tensor afresh where PyTorch reuses the block's value, silently. The guard
    is read once the trace is over, when only blocks entered outside it are still open."""
    mode = _mode.current_mode()
    if mode is not None and _mode.tracing():
        mode.depends_on("the number of parametrize.cached() blocks open around the call",
                        lambda: _cache_depth)


def _cached_value(module, tensor_name: str, parametrization) -> Tensor:
    """The block's value of `module.<tensor_name>`: computed on first read. In a trace, only
    a block entered inside that same trace can keep it (its value is a graph value of it);
    a block around the compiled call would reuse one call's value in later calls, which a
    compiled program cannot do, so that is refused."""
    mode = _mode.current_mode() if _mode.tracing() else None
    if mode is not None and any(entered is not mode for entered in _blocks):
        from ..._errors import TraceError

        raise TraceError(
            "parametrize.cached() entered outside a graphnet.compile'd function: eagerly its "
            "parametrized tensors are computed once for the whole block, across calls, which "
            "a compiled call cannot repeat. Enter cached() inside the compiled function.")
    key = (id(module), tensor_name)
    entry = _cache.get(key)
    if entry is None or entry[0] is not mode:
        entry = _cache[key] = (mode, parametrization())
    return entry[1]


def _register_parameter_or_buffer(module: Module, name: str, value) -> None:
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _set_in_place(dest: Tensor, src: Tensor) -> None:
    """PyTorch's `dest.set_(src)`: `dest` (the same object, so optimizers keep it) now holds
    src's values, and its version moves.

    NOTE: `set_` is an in-place op: a backward that saved `dest` before it raises PyTorch's
    "modified by an inplace operation". A `.data =` swap, used here alone before,
    leaves the version and makes such a backward read the new values: with
    functional_call(weight_norm'd Linear, {"weight": W}), which assigns the originals and
    assigns them back, the backward then mixed the two and gave wrong gradients silently
    where PyTorch raises. A new shape (an `unsafe` parametrization) still swaps."""
    if tuple(dest.shape) == tuple(src.shape) and dest.dtype == src.dtype:
        with no_grad():
            dest.copy_(src.detach())
    else:
        dest.data = src.detach()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the `original` tensor(s)
    they read. `right_inverse(value)` sets the originals so that the list returns `value`."""

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = tuple(original.shape), original.dtype
        with no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError(f"When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype.\noriginal.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            with no_grad():
                _set_in_place(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, part in enumerate(new):
                if not isinstance(part, Tensor):
                    raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors (list, tuple...). Got element {i} of the "
                                     f"sequence with type {type(part).__name__}.")
                part = part.detach()
                if isinstance(original, Parameter):
                    part = Parameter(part, original.requires_grad)
                part.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", part)
        if not self.unsafe:
            z = self()
            if not isinstance(z, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got "
                                 f"{type(z).__name__}.")
            if z.dtype != dtype:
                raise ValueError(f"Registering a parametrization may not change the dtype of "
                                 f"the tensor, unless `unsafe` flag is enabled.\n"
                                 f"unparametrized dtype: {dtype}\nparametrized dtype: {z.dtype}")
            if tuple(z.shape) != shape:
                raise ValueError(f"Registering a parametrization may not change the shape of "
                                 f"the tensor, unless `unsafe` flag is enabled.\n"
                                 f"unparametrized shape: {original.shape}\n"
                                 f"parametrized shape: {z.shape}")

    def right_inverse(self, value: Tensor) -> None:
        """Set the original(s) so that this list evaluates to `value` (`module.weight = v`)."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       f"implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got "
                                     f"{type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype "
                                     f"{value.dtype} while `original` has dtype "
                                     f"{self.original.dtype}")
                _set_in_place(self.original, value)
                return
            if not isinstance(value, Sequence):
                raise ValueError(f"'right_inverse' must return a sequence of tensors. Got "
                                 f"{type(value).__name__}.")
            if len(value) != self.ntensors:
                raise ValueError(f"'right_inverse' must return a sequence of tensors of length "
                                 f"{self.ntensors}. Got a sequence of length {len(value)}.")
            for i, tensor in enumerate(value):
                original = getattr(self, f"original{i}")
                if original.dtype != tensor.dtype:
                    raise ValueError(f"Tensor {i} returned by `right_inverse` has dtype "
                                     f"{tensor.dtype} while `original{i}` has dtype "
                                     f"{original.dtype}")
                _set_in_place(original, tensor)

    def forward(self) -> Tensor:
        modules = list(self)
        if self.is_tensor:
            x = modules[0](self.original)
        else:
            x = modules[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in modules[1:]:
            x = module(x)
        return x


def _inject_new_class(module: Module) -> None:
    """Give `module` a class of its own, `Parametrized<Class>`, to hold the properties."""
    cls = module.__class__

    def getstate(self):
        raise RuntimeError("Serialization of parametrized modules is only supported through "
                           "state_dict(). See:\nhttps://pytorch.org/tutorials/beginner/"
                           "saving_loading_models.html#saving-loading-a-general-checkpoint-"
                           "for-inference-and-or-resuming-training")

    def deepcopy_dict(self, memo):
        # NOTE: copy.deepcopy falls back to __reduce_ex__, which calls the refusing
        # __getstate__ above; PyTorch's class copies the instance dict instead, so a
        # parametrized module can be deep-copied (a target network) though not pickled.
        replica = memo.get(id(self))
        if replica is not None:
            return replica
        replica = self.__new__(type(self))
        memo[id(self)] = replica
        replica.__dict__ = copy.deepcopy(self.__dict__, memo)
        for slot in copyreg._slotnames(type(self)):
            if hasattr(self, slot):
                setattr(replica, slot, copy.deepcopy(getattr(self, slot), memo))
        return replica

    namespace = {"__getstate__": getstate}
    if not hasattr(cls, "__deepcopy__"):   # a class's own deep copy is kept, as in PyTorch
        namespace["__deepcopy__"] = deepcopy_dict
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), namespace)


def _inject_property(module: Module, tensor_name: str) -> None:
    if hasattr(module, tensor_name):
        raise AssertionError(f"Module already has an attribute named '{tensor_name}'")

    def get_parametrized(self) -> Tensor:
        parametrization = self.parametrizations[tensor_name]
        _depend_on_outer_blocks()
        if not _cache_depth:
            return parametrization()
        return _cached_value(self, tensor_name, parametrization)

    def set_original(self, value: Tensor) -> None:
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def _check_stacked(module, tensor_name: str, parametrization) -> None:
    """Adding a parametrization on top of others: it must keep dtype and shape."""
    y = getattr(module, tensor_name)
    x = parametrization(y)
    if not isinstance(x, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {type(x).__name__}.")
    if x.dtype != y.dtype:
        raise ValueError(f"Registering a parametrization may not change the dtype of the "
                         f"tensor, unless the `unsafe` flag is enabled.\n"
                         f"module.{tensor_name}.dtype: {y.dtype}\n"
                         f"parametrization(module.{tensor_name}).dtype: {x.dtype}")
    if tuple(x.shape) != tuple(y.shape):
        raise ValueError(f"Registering a parametrization may not change the shape of the "
                         f"tensor, unless the `unsafe` flag is enabled.\n"
                         f"module.{tensor_name}.shape: {y.shape}\n"
                         f"parametrization(module.{tensor_name}).shape: {x.shape}")


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make `module.<tensor_name>` the output of `parametrization` applied to the stored
    original (see the module docstring). A second registration on the same name stacks."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            _check_stacked(module, tensor_name, parametrization)
        module.parametrizations[tensor_name].append(parametrization)
        module.parametrizations[tensor_name].unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether `module` has a parametrization (on `tensor_name`, when given)."""
    parametrizations = getattr(module, "parametrizations", None)
    if not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo `register_parametrization` on `tensor_name`. With `leave_parametrized` the tensor
    keeps its current (parametrized) value, otherwise it gets the original back."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
                _set_in_place(original, value)
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                             "that is parametrized in terms of a sequence of tensors.")
        value = getattr(module, tensor_name)
        original = Parameter(value.detach()) if value.requires_grad else value.detach()
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class before any parametrization was registered."""
    return module.__class__.__bases__[0] if is_parametrized(module) else type(module)


def transfer_parametrizations_and_params(from_module: Module, to_module: Module,
                                         tensor_name: str | None = None) -> Module:
    """Register `from_module`'s parametrizations (all, or `tensor_name`'s) on `to_module`,
    sharing the original tensors."""
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name).detach()))
        source = from_module.parametrizations[name]
        for parametrization in source:
            register_parametrization(to_module, name, parametrization)
        target = to_module.parametrizations[name]
        if hasattr(source, "original"):
            target.original = source.original
        else:
            for i in range(source.ntensors):
                setattr(target, f"original{i}", getattr(source, f"original{i}"))
    return to_module
