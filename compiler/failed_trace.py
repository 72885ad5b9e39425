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
  keeps them, and the contents of the lists, dicts and sets the module holds);
- `undo_object_changes(python_state)` gives the user's objects, classes and functions that
  python_state snapshots (a trainer's `self.steps += 1`, `tr.hist.append(...)`, `C.n += 1`)
  their attributes back: plain values by value, other objects by identity, a list or dict
  that holds other items refilled in place.

- `snapshot_modules(values)` before the call keeps, for every module the function
  reaches (itself, its instance, its globals and closure, its arguments) and their
  submodules, the training flag, the parameter, buffer and submodule registries, each
  parameter's `requires_grad` and the hook tables; `restore_modules` puts them back (a
  compiled `validate()` that failed between `model.eval()` and `model.train()` left the
  model in eval mode, so the next eager step normalised with running statistics; a probe's
  `requires_grad_(False)` stayed, so a layer silently stopped training; a Grad-CAM hook
  registered before the failure stayed registered).

Globals the code rebinds (`global n; n += 1`) are not undone. The grad mode
(`set_grad_enabled(False)` called as a function) and the optimizers' parameter groups (`g["lr"]
*= 0.5`) are put back by compiler/tracing.py and python_state.release."""

from __future__ import annotations

from graphnet._tensor import Tensor

from graphnet.nn._module import _HOOK_TABLES

from . import recomputed_attributes
from .guards import matches
from .object_attributes import attributes


def undo(tracer, grad_mode: bool, optimizer_states: list, modules: list) -> None:
    """Everything this module puts back, after a trace that failed (or one only looked at,
    `graphnet.trace_graph`): the parameter groups without the trace's writes, the grad mode
    the call began with, the optimizers' state, the modules and the user's objects."""
    from graphnet import _autograd

    tracer.python_state.release(keep_writes=False)
    _autograd.grad_mode.enabled = grad_mode   # `set_grad_enabled(False)` called as a function
    restore(optimizer_states)
    restore_modules(modules)
    undo_attribute_writes(tracer)
    undo_object_changes(tracer.python_state)


def snapshot_all(python_state, fn, objects: list) -> tuple:
    """(`snapshot`, `snapshot_modules`) of what `fn` reaches, found once."""
    from .object_reads import _reachable

    reached = [fn, getattr(fn, "__self__", None), *_reachable(fn, 2)[1], *objects]
    return snapshot(python_state.optimizers, reached), snapshot_modules(reached)


def snapshot(optimizers: list, reached=()) -> list:
    """(optimizer, its state dict, {parameter: (its dict, a copy of its items)}, its parameter
    groups) for each of `optimizers`, the (name, optimizer, frozen attributes) triples
    python_state watches, and each optimizer held in a list or dict among `reached` (what the
    function reaches and is passed: `opts[0].step()`, `opts["main"]`)."""
    found = [optimizer for _, optimizer, _ in optimizers]
    for place in reached:
        items = place.values() if type(place) is dict else place \
            if type(place) in (list, tuple) else ()
        found += [item for item in items if isinstance(getattr(item, "param_groups", None),
                                                       list)]
    saved, seen = [], set()
    for optimizer in found:
        state = getattr(optimizer, "state", None)
        if isinstance(state, dict) and id(optimizer) not in seen:
            seen.add(id(optimizer))
            saved.append((optimizer, state, {key: (value, dict(value) if isinstance(value, dict)
                                                   else None) for key, value in state.items()},
                          list(optimizer.param_groups)))
    return saved


def restore(saved: list) -> None:
    """Each state as `snapshot` found it: entries the trace added are removed, per-parameter
    dicts get their old items back (the same dict objects, which user code may hold), and
    a group the code added (`add_param_group`) is dropped."""
    for optimizer, state, before, groups in saved:
        for key in [k for k in state if k not in before]:
            del state[key]
        for key, (value, items) in before.items():
            if items is not None:
                value.clear()
                value.update(items)
            state[key] = value
        del optimizer.param_groups[len(groups):]


def snapshot_modules(values: list) -> list:
    """The state `restore_modules` puts back, of every module among `values` (what the
    function reaches and is passed) and their submodules (see the module docstring)."""
    from graphnet.nn import Module

    roots = [v for v in values if isinstance(v, Module)]
    saved, seen = [], set()
    for root in roots:
        for module in root.modules():
            if id(module) not in seen:
                seen.add(id(module))
                saved.append(_module_state(module))
    # the global hook tables (`register_module_forward_hook` in the step), and the lists,
    # dicts and sets the function names or is passed (`HIST.append(...)`, `CFG["k"] = v`)
    tables = [*_global_tables(), *(v for v in values if type(v) in (list, dict, set))]
    return saved + [(table, _contents(table)) for table in tables]


def _module_state(module) -> tuple:
    state = module.__dict__
    parameters = [p for p in state["_parameters"].values() if p is not None]
    return (module, module.training,
            [(state[name], dict(state[name])) for name in _REGISTRIES + _HOOK_TABLES
             if name in state],
            [(p, p.requires_grad, {k: dict(p.__dict__[k]) for k in _TENSOR_HOOKS
                                   if k in p.__dict__}) for p in parameters])


_TENSOR_HOOKS = ("_hooks", "_post_hooks")   # a leaf's `register_hook` and post-accumulate


def _global_tables() -> list:
    from graphnet.nn import _global_hooks as g

    return [g.forward_pre_hooks, g.forward_hooks, g.forward_hooks_with_kwargs,
            g.forward_hooks_always_called, g.backward_pre_hooks, g.backward_hooks,
            *g._registration.values()]


def restore_modules(saved: list) -> None:
    for entry in saved:
        if len(entry) == 2:   # a table or container of `snapshot_modules`
            if not _same(_contents(entry[0]), entry[1]):
                _refill(entry[0], entry[1])
    for module, training, tables, parameters in (e for e in saved if len(e) == 4):
        module.__dict__["training"] = training
        for table, before in tables:
            if not _same(dict(table), before):
                _refill(table, before)
        for parameter, flag, hooks in parameters:
            if parameter.requires_grad != flag:
                parameter.requires_grad_(flag)
            for name in _TENSOR_HOOKS:   # `w.register_hook(...)` in the step: gone again
                if name in parameter.__dict__ and not _same(parameter.__dict__[name],
                                                            hooks.get(name, {})):
                    _refill(parameter.__dict__[name], hooks.get(name, {}))


def note_registries(tracer, module) -> None:
    """Keep `module`'s parameters and buffers as its first call in the trace finds them."""
    saved = tracer.__dict__.setdefault("registries", {})
    if id(module) not in saved:
        saved[id(module)] = (module, dict(module._parameters), dict(module._buffers))
        held = tracer.__dict__.setdefault("module_containers", [])
        held += [(value, _contents(value)) for value in module.__dict__.values()
                 if type(value) in (list, dict, set)]


class NotesRegistries:
    """The tracer's hook for code that swaps tensors into a module before calling it: a
    `functional_call` inside a trace that then fails leaves the module its own parameters.
    NOTE: noted at the module's first call only, they were the swapped-in ones, and the undo
    put those back: the module held a traced placeholder (or the caller's detached copies,
    which the optimizer never updated) for good."""

    def before_registry_change(self, module) -> None:
        note_registries(self, module)


def forget(tracer) -> None:
    """Drop what `note_registries` kept, once the traced code has run: kept, the tensors it
    holds (a `functional_call`'s swapped-in weights, made by the trace) counted as state the
    trace created, and every call traced again."""
    tracer.__dict__.pop("registries", None)
    tracer.__dict__.pop("module_containers", None)


_REGISTRIES = ("_parameters", "_buffers", "_modules")


def _contents(value):
    return dict(value) if isinstance(value, dict) else list(value)


def _same(now, before) -> bool:
    """Whether two `_contents` hold the same objects (by identity: tensors compare by value)."""
    if isinstance(now, dict):
        return list(now) == list(before) and all(now[k] is before[k] for k in now)
    return len(now) == len(before) and all(a is b for a, b in zip(now, before))


def _refill(container, items) -> None:
    """`container` (a list, dict or set) holding `items` again, in place."""
    if isinstance(container, list):
        container[:] = items
    else:
        container.clear()
        container.update(items)


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
    for container, items in tracer.__dict__.get("module_containers", ()):
        if not _same(_contents(container), items):
            _refill(container, items)


def undo_object_changes(python_state) -> None:
    """The user's objects python_state snapshot before the trace, as they were then."""
    for _, obj, before in python_state.objects:
        try:
            now = attributes(obj)
            for name in [n for n in now if n not in before and not n.startswith("__")]:
                delattr(obj, name)
            for name, frozen in before.items():
                if name not in now or not matches(frozen, now[name]):
                    _restore(obj, name, frozen, now.get(name))
        except Exception:   # noqa: BLE001 - a read-only attribute, a slot: left as it is
            continue


def _restore(obj, name: str, frozen, value) -> None:
    from .python_state import _thawed

    old = _thawed(frozen)
    if type(value) is type(old) and isinstance(value, (list, dict)):
        _refill(value, old.items() if isinstance(old, dict) else old)
    else:
        setattr(obj, name, old)


def _put_back(state: dict, name: str, had: bool, old) -> None:
    if had:
        state[name] = old
    else:
        state.pop(name, None)
