"""`torch.nn.utils.prune`: pruning a module's tensor by a mask, as PyTorch does it.

Pruning `module.weight` moves the parameter to `weight_orig`, adds the buffer `weight_mask`
and makes `weight` a plain attribute that a forward pre-hook recomputes as
`weight_mask * weight_orig` before every call (so a compiled training step recomputes it too,
and the gradient reaches `weight_orig` through the mask). Pruning the same tensor again
combines the masks in a `PruningContainer`; `remove` makes the pruned values permanent.

Masks are computed eagerly, when a method is applied: the deterministic methods (L1, Ln,
custom, global L1) give PyTorch's masks; the random ones draw from graphnet's generator.

>>> layer = prune.l1_unstructured(nn.Linear(4, 3), "weight", amount=0.5)
>>> sorted(name for name, _ in layer.named_buffers())
['weight_mask']
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

from ... import _factories as fac
from ... import _math as M
from ..._errors import TraceError
from ..._mode import tracing
from ..._tensor import Tensor
from .._module import Module
from ._norms import set_computed
from .convert_parameters import parameters_to_vector

__all__ = ["BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured", "LnStructured",
           "PruningContainer", "RandomStructured", "RandomUnstructured", "custom_from_mask",
           "global_unstructured", "identity", "is_pruned", "l1_unstructured", "ln_structured",
           "random_structured", "random_unstructured", "remove"]


class BasePruningMethod(ABC):
    """A pruning method: `compute_mask` says which entries to keep; as a forward pre-hook it
    sets `module.<name>` to `<name>_mask * <name>_orig`."""

    _tensor_name: str

    def __call__(self, module: Module, inputs) -> None:
        set_computed(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The new mask for `t`, given the mask already applied (`default_mask`)."""

    def apply_mask(self, module: Module) -> Tensor:
        """The pruned tensor: the original parameter times the mask."""
        assert self._tensor_name is not None, f"Module {module} has to be pruned"
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module: Module, name: str, *args, importance_scores=None, **kwargs):
        """Prune `module.<name>` with `cls(*args, **kwargs)`, combined with an earlier pruning
        of the same tensor into a PruningContainer."""
        old, old_keys = None, []
        for key, hook in module._forward_pre_hooks.items():
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                old = hook
                old_keys.append(key)
        assert len(old_keys) <= 1, f"Avoid adding multiple pruning hooks to the same tensor " \
            f"{name} of module {module}. Use a PruningContainer."
        for key in old_keys:
            del module._forward_pre_hooks[key]
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if isinstance(old, PruningContainer):
            old.add_pruning_method(method)
            method = old
        elif old is not None:
            container = PruningContainer(old)
            container.add_pruning_method(method)
            method = container
        orig = getattr(module, name)
        if importance_scores is not None:
            assert importance_scores.shape == orig.shape, \
                f"importance_scores should have the same shape as parameter {name} of {module}"
        else:
            importance_scores = orig
        if not isinstance(method, PruningContainer):
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = fac.ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            mask = method.compute_mask(importance_scores.detach(), default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if not isinstance(method, PruningContainer):
                orig = getattr(module, name + "_orig")
                module.register_parameter(name, orig)
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t: Tensor, default_mask=None, importance_scores=None) -> Tensor:
        """`t` times the mask this method computes for it (or for `importance_scores`)."""
        scores = importance_scores if importance_scores is not None else t
        if importance_scores is not None:
            assert importance_scores.shape == t.shape, \
                "importance_scores should have the same shape as tensor t"
        mask = default_mask if default_mask is not None else fac.ones_like(t)
        return t * self.compute_mask(scores, default_mask=mask)

    def remove(self, module: Module) -> None:
        """Make the pruning permanent: `<name>` becomes the parameter `<name>_orig` (the same
        object) holding the pruned values; the mask and the reparametrization go."""
        assert self._tensor_name is not None, f"Module {module} has to be pruned before " \
            f"pruning can be removed"
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = weight.data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


