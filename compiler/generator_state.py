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
