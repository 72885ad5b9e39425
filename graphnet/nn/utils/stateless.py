"""`functional_call`: run a module with some of its parameters and buffers replaced by given
tensors, as `torch.nn.utils.stateless` / `torch.func` have it (meta-learning, per-sample or
ensembled weights). The module is unchanged afterwards.

The given tensors are put in the module's slots for the call only, so gradients flow to them
(they need not be leaves), eagerly and inside `graphnet.compile`.

A name that is not a slot (a parametrized `weight`, a plain tensor attribute) is read and
assigned as an attribute, as PyTorch does: for a parametrized tensor the assignment goes
through `right_inverse`, so the call computes with `forward(right_inverse(value))` (the value
itself for weight_norm) and the module's originals are set back the same way afterwards. To
feed the parametrization, give `parametrizations.weight.original` instead.

>>> out = functional_call(model, {"fc.weight": w_fast}, (x,))
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager

from ..._mode import current_mode
from ..._tensor import Tensor

__all__ = ["functional_call"]

_MISSING = object()


def _merge(parameters_and_buffers) -> dict:
    """The one dict of the call. A dict given is used as it is (not copied): PyTorch writes
    the module's values after the call back into it."""
    if isinstance(parameters_and_buffers, dict):
        return parameters_and_buffers
    if not isinstance(parameters_and_buffers, Sequence):
        raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(parameters_and_buffers)}")
    if not all(isinstance(part, dict) for part in parameters_and_buffers):
        raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
    counts: dict = {}
    for part in parameters_and_buffers:
        for key in part:
            counts[key] = counts.get(key, 0) + 1
    repeated = [key for key, n in counts.items() if n > 1]
    if repeated:
        raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional "
                         f"call is ambiguous")
    return {key: value for part in parameters_and_buffers for key, value in part.items()}


def _named_tensors(module) -> list:
    """Every (name, tensor) of the module's parameters then buffers, shared ones under each
    of their names (PyTorch's `remove_duplicate=False`)."""
    return list(module.named_parameters(remove_duplicate=False)) \
        + list(module.named_buffers(remove_duplicate=False))


def _untied(module, tensors: dict) -> dict:
    """`tensors` plus, for each given name of a tensor the module shares under several names,
    the same value under its other names."""
    groups: dict = {}
    for name, tensor in _named_tensors(module):
        groups.setdefault(id(tensor), set()).add(name)
    tied = {name: group for group in groups.values() if len(group) > 1 for name in group}
    given = [name for name in tensors if name in tied]
    for name in given:
        values = {id(tensors[other]) for other in tied[name] if other in tensors}
        if len(values) > 1:
            raise ValueError(f"functional_call got multiple values for keys "
                             f"{sorted(tied[name])}, which are tied. Consider using "
                             f"tie_weights=False")
    untied = dict(tensors)
    for name in given:
        for other in tied[name]:
            untied[other] = tensors[name]
    return untied


def _check_strict(module, tensors: dict) -> None:
    valid = {name for name, _ in _named_tensors(module)}
    missing, unexpected = sorted(valid - set(tensors)), sorted(set(tensors) - valid)
    errors = []
    if unexpected:
        errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if errors:
        raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                           + "\n\t".join(errors))


def _owner(module, path: str):
    owner = module
    for attr in path.split(".") if path else ():
        try:
            child = getattr(owner, attr)
        except AttributeError as error:
            raise AttributeError(f"{type(owner).__name__} has no attribute `{attr}`") from error
        if not hasattr(child, "_parameters"):
            raise TypeError(f"submodule `{path}`: {child} is not an instance of "
                            f"graphnet.nn.Module")
        owner = child
    return owner


def _swap(module, name: str, value):
    """Put `value` (or nothing, for `_MISSING`) under `name`; return what was there.

    NOTE: a name outside the parameter and buffer slots is read and assigned as an attribute,
    as PyTorch's `swap_tensor` does. A parametrized `weight` is a property: reading it runs
    the parametrization (spectral_norm's power iteration moves `_u` and `_v`) and assigning
    it runs `right_inverse`. Writing it into the instance dict instead, as this did before,
    was shadowed by the property, and functional_call(m, {"weight": W}) on a
    weight_norm'd Linear silently computed with the module's own weight."""
    path, _, attr = name.rpartition(".")
    owner = _owner(module, path)
    if value is not _MISSING and value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{value} is not an instance of torch.Tensor")
    mode = current_mode()
    if mode is not None:   # a trace that fails puts back the registries as they are now
        mode.before_registry_change(owner)
    for registry in (owner._parameters, owner._buffers):
        if attr in registry:
            old = registry[attr]
            if value is _MISSING:
                del registry[attr]
            else:
                registry[attr] = value
            return old
    old = getattr(owner, attr) if hasattr(owner, attr) else _MISSING
    if old is not _MISSING and old is not None and not isinstance(old, Tensor):
        raise TypeError(f"attribute `{attr}`: {old} is not an instance of torch.Tensor")
    if value is not _MISSING:
        setattr(owner, attr, value)
    elif hasattr(owner, attr):
        delattr(owner, attr)
    return old


def _swap_all(module, tensors: dict) -> dict:
    """Swap every entry in; on an error, swap back the ones already in and re-raise."""
    previous: dict = {}
    try:
        for name, value in tensors.items():
            previous[name] = _swap(module, name, value)
    except Exception:
        for name, old in previous.items():
            _swap(module, name, old)
        raise
    return previous


@contextmanager
def _swapped(module, tensors: dict, given: dict):
    """The module holds `tensors` inside the block; afterwards its own tensors are back and
    `given` holds what the module held at the end (a forward that reassigned a buffer,
    `self.foo = self.foo + 1`, leaves its new value there, as in PyTorch)."""
    previous: dict = {}
    try:
        previous = _swap_all(module, tensors)
        yield
    finally:
        final = _swap_all(module, previous)
        given.update({key: final[key] for key in given if key in final})


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """`module(*args, **kwargs)` with the named parameters/buffers replaced for this call.
    `tie_weights`: a tensor shared under several names is replaced under all of them.
    `strict`: every parameter and buffer must be given, and nothing else."""
    given = _merge(parameters_and_buffers)
    tensors = _untied(module, given) if tie_weights else given
    if strict:
        _check_strict(module, tensors)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, tensors, given):
        return module(*args, **(kwargs or {}))
