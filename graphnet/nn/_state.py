"""`state_dict()` and `load_state_dict()` for modules."""

from __future__ import annotations

from collections import OrderedDict

from .._tensor import Tensor
from ._module import _IncompatibleKeys


def state_dict(module, destination=None, prefix: str = "", keep_vars: bool = False):
    """Parameters and persistent buffers by dotted name, in registration order."""
    out = OrderedDict() if destination is None else destination
    for name, p in module._parameters.items():
        if p is not None:
            out[prefix + name] = p if keep_vars else p.detach()
    for name, b in module._buffers.items():
        if b is not None and name not in module._non_persistent_buffers_set:
            out[prefix + name] = b if keep_vars else b.detach()
    for name, child in module._modules.items():
        if child is not None:
            state_dict(child, out, prefix + name + ".", keep_vars)
    return out


def _local_entries(module):
    for name, p in module._parameters.items():
        if p is not None:
            yield name, p
    for name, b in module._buffers.items():
        if b is not None and name not in module._non_persistent_buffers_set:
            yield name, b


def load_state_dict(root, state, strict: bool = True, assign: bool = False):
    """Copy `state` into the module's tensors. With `strict`, missing or unexpected keys are
    an error; a shape mismatch always is. Returns (missing_keys, unexpected_keys)."""
    from .. import no_grad

    if not hasattr(state, "items"):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state).__name__}.")
    missing, errors, expected = [], [], set()
    with no_grad():
        for prefix, module in root.named_modules(remove_duplicate=False):
            prefix = prefix + "." if prefix else ""
            for name, target in _local_entries(module):
                key = prefix + name
                expected.add(key)
                if key not in state:
                    missing.append(key)
                    continue
                source = state[key]
                if not isinstance(source, Tensor):
                    errors.append(f'While copying the parameter named "{key}", expected '
                                  f"graphnet.Tensor or Tensor-like object from checkpoint but "
                                  f"received {type(source)}")
                    continue
                if tuple(source.shape) != tuple(target.shape):
                    errors.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{source.shape} from checkpoint, the shape in current model "
                                  f"is {target.shape}.")
                    continue
                target._value = source.to(target.dtype)._value
    unexpected = [k for k in state if k not in expected]
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
