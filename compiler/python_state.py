"""Python state a trace changed: what a compiled call cannot repeat.

A compiled call runs the XLA program, not the Python code, so a Python value the code changes
(`self.calls += 1`, `self.seen.append(shape)`, `global step; step += 1`, `nonlocal n`)
would change once, while tracing, and never again. The tracer watches three kinds of state,
each compared before and after the trace, so that only a value the trace *changed* counts
(setting the same value on every call, a flag that stays True, changes nothing):

- plain attributes written on an `nn.Module` (`Module.__setattr__` of anything but a tensor,
  module or parameter tells the tracer first: `DispatchMode.on_attribute_write`), except
  while that module's own `__init__` runs (a module built inside the traced code);
- lists, dicts and sets held by the modules the trace called, compared by their items, and
  the Python numbers in the `state` of the optimizers it reaches (a custom optimizer's
  `state["step"] += 1`);
- the attributes of the user's own objects the trace reaches (a trainer's, a config's, and
  those they and the called modules hold, three levels down: `self.progress.step += 1`), and
  the own attributes of the user's classes and functions it reaches (`C.n += 1`,
  `type(self).calls += 1`, `f.calls += 1`: compiler/namespace_state.py);
- the globals and closure cells of the traced function, of the `forward` and hooks of each
  module it calls, and of the plain functions those reach (the reads `FunctionGuard` guards,
  compiler/guards.py), compared as the guards compare. graphnet's own code is not watched.

A trace that changed any of them is run once and traced again on the next call
(runtime/compiled.py), so the Python code runs on every call, as plain Python would. Tensors
are not watched here: a tensor kept past the trace is an escaped tensor (tracer.py)."""

from __future__ import annotations

import random
import sys
import types
import weakref

import numpy as np

from graphnet import _dispatch
from graphnet._errors import TraceError

from . import _source
from .guards import _SKIP, freeze, function_reads, matches, record
from .generator_state import generator_state, held_generators
from .iter_state import is_iterator, position
from .namespace_state import is_dunder, namespaces
from .object_attributes import attributes
from .object_reads import (_attribute_names, _reachable, _user_object,
                           held_user_objects, probe)
from .optimizer_watch import frozen_attributes, own_attributes, plain_state
from .param_group_watch import WatchedGroup


