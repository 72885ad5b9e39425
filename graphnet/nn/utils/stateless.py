"""`functional_call`: run a module with some of its parameters and buffers replaced by given
tensors, as `torch.nn.utils.stateless` / `torch.func` have it (meta-learning, per-sample or
ensembled weights). The module is unchanged afterwards.

The given tensors are put in the module's slots for the call only, so gradients flow to them
(they need not be leaves), eagerly and inside `graphnet.compile`.

>>> out = functional_call(model, {"fc.weight": w_fast}, (x,))
"""

from __future__ import annotations

from contextlib import contextmanager

from ..._tensor import Tensor

__all__ = ["functional_call"]


def _merge(parameters_and_buffers) -> dict:
    if isinstance(parameters_and_buffers, dict):
        return dict(parameters_and_buffers)
    merged: dict = {}
    for part in parameters_and_buffers:
        repeated = set(part) & set(merged)
        if repeated:
            raise ValueError(f"{', '.join(sorted(repeated))} appeared in multiple dictionaries; "
                             f"behavior of functional call is ambiguous")
        merged.update(part)
    return merged


def _slot(module, name: str):
    """(owning module, registry dict or None, attribute name) for a dotted tensor name."""
    path, _, attr = name.rpartition(".")
    owner = module.get_submodule(path) if path else module
    for registry in (owner._parameters, owner._buffers):
        if attr in registry:
            return owner, registry, attr
    return owner, None, attr


def _tied_names(module) -> dict:
    """Every name of a tensor registered under several names -> all of its names."""
    names: dict = {}
    for prefix, sub in module.named_modules(remove_duplicate=False):
        for registry in (sub._parameters, sub._buffers):
            for attr, tensor in registry.items():
                if tensor is not None:
                    full = f"{prefix}.{attr}" if prefix else attr
                    names.setdefault(id(tensor), []).append(full)
    return {n: group for group in names.values() if len(group) > 1 for n in group}


@contextmanager
def _swapped(module, tensors: dict):
    saved = []
    try:
        for name, value in tensors.items():
            owner, registry, attr = _slot(module, name)
            if registry is not None:
                saved.append((registry, attr, registry[attr]))
                registry[attr] = value
            else:
                saved.append((owner.__dict__, attr, owner.__dict__.get(attr, _MISSING)))
                owner.__dict__[attr] = value
        yield
    finally:
        for table, attr, old in reversed(saved):
            if old is _MISSING:
                table.pop(attr, None)
            else:
                table[attr] = old


_MISSING = object()


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """`module(*args, **kwargs)` with the named parameters/buffers replaced for this call.
    `tie_weights`: a tensor shared under several names is replaced under all of them.
    `strict`: every parameter and buffer must be given, and nothing else."""
    tensors = _merge(parameters_and_buffers)
    if tie_weights:
        tied = _tied_names(module)
        for name in list(tensors):
            for other in tied.get(name, ()):
                if other in tensors and tensors[other] is not tensors[name]:
                    raise ValueError(f"functional_call got multiple values for keys "
                                     f"['{name}', '{other}'], which are tied. Consider using "
                                     f"tie_weights=False")
                tensors.setdefault(other, tensors[name])
    if strict:
        expected = [n for n, _ in module.named_parameters(remove_duplicate=not tie_weights)]
        expected += [n for n, _ in module.named_buffers(remove_duplicate=not tie_weights)]
        missing = [n for n in expected if n not in tensors]
        unexpected = [n for n in tensors if n not in expected]
        if missing or unexpected:
            errors = []
            if unexpected:
                errors.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected)
                              + ".")
            if missing:
                errors.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               + "\n\t".join(errors))
    for name, value in tensors.items():
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"functional_call expects tensors, got {type(value).__name__} for "
                            f"'{name}'")
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, tensors):
        return module(*args, **(kwargs or {}))
