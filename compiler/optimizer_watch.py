"""What a traced step may change on an optimizer besides its parameter groups' entries
(param_group_watch.py) and its tensors (program state): the Python numbers in its `state`,
per parameter and at the top (`self.state["n_steps"] += 1`), and its own attributes (a
custom optimizer's `self.t += 1`, `self.buffer[0] = ...`, a Lookahead's step counter).
A compiled call cannot repeat such a change, so one that the trace made is a change of
Python state (python_state.py): the next call traces again. Before, the attributes were not
watched at all, and a custom Adam's `self.t` stayed at its traced value while the program
ran on, silently."""

from __future__ import annotations

from .guards import _PLAIN, freeze
from .namespace_state import is_dunder
from .object_attributes import attributes

# watched apart, or bookkeeping of graphnet's Optimizer that no step result depends on (a
# scheduler's order warning; which parameters started their state)
_APART = frozenset(("param_groups", "state", "_opt_called", "_started"))


def plain_state(state: dict) -> tuple:
    """The Python numbers (and other plain values) an optimizer keeps in `state`, per
    parameter and at its top level; its tensors are program state, read and written by the
    program itself."""
    per_parameter = tuple((id(p), key, value) for p, entries in state.items()
                          if isinstance(entries, dict)
                          for key, value in entries.items() if isinstance(value, _PLAIN))
    return per_parameter + tuple((None, key, value) for key, value in state.items()
                                 if isinstance(value, _PLAIN))


def own_attributes(optimizer) -> dict:
    """{name: value} of the optimizer's own attributes but those watched apart."""
    return {name: value for name, value in attributes(optimizer).items()
            if name not in _APART and not is_dunder(name)}


def frozen_attributes(optimizer) -> dict:
    """`own_attributes`, frozen as python_state.py snapshots an object's attributes."""
    return {name: freeze(value) for name, value in own_attributes(optimizer).items()}
