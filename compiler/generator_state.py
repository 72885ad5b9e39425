"""Snapshots of Python and NumPy random generators, compared before and after a trace
(compiler/python_state.py: a trace that drew from one changed Python state)."""

from __future__ import annotations

import random

import numpy as np


def generator_state(generator):
    """A comparable snapshot of a Python or NumPy random generator's state, or None for
    anything else."""
    if isinstance(generator, random.Random):
        return generator.getstate()
    if isinstance(generator, np.random.RandomState):
        state = generator.get_state(legacy=False)
        return (state["state"]["key"].tobytes(), state["state"]["pos"], state["has_gauss"],
                state["gauss"])
    if isinstance(generator, np.random.Generator):
        return bytes_of(generator.bit_generator.state)
    return None


def bytes_of(state):
    """A generator's state dict with its arrays as bytes: comparable with ==."""
    if isinstance(state, dict):
        return tuple((k, bytes_of(v)) for k, v in state.items())
    if isinstance(state, np.ndarray):
        return state.tobytes()
    return state


def held_generators(where: str, value, depth: int = 4, limit: int = 64) -> list:
    """(path, generator) for each Python or NumPy random generator `value` holds: itself, in
    its lists, tuples and dicts, and in the attributes of the user's objects it holds, `depth`
    levels down (`AUG = {"rng": np.random.default_rng(0)}`, `self.rngs = [random.Random(0)]`,
    `trainer.aug.rng`). Only a generator held directly, or one attribute down, was watched:
    a draw from one of these was baked into the program and repeated on every call."""
    from .object_attributes import attributes, held_items, walk_held
    from .object_reads import _user_object   # NOTE: object_reads builds on python_state

    found: list = []

    def children(path, obj):
        if generator_state(obj) is not None:
            found.append((path, obj))
        elif isinstance(obj, (list, tuple, dict)):
            return held_items(path, obj, limit)
        elif _user_object(obj):
            return [(f"{path}.{name}", item) for name, item in attributes(obj).items()
                    if not name.startswith("__")]
        return []
    return walk_held(where, value, depth, limit, found, children)
