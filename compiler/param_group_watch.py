"""An optimizer's parameter group while a trace runs (compiler/python_state.py watches it):
a dict that notes which keys the traced code set and which the user's own code read."""

from __future__ import annotations

import sys


class WatchedGroup(dict):
    """A parameter group while a trace runs: a dict that notes the keys set in it, and the
    keys the user's own code reads (`param_groups[0]["lr"]` logged or scaled by, a custom
    optimizer's step): graphnet's optimizers read their hyperparameters as live program
    inputs, but the user's code computes with the Python value, so it is guarded."""

    # what a guard on the group compares the dict put back after the trace with
    # (compiler/guards.py `freeze`): a custom optimizer's `param_groups`, read by the user's
    # step, was traced again on every call
    guarded_as = dict

    def __init__(self, *args):
        super().__init__(*args)
        self.written = set()
        self.read = set()

    def __getitem__(self, key):
        if key != "params" and _user_caller():
            self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        if key != "params" and _user_caller():
            self.read.add(key)
        return super().get(key, default)

    def __setitem__(self, key, value):
        self.written.add(key)
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self.written.add(key)
        super().__delitem__(key)

    def update(self, *args, **kwargs):
        self.written.update(dict(*args, **kwargs))
        super().update(*args, **kwargs)

    def setdefault(self, key, default=None):
        if key not in self:
            self.written.add(key)
        return super().setdefault(key, default)

    def pop(self, key, *default):
        self.written.add(key)
        return super().pop(key, *default)


def _user_caller() -> bool:
    """Whether the code two frames up (the caller of a `WatchedGroup` method) is not
    graphnet's own."""
    name = sys._getframe(2).f_globals.get("__name__", "")
    return name.split(".")[0] != "graphnet"
