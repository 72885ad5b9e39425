"""An OrderedDict that counts every change in a shared one-element list (`counter`): a
module's parameter, buffer, submodule and hook tables count in `module_changes()`
(graphnet/nn/_module.py), the global hook tables in `global_hooks_version()`
(graphnet/nn/_global_hooks.py). Compiled code compares a count instead of every entry."""

from __future__ import annotations

from collections import OrderedDict


class CountedDict(OrderedDict):
    counter: list = [0]   # each subclass names its own

    def __setitem__(self, key, value):
        self.counter[0] += 1
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self.counter[0] += 1
        super().__delitem__(key)

    def pop(self, *args):
        self.counter[0] += 1
        return super().pop(*args)

    def popitem(self, last=True):
        self.counter[0] += 1
        return super().popitem(last)

    def clear(self):
        self.counter[0] += 1
        super().clear()

    def update(self, *args, **kwargs):
        self.counter[0] += 1
        super().update(*args, **kwargs)

    def setdefault(self, key, default=None):
        self.counter[0] += 1
        return super().setdefault(key, default)

    def move_to_end(self, key, last=True):
        self.counter[0] += 1
        super().move_to_end(key, last)
