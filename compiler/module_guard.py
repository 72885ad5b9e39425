"""The guard over the modules a trace called or reached: their attributes, hooks and slots
(`guards.module_reads`), checked before each compiled call at the cost of a counter and an
identity pass while nothing changed."""

from __future__ import annotations

import operator

from .guards import _SKIP, has_mutable, module_reads, record


class ModulesGuard:
    """`module_reads` of every module a trace called, cheap on the hot path: modules count
    every change to their attributes, slots and hooks (`module_changes()`), so while that
    count stands still, and each module's attributes are still the very objects they were
    (a write through `vars(m)` or `object.__setattr__` moves no count), only mutable
    attributes (a list or dict the code may append to) are compared. Otherwise every read is
    compared once, and the count and the attributes are remembered."""

    def __init__(self, modules, skip=frozenset()):
        from graphnet.nn._module import module_changes

        from .object_reads import _class_attribute_names, _class_data_names

        self.changes = module_changes
        self.reads, self.mutable = [], []
        self.states = [module.__dict__ for module, _ in modules]
        # `m.__class__ = Quantized` swaps the forward and leaves `__dict__` as it was
        self.classes = [(module, type(module)) for module, _ in modules]
        for module, path in modules:
            # not an attribute each call sets anew (compiler/recomputed_attributes.py)
            unread = {f"{path or type(module).__name__}.{name} is the value traced"
                      for key, name in skip if key == id(module)}
            self.reads += [r for r in module_reads(module, path) if r.what not in unread]
            state, where = module.__dict__, path or type(module).__name__
            self.reads.append(record(f"{where}'s class is the class traced",
                                     lambda m=module: type(m)))
            # data on a user-defined module class (`scale = 2.0` beside forward): changing
            # it does not count as a change of the module, so it is compared on every call
            cls = type(module)
            self.mutable += [record(f"{where}.{name} (a class attribute) is the value traced",
                                    lambda m=module, n=name: getattr(m, n))
                             for name in sorted(_class_data_names(
                                 cls, _class_attribute_names(cls)) - set(state))]
            self.mutable += [record(f"{where}.{name} is the value traced",
                                    lambda d=state, n=name: d[n])
                             for name in state if name not in _SKIP
                             and has_mutable(state[name]) and not (   # not a hook registry
                                 name.startswith("_") and hasattr(state[name], "move_to_end"))]
        # `nn.Linear.forward = patched` (a library class's too): the code traced is another
        self.forwards = list({cls: cls.forward for _, cls in self.classes}.items())
        self.reads += [record(f"{cls.__name__}.forward is the code traced",
                              lambda c=cls: c.forward) for cls, _ in self.forwards]
        self.seen = module_changes()
        self.snapshot = self._snapshot()

    def _snapshot(self) -> list:
        return [tuple(state.values()) for state in self.states]

    def _unchanged(self) -> bool:
        # NOTE: a write through `vars(m)[name] = v`, `m.__dict__.update(...)` or
        # `object.__setattr__` skips Module.__setattr__ and so the change count; it kept the
        # traced value, silently. Each attribute is checked for identity too (C-level: 0.8 us
        # for a Conv2d's 27 attributes, 3.5 us for the MLP step's modules with the rest of
        # this guard) and any difference compares every read.
        return all(len(state) == len(seen) and all(map(operator.is_, state.values(), seen))
                   for state, seen in zip(self.states, self.snapshot)) \
            and all(type(module) is cls for module, cls in self.classes) \
            and all(cls.forward is forward for cls, forward in self.forwards)

    def failure(self) -> str | None:
        now = self.changes()
        same = now == self.seen and self._unchanged()
        # NOTE: `mutable` holds reads no count covers (class attributes, containers), so a
        # moved count compares them too: they were skipped then, and a class attribute
        # changed while any module anywhere changed kept the traced value
        for read in self.mutable if same else self.reads + self.mutable:
            reason = read.failure()
            if reason is not None:
                return reason
        if not same:
            self.seen, self.snapshot = now, self._snapshot()
        return None