class PythonStateWatch:
    """The Python state one trace may change, seen before it ran (`changes()` at the end)."""

    def __init__(self, fn=None):
        self.reads: list = []       # guards.Read of globals and closure cells
        self.functions: set = set()     # ids of the functions whose reads are in self.reads
        self.writes: dict = {}      # (id(module), name) -> (weakref, name, where, had, frozen, old)
        self.containers: dict = {}  # id(module) -> [guards.Read] of its lists, dicts, sets
        self.rngs: dict = {}        # id -> (what, generator, its state before the trace)
        self.iterators: dict = {}   # id -> (what, iterator, iter_state.position before it)
        self.objects: list = []     # (what, object, {attribute: frozen value}) before the trace
        self.optimizers: list = []  # the same of optimizers (optimizer_watch.py)
        self.namespaces: set = set()    # ids of the classes and functions in self.objects
        if fn is not None:
            self._watch_function(getattr(fn, "forward", fn))
            functions, values = _reachable(fn, 2)   # once: the watches below read the same
            bound = getattr(fn, "__self__", None)
            names = frozenset().union(*(_attribute_names(f.__code__) for f in functions))
            self._watch_namespaces([*functions, *values], names)
            self._watch_optimizers(values, bound)
            self._watch_rngs(values, bound)
            self._watch_objects(values, bound)

    def _watch_optimizers(self, values: list, bound) -> None:
        """Watch the parameter groups of the optimizers the function reaches (through its
        globals and closure, or as attributes of its instance) for writes: while the trace
        runs, each group is a `WatchedGroup` copy that notes which keys the code sets
        (`group['lr'] = lr`), and `release()` puts the original dicts back with the new
        contents. See `group_writes`."""
        self.swapped: list = []     # (optimizer, index, original dict, watched copy)
        if bound is not None and hasattr(bound, "__dict__"):   # `compile(opt.step)`: opt too
            values = values + [bound] + list(vars(bound).values())
        self._watch_optimizer_values(values)

    def _watch_optimizer_values(self, values) -> None:
        seen = {id(optimizer) for optimizer, _, _, _ in self.swapped}
        held = [v for value in values if _user_object(value) for v in attributes(value).values()]
        for value in [*values, *held]:   # a trainer's `self.opt` too
            groups = probe(value, "param_groups")
            if not isinstance(groups, list) or id(value) in seen:
                continue
            seen.add(id(value))
            self.optimizers.append((type(value).__name__, value, frozen_attributes(value)))
            state = probe(value, "state")
            if isinstance(state, dict):     # a custom optimizer's `state["step"] += 1`
                self.containers[id(value)] = [record(
                    f"{type(value).__name__}.state's Python numbers",
                    lambda s=state: plain_state(s))]
            for index, group in enumerate(groups):
                if type(group) is dict:
                    watched = WatchedGroup(group)
                    groups[index] = watched
                    self.swapped.append((value, index, group, watched))

    def _watch_rngs(self, values: list, bound) -> None:
        """Python's and NumPy's global random generators, and those the function reaches
        (`rng = np.random.default_rng(0)` in a global, closure or attribute of its instance):
        a number drawn while tracing is baked into the program, which then repeats it on every
        call while the generator stays where the trace left it. Iterators alike: an item
        taken while tracing would be given again on every call (iter_state.py)."""
        self._watch_rng("Python's random module", random._inst)
        self._watch_rng("NumPy's global random state (np.random)", np.random.mtrand._rand)
        if bound is not None and hasattr(bound, "__dict__"):
            for name, value in vars(bound).items():
                self._watch_draws(f"self.{name}", value)
        for value in values:
            self._watch_draws(f"the {type(value).__name__} the code reaches", value)

    def _watch_draws(self, what: str, value) -> None:
        """`_watch_rng` of `value`, of the generators it holds (in containers, on its own
        objects: `held_generators`) and, for the user's own object, of its attributes (a
        config's or a trainer's iterator)."""
        self._watch_rng(what, value)
        for path, generator in held_generators(what, value):
            self._watch_rng(path, generator)
        if _user_object(value):
            for name, held in attributes(value).items():
                self._watch_rng(f"{type(value).__name__}.{name}", held)

    def watch_arguments(self, objects: list) -> None:
        """The Python objects the call passed (not tensors): an optimizer (its parameter
        groups, as `_watch_optimizers`), a random generator or an iterator it may draw from
        (`step(x, batches)` with `next(batches)` inside), and the attributes of the user's
        own objects (`c.n += 1` on a counter passed in). A compiled call of an argument seen
        before (by identity) skips that Python, as for globals."""
        self._watch_optimizer_values(objects)   # `step(model, opt, x)`
        self._watch_namespaces(objects)     # a class passed in (`step(x, Registry)`)
        for value in objects:
            self._watch_draws(f"argument {type(value).__name__}", value)
            self._watch_object(type(value).__name__, value)

    def _watch_objects(self, values: list, bound) -> None:
        """The attributes of the user's own objects the function reaches: the instance of a
        compiled bound method (a trainer's `self.global_step += 1`) and the objects in its
        globals and closure (`state.step += 1`). Modules are watched through their
        `__setattr__` (`on_attribute_write`) instead."""
        for value in ([bound] if bound is not None else []) + values:
            self._watch_object("self" if value is bound else type(value).__name__, value)

    def _watch_object(self, where: str, value) -> None:
        """Snapshot the attributes of `value` and of the user's objects it holds (a trainer's
        `self.progress.step += 1`, a global `cfg['state'].n += 1`), each once."""
        from graphnet.nn import Module

        functions: list = []    # closures held on the way (`self.warmup = make_warmup(4)`)
        held = held_user_objects(where, value, functions=functions)
        for fn in functions:
            self._watch_function(fn)
        for path, obj in held:
            self._watch_namespaces([obj])   # its class: `type(self).count += 1`
            if isinstance(obj, Module) or probe(obj, "param_groups") is not None \
                    or any(seen is obj for _, seen, _ in self.objects):   # optimizers: above
                continue
            self.objects.append((path, obj, _attributes(obj)))

    def _watch_namespaces(self, values, names=frozenset()) -> None:
        """Snapshot the own attributes of the user's classes and functions `values` lead to
        (namespace_state.py), and the user's objects, lists and dicts those classes hold
        (`C.state.n += 1`, `C.hist.append(...)` compare by value through the snapshot)."""
        for where, namespace in namespaces(values, names):
            if id(namespace) in self.namespaces:
                continue
            self.namespaces.add(id(namespace))
            self.objects.append((where, namespace, _attributes(namespace)))
            for name, held in list(attributes(namespace).items()):
                if not is_dunder(name) and (_user_object(held) or type(held) in (list, dict)):
                    self._watch_object(f"{where}.{name}", held)

    def _watch_rng(self, what: str, generator) -> None:
        """Watch `generator` if it is a random generator or an iterator (iter_state.py)."""
        if id(generator) not in self.rngs and generator_state(generator) is not None:
            self.rngs[id(generator)] = (what, generator, generator_state(generator))
        elif is_iterator(generator) and id(generator) not in self.iterators:
            self.iterators[id(generator)] = (what, generator, position(generator))

    def group_writes(self) -> list:
        """(what, read, value) for each parameter-group entry the trace set: a compiled call
        that skips the write is right only while the entry already holds that value (a guard),
        and a write that changed it is a change of Python state (`changes`), so the next
        call traces again. Before, a compiled step that set `group['lr']` from its argument
        ran later calls with whatever lr the last trace had left there."""
        out = []
        for optimizer, index, _, watched in self.swapped:
            for key in sorted(watched.written, key=str):
                what = f"{type(optimizer).__name__}.param_groups[{index}][{key!r}]"
                out.append((what, lambda o=optimizer, i=index, k=key: o.param_groups[i].get(k),
                            watched.get(key)))
        return out

    def group_reads(self) -> list:
        """(what, read, value) for each parameter-group entry the user's code read and the
        trace did not set: the program holds the value read, so it applies while the entry
        holds it (a scheduler's new lr traces again)."""
        out = []
        for optimizer, index, _, watched in self.swapped:
            for key in sorted(watched.read - watched.written, key=str):
                what = f"{type(optimizer).__name__}.param_groups[{index}][{key!r}]"
                out.append((what, lambda o=optimizer, i=index, k=key: o.param_groups[i].get(k),
                            watched.get(key)))
        return out

    def release(self, keep_writes: bool = True) -> None:
        """Put the original parameter-group dicts back, holding what the trace left (or, for
        a trace that failed, `keep_writes=False`, what they held before it)."""
        for optimizer, index, group, watched in getattr(self, "swapped", ()):
            if keep_writes:
                group.clear()
                group.update(watched)
            if any(g is watched for g in optimizer.param_groups[index:index + 1]):
                optimizer.param_groups[index] = group
        self.swapped = []

    def _watch_function(self, fn) -> None:
        fn = fn.__func__ if isinstance(fn, types.MethodType) else fn
        if id(fn) not in self.functions:
            self.functions.add(id(fn))
            self.reads += function_reads(fn)
            # a mutable default the code changes (`def step(x, log=[])`, `seen={}`)
            defaults = [*(getattr(fn, "__defaults__", None) or ()),
                        *(getattr(fn, "__kwdefaults__", None) or {}).values()]
            self.reads += [record(f"a default argument of {fn.__name__}", lambda v=v: v)
                           for v in defaults if isinstance(v, (list, dict, set))]

    def on_module_call(self, module, path: str) -> None:
        if id(module) in self.containers:
            return
        self._watch_namespaces([module])    # its class: `type(self).calls += 1` in forward
        self._watch_function(type(module).forward)
        for hook in [*module._forward_pre_hooks.values(), *module._forward_hooks.values()]:
            start = len(self.reads)
            self._watch_function(hook)
            self._note_transient(hook, start)
        state, where = module.__dict__, path or type(module).__name__
        for name, value in ((n, v() if isinstance(v, weakref.ref) else v)   # an owner's ref
                            for n, v in state.items()):
            if name not in _SKIP:
                self._watch_draws(f"{where}.{name}", value)
            if name not in _SKIP and (_user_object(value) or type(value) in (list, dict)
                                      or isinstance(value, types.FunctionType)):
                self._watch_object(f"{where}.{name}", value)   # `self.tracker.calls += 1`
        self.containers[id(module)] = [
            record(f"{where}.{name}", lambda d=state, n=name: d.get(n))
            for name, value in state.items()
            if name not in _SKIP and isinstance(value, (list, dict, set))
            and not hasattr(value, "move_to_end")]     # not a hook registry

    def _note_transient(self, hook, start: int) -> None:
        """Reads of a hook's closure cells, first seen while the trace ran, leave `changes()`
        when nothing holds the hook at the end: registered and removed by the traced code
        (Grad-CAM's `register_forward_hook(lambda m, i, o: acts.__setitem__("a", o))`, then
        `h.remove()`, filled a dict made by that call: traced again on every call)."""
        fn = hook.__func__ if isinstance(hook, types.MethodType) else hook
        if not isinstance(fn, types.FunctionType):
            return
        ref, transient = weakref.ref(fn), self.__dict__.setdefault("transient", {})
        # only its closure cells (guards.cell_reads: `lambda c=cell: ...`), not its globals
        cells = {id(c) for c in fn.__closure__ or ()}
        for read in self.reads[start:]:
            if id((getattr(read.read, "__defaults__", None) or (None,))[0]) in cells:
                transient[id(read)] = ref

    def on_attribute_write(self, module, name: str) -> None:
        key = (id(module), name)
        if key in self.writes or _constructing(module):
            return
        state = module.__dict__
        had = name in state
        old = state.get(name)
        self.writes[key] = (weakref.ref(module), name, _where(module), had,
                            freeze(old) if had else None, old)

    def changes(self) -> list[str]:
        """What the trace changed so far, one description each (`Counting.calls: 0 -> 1`)."""
        found = []
        for optimizer, index, group, watched in getattr(self, "swapped", ()):
            for key in sorted(watched.written, key=str):
                if key not in group or not matches(freeze(group[key]), watched.get(key)):
                    found.append(f"{type(optimizer).__name__}.param_groups[{index}][{key!r}]: "
                                 f"{_short(group.get(key))} -> {_short(watched.get(key))}")
        for ref, name, where, had, frozen, old in self.writes.values():
            module = ref()
            if module is None:          # a module made and dropped by the traced code
                continue
            state = module.__dict__
            if name in state and had and matches(frozen, state[name]):
                continue
            if name not in state and not had:
                continue
            now = _short(state[name]) if name in state else "deleted"
            found.append(f"{where}.{name}: {_short(old) if had else 'unset'} -> {now}")
        for reads in self.containers.values():
            found += [f"{read.what} (changed in place)" for read in reads if read.failure()]
        transient = getattr(self, "transient", {})
        if transient:    # a function made and dropped by the traced code: its reads go,
            # and with them the cells they hold (a tensor in such a cell kept past the trace
            # counted as state the trace created, traced again on every call too)
            dropped = {i for i, ref in transient.items() if ref() is None}
            self.reads = [r for r in self.reads if id(r) not in dropped]
            for i in dropped:        # (their ids may be reused by later reads)
                del transient[i]
        for read in self.reads:
            if read.failure():
                found.append(read.what.replace(" is the object traced", ""))
        for where, obj, before in [*self.objects, *self.optimizers]:
            now = own_attributes(obj) if probe(obj, "param_groups") else attributes(obj)
            for name in sorted(set(before) | {n for n in now if not is_dunder(n)}):
                if name not in now or name not in before or not matches(before[name], now[name]):
                    old = _short(_thawed(before[name])) if name in before else "unset"
                    new = _short(now[name]) if name in now else "deleted"
                    found.append(f"{where}.{name}: {old} -> {new}")
        for what, generator, before in self.rngs.values():
            if generator_state(generator) != before:
                found.append(f"{what} drew numbers (draw with graphnet.rand/randn/randint "
                             f"instead: the program draws new ones on every call)")
        for what, iterator, before in self.iterators.values():
            if position(iterator) == before:
                continue
            if isinstance(before, tuple) and before[0] == "file":
                found.append(f"{what} was read or written (a file: read or write it outside "
                             f"the compiled function, which runs its Python only when tracing)")
            else:
                found.append(f"{what} gave items (an iterator: take the item outside and "
                             f"pass it as an argument, `step(*next(batches))`)")
        return found


    def refuse_changes_since(self, before: list, what: str) -> None:
        """Refuse a change that tracing a `cond` / `while_loop` branch made (`before`: the
        `changes()` before it): tracing runs every branch once, whatever the values say."""
        new = [change for change in self.changes() if change not in before]
        if new:
            raise TraceError(f"{what}: tracing a branch changed Python state ({new[0]}), which "
                             f"a compiled branch cannot repeat on every call (and tracing runs "
                             f"every branch). Change it outside the branch, or run this code "
                             f"uncompiled.")