class PruningContainer(BasePruningMethod):
    """The pruning methods applied one after another to the same tensor; each new one prunes
    only what the earlier ones kept."""

    def __init__(self, *args) -> None:
        self._pruning_methods: tuple = ()
        if len(args) == 1 and not isinstance(args[0], Iterable):
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        elif len(args) == 1:
            self._tensor_name = args[0][0]._tensor_name
            for method in args[0]:
                self.add_pruning_method(method)
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method) -> None:
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The last method's mask, computed on the part of `t` the earlier ones kept."""
        method = self._pruning_methods[-1]
        kind = method.PRUNING_TYPE
        if kind == "unstructured":
            where = (default_mask == 1,)
        elif kind == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to '
                                     'have the attribute `dim` defined.')
            dim = method.dim + t.dim() if method.dim < 0 else method.dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {t.dim()}")
            others = [d for d in range(t.dim()) if d != dim]
            keep = M.sum(default_mask, others) != 0 if others else default_mask != 0
            where = (slice(None),) * dim + (keep,)
        elif kind == "global":
            where = (slice(None),) * t.dim()
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")
        if kind != "global" and tracing():
            raise TraceError(
                f"pruning '{type(method).__name__}' again where a parameter is already pruned "
                f"chooses among the entries still kept, a number the compiled program cannot "
                f"know when traced (PyTorch indexes them with the mask, a data-dependent "
                f"shape). Prune between compiled calls instead of inside the compiled "
                f"function, or run this code dynamically.")
        new_mask = default_mask.to(dtype=t.dtype).clone()
        part = method.compute_mask(t[where], default_mask=default_mask[where])
        new_mask[where] = part.to(dtype=new_mask.dtype)
        return new_mask


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


def _check_amount(amount) -> None:
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         f"non-negative integer")


def _count(amount, size: int) -> int:
    """How many of `size` entries (or channels) to prune: `amount` itself, or its fraction
    rounded as Python rounds (half to even), as PyTorch does."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters "
                             f"to prune={size}")
        return int(amount)
    return round(amount * size)


def _zeroed(mask: Tensor, flat_indices: Tensor) -> Tensor:
    flat = mask.reshape(-1).clone()
    flat[flat_indices] = 0
    return flat.reshape(tuple(mask.shape))


def _check_structured(t: Tensor) -> None:
    if t.dim() <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {t.shape} with {t.dim()} dims")


def _channels(t: Tensor, dim: int, keep: Tensor) -> Tensor:
    """A mask of `t`'s shape: ones on the channels `keep` (indices or booleans) along dim."""
    mask = fac.zeros_like(t)
    mask[(slice(None),) * (dim % t.dim()) + (keep,)] = 1
    return mask


from ._prune_methods import (  # noqa: E402  (the concrete methods use the base above)
    CustomFromMask, L1Unstructured, LnStructured, RandomStructured, RandomUnstructured,
)

for _method in (CustomFromMask, L1Unstructured, LnStructured, RandomStructured,
                RandomUnstructured):
    _method.__module__ = __name__   # shown as nn.utils.prune's, where PyTorch has them


def identity(module: Module, name: str) -> Module:
    """Reparametrize `module.<name>` as pruned with an all-ones mask."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount) -> Module:
    """Prune `amount` (a count, or a fraction) of `module.<name>`'s entries at random."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Module, name: str, amount, importance_scores=None) -> Module:
    """Prune the `amount` entries of `module.<name>` smallest in absolute value."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount, dim: int) -> Module:
    """Prune `amount` channels along `dim` of `module.<name>` at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Module, name: str, amount, n, dim: int,
                  importance_scores=None) -> Module:
    """Prune the `amount` channels along `dim` with the smallest L`n` norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs) -> None:
    """Prune the (module, name) pairs in `parameters` together: the mask is computed once
    over all their entries (e.g. the smallest 20% of all weights, wherever they are)."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = parameters_to_vector([importance_scores.get((m, n), getattr(m, n)).detach()
                                   for m, n in parameters])
    default_mask = parameters_to_vector([
        getattr(m, n + "_mask", None) if hasattr(m, n + "_mask") else
        fac.ones_like(getattr(m, n)) for m, n in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f'Found method {pruning_method} of type {method.PRUNING_TYPE}')
    container.add_pruning_method(method)
    final_mask = container.compute_mask(scores, default_mask)
    start = 0
    for module, name in parameters:
        param = getattr(module, name)
        custom_from_mask(module, name, mask=final_mask[start:start + param.numel()]
                         .reshape(tuple(param.shape)))
        start += param.numel()


def custom_from_mask(module: Module, name: str, mask: Tensor) -> Module:
    """Prune `module.<name>` by the given `mask` (combined with any earlier one)."""
    CustomFromMask.apply(module, name, mask=mask)
    return module


def remove(module: Module, name: str) -> Module:
    """Make the pruning of `module.<name>` permanent and drop its reparametrization."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     f"can be removed")


def is_pruned(module: Module) -> bool:
    """Whether any submodule of `module` has a pruning hook."""
    return any(isinstance(hook, BasePruningMethod) for _, sub in module.named_modules()
               for hook in sub._forward_pre_hooks.values())
