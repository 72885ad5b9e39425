"""`state_dict()` and `load_state_dict()` for modules, by PyTorch's protocol: each module
saves and loads its own entries (`_save_to_state_dict`, `_load_from_state_dict`, which a
subclass may override), then its children's; `get_extra_state` / `set_extra_state` add one
`_extra_state` entry of any value; the state-dict hooks run around both."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from .._aliases import store
from .._mode import current_mode
from .._tensor import Tensor

EXTRA_STATE = "_extra_state"


def _overrides(module, name: str) -> bool:
    from ._module import Module

    return getattr(type(module), name) is not getattr(Module, name)


def state_dict(module, destination=None, prefix: str = "", keep_vars: bool = False):
    """Parameters, persistent buffers and extra state by dotted name, in registration
    order."""
    if destination is None:
        destination = OrderedDict()
        destination._metadata = OrderedDict()
    local_metadata = {"version": module._version}
    if hasattr(destination, "_metadata"):
        destination._metadata[prefix[:-1]] = local_metadata
    for hook in list(module._state_dict_pre_hooks.values()):
        hook(module, prefix, keep_vars)
    module._save_to_state_dict(destination, prefix, keep_vars)
    for name, child in module._modules.items():
        if child is not None:
            child.state_dict(destination=destination, prefix=prefix + name + ".",
                             keep_vars=keep_vars)
    for hook in list(module._state_dict_hooks.values()):
        result = hook(module, destination, prefix, local_metadata)
        if getattr(hook, "_from_public_api", False):
            if result is not None:
                raise RuntimeError("state_dict post-hook must return None")
        elif result is not None:
            destination = result
    return destination


def save_own(module, destination, prefix: str, keep_vars: bool) -> None:
    """Module._save_to_state_dict: this module's own entries, not its children's."""
    for name, value in _own_tensors(module):
        destination[prefix + name] = value if keep_vars else value.detach()
    if _overrides(module, "get_extra_state"):
        destination[prefix + EXTRA_STATE] = module.get_extra_state()


def _own_tensors(module):
    for name, p in module._parameters.items():
        if p is not None:
            yield name, p
    for name, b in module._buffers.items():
        if b is not None and name not in module._non_persistent_buffers_set:
            yield name, b


def load_own(module, state, prefix: str, local_metadata: dict, strict: bool, missing: list,
             unexpected: list, errors: list) -> None:
    """Module._load_from_state_dict: copy this module's own entries from `state` (a flat
    dict holding at least them), noting missing and unexpected keys and errors."""
    from .. import no_grad

    for hook in list(module._load_state_dict_pre_hooks.values()):
        hook(state, prefix, local_metadata, strict, missing, unexpected, errors)
    own = dict(_own_tensors(module))
    assign = bool(local_metadata.get("assign_to_params_buffers", False))
    for name, target in own.items():
        key = prefix + name
        if key not in state:
            if strict:
                missing.append(key)
            continue
        source = state[key]
        if not isinstance(source, Tensor):
            errors.append(f'While copying the parameter named "{key}", expected '
                          f"graphnet.Tensor or Tensor-like object from checkpoint but "
                          f"received {type(source)}")
            continue
        # NOTE: PyTorch's backward compatibility with 0.3 checkpoints: a 1-element 1-d tensor
        # loads into a 0-d parameter (an error here refused files torch reads)
        if target.dim() == 0 and source.dim() == 1 and source.shape[0] == 1:
            source = source[0]
        if tuple(source.shape) != tuple(target.shape):
            errors.append(f"size mismatch for {key}: copying a param with shape "
                          f"{source.shape} from checkpoint, the shape in current model "
                          f"is {target.shape}.")
            continue
        try:
            with no_grad():
                if assign:
                    _assign(module, name, target, source)
                elif current_mode() is not None:
                    # traced (a target network loaded inside a compiled step): an in-place
                    # copy the trace records; storing the traced value raised "a tensor from
                    # another trace"
                    target.copy_(source.to(dtype=target.dtype))
                else:
                    store(target, source.to(device=target.device, dtype=target.dtype)._value)
        except Exception as ex:  # noqa: BLE001 -- PyTorch reports any failed copy the same way
            errors.append(f'While copying the parameter named "{key}", whose dimensions in the '
                          f"model are {target.size()} and whose dimensions in the checkpoint "
                          f"are {source.size()}, an exception occurred : {ex.args}.")
    extra = prefix + EXTRA_STATE
    if _overrides(module, "set_extra_state"):
        if extra in state:
            module.set_extra_state(state[extra])
        elif strict:
            missing.append(extra)
    elif strict and extra in state:
        unexpected.append(extra)
    if strict:
        for key in state:
            if key.startswith(prefix) and key != extra:
                # a dotted key belongs to a child module; an undotted one must be this module's
                # own tensor (a key named like a child, "0" in a Sequential, is unexpected)
                head, *rest = key[len(prefix):].split(".", 1)
                if head not in (module._modules if rest else own):
                    unexpected.append(key)


def _assign(module, name: str, target: Tensor, source: Tensor) -> None:
    """load_state_dict(assign=True): the checkpoint's tensor itself replaces `target` (a
    parameter stays a Parameter, with the module's requires_grad), as in PyTorch: a tied
    parameter is untied, and an optimizer built before holds the old one."""
    from .._tensor import Parameter

    if isinstance(target, Parameter):
        if isinstance(source, Parameter):
            source.requires_grad_(target.requires_grad)
        else:
            source = Parameter(source, requires_grad=target.requires_grad)
    setattr(module, name, source)


def load_state_dict(root, state, strict: bool = True, assign: bool = False):
    """Copy `state` into the module's tensors. With `strict`, missing or unexpected keys are
    an error; a shape mismatch always is. Returns (missing_keys, unexpected_keys)."""
    from ._module import _IncompatibleKeys

    if not isinstance(state, Mapping):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state)}.")
    metadata = getattr(state, "_metadata", None)
    state = OrderedDict(state)
    if metadata is not None:
        state._metadata = metadata     # as PyTorch: the root's load pre-hooks may read it
    missing, unexpected, errors = [], [], []

    def load(module, local, prefix=""):
        local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
        if assign:
            local_metadata["assign_to_params_buffers"] = assign
        module._load_from_state_dict(local, prefix, local_metadata, True, missing, unexpected,
                                     errors)
        for name, child in module._modules.items():
            if child is not None:
                inner = prefix + name + "."
                load(child, {k: v for k, v in local.items() if k.startswith(inner)}, inner)
        keys = _IncompatibleKeys(missing, unexpected)
        for hook in list(module._load_state_dict_post_hooks.values()):
            if hook(module, keys) is not None:
                raise RuntimeError("load_state_dict post-hook must return None")

    load(root, state)
    if strict:
        if unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        if missing:
            errors.insert(0, "Missing key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in missing) + ". ")
    if errors:
        raise RuntimeError(f"Error(s) in loading state_dict for {type(root).__name__}:\n\t"
                           + "\n\t".join(errors))
    return _IncompatibleKeys(missing, unexpected)
