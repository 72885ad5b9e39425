"""Python state put back as it was when a trace fails.

A trace that fails (`return loss.item()`, a refusal) has already run part of the user's
code. Its tensors are rolled back by the tracer (lifted tensors get their values back, `.grad`
its old tensor), but Python state it changed was not: a first `opt.step()` left tensors made
inside the trace in `opt.state[p]` (the eager step the user runs next then failed on those
placeholders), and a module's `self.initialized = True` stayed set while the data-dependent
initialisation it guarded was rolled back, so the next eager call skipped it, silently.
PyTorch's optimizer and modules are untouched by a compile that fails; so are graphnet's:

- `snapshot(optimizers)` before the call copies each watched optimizer's state, one level
  deep (the per-parameter dicts and what they hold), and `restore` puts it back;
- `undo_attribute_writes(tracer)` gives each module attribute the code set (a plain value
  through python_state's write record, a tensor the trace made through
  recomputed_attributes' note) the value it held before the call, or removes it, and each
  module the code called its parameters and buffers as they were when it was first called
  (`self.count = self.count + 1` left a traced placeholder in `_buffers`; `note_registries`
  keeps them).

What the code changed elsewhere in Python (a list it appended to, a counter on an object of
its own) is not undone."""

from __future__ import annotations

from graphnet._tensor import Tensor

from . import recomputed_attributes


def snapshot(optimizers: list) -> list:
    """(optimizer state dict, {parameter: (its dict, a copy of its items)}) for each of
    `optimizers`, the (name, optimizer, frozen attributes) triples python_state watches."""
    saved = []
    for _, optimizer, _ in optimizers:
        state = getattr(optimizer, "state", None)
        if isinstance(state, dict):
            saved.append((state, {key: (value, dict(value) if isinstance(value, dict)
                                        else None) for key, value in state.items()}))
    return saved


def restore(saved: list) -> None:
    """Each state as `snapshot` found it: entries the trace added are removed, per-parameter
    dicts get their old items back (the same dict objects, which user code may hold)."""
    for state, before in saved:
        for key in [k for k in state if k not in before]:
            del state[key]
        for key, (value, items) in before.items():
            if items is not None:
                value.clear()
                value.update(items)
            state[key] = value


def note_registries(tracer, module) -> None:
    """Keep `module`'s parameters and buffers as its first call in the trace finds them."""
    saved = tracer.__dict__.setdefault("registries", {})
    if id(module) not in saved:
        saved[id(module)] = (module, dict(module._parameters), dict(module._buffers))


def undo_attribute_writes(tracer) -> None:
    """Module attributes back to their values before the failed trace."""
    made = tracer.created_ids
    for module, parameters, buffers in tracer.__dict__.get("registries", {}).values():
        for registry, before in ((module._parameters, parameters), (module._buffers, buffers)):
            if list(registry) != list(before) or any(registry[k] is not v
                                                     for k, v in before.items()):
                registry.clear()
                registry.update(before)
    for module, name, old in tracer.__dict__.get("recomputed", {}).values():
        if isinstance(old, Tensor) and id(old) in made:
            continue    # a second write: the first one's record holds the old value
        _put_back(module.__dict__, name, old is not recomputed_attributes.MISSING, old)
    for ref, name, _, had, _, old in tracer.python_state.writes.values():
        module = ref()
        if module is not None and not (isinstance(old, Tensor) and id(old) in made):
            _put_back(module.__dict__, name, had, old)


def _put_back(state: dict, name: str, had: bool, old) -> None:
    if had:
        state[name] = old
    else:
        state.pop(name, None)