def _attributes(obj) -> dict:
    """{name: frozen value} of an object's own attributes (`freeze`: plain data by value,
    other objects by identity), of a class's or function's too; not Python's own dunders."""
    return {name: freeze(value) for name, value in attributes(obj).items()
            if not is_dunder(name)}


def refuse_branch_write(module, name: str, value) -> None:
    """`module.name = value` inside a branch: fine when it sets the value it holds already."""
    state = module.__dict__
    if name not in state or not matches(freeze(state[name]), value):
        raise TraceError(f"`{type(module).__name__}.{name} = ...` inside a graphnet.cond / "
                         f"while_loop branch (at {_source.user_frame()}) changes Python state, "
                         f"which a compiled branch cannot repeat on every call. Set it outside "
                         f"the branch, or keep it in a tensor buffer.")


def _constructing(module) -> bool:
    """True while `module.__init__` (or a method it calls) runs: building a module inside the
    traced code sets its attributes, which is not a change of existing state."""
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "__init__" and code.co_argcount \
                and frame.f_locals.get(code.co_varnames[0]) is module:
            return True
        frame = frame.f_back
    return False


def _where(module) -> str:
    for m, path in _dispatch.module_stack():
        if m is module and path:
            return path
    return type(module).__name__


def _thawed(frozen):
    """What `guards.freeze` froze, to show (`[1]`, not `(('=', <class 'int'>, 1),)`)."""
    kind = frozen[0]
    if kind == "=":
        return frozen[2]
    if isinstance(kind, str):       # "is", "array", "partial": the object itself
        return frozen[1]
    if issubclass(kind, dict):
        return {key: _thawed(value) for key, value in frozen[1]}
    items = [_thawed(value) for value in frozen[1]]
    return tuple(items) if kind is tuple else items


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
