"""Per-shape choice of max_pool's lowering (pool_candidates.py), measured once and cached with
the convolutions' choices (conv_autotune.py: the same switch, budget, disk file and report).

Two directions are timed on random inputs of the pool's shape: `forward` (the values alone)
and `input_grad` (values and input gradient together, since a candidate's pullback needs its
own forward). A candidate that offers only values (`reduce_window`) is timed only forward."""

from __future__ import annotations

import jax
import numpy as np

from . import conv_autotune
from .pool_candidates import CANDIDATES, candidates_for, fixed_rule


def pool_key(x_shape, kernel_size, stride, padding, ceil_mode, dtype) -> tuple:
    """(key string, info dict) for one max pool."""
    info = {"op": f"max_pool{len(kernel_size)}d", "input": list(x_shape),
            "kernel_size": list(kernel_size), "stride": list(stride),
            "padding": list(padding), "ceil_mode": bool(ceil_mode),
            "dtype": str(np.dtype(dtype)), "backend": conv_autotune.backend_name()}
    return conv_autotune.key_of(info), info


def _split(offered: tuple):
    """The timed functions of one candidate: f(x, g) per direction it offers."""
    def split(fn):
        timed = {"forward": lambda x, g: fn(x)}
        if "input_grad" in offered:
            timed["input_grad"] = lambda x, g: jax.vjp(fn, x)[1](g)[0]
        return timed
    return split


def choose_max_pool(x_shape, kernel_size, stride, padding, ceil_mode, dtype,
                    timer=None) -> dict:
    """{forward, input_grad: candidate name} for this max pool: the measured choice when
    autotuning is on (and the budget allows, and x has elements), else the fixed rule;
    recorded for the report."""
    args = (tuple(kernel_size), tuple(stride), tuple(padding), bool(ceil_mode))
    rule = fixed_rule(x_shape, *args)
    key, info = pool_key(x_shape, *args, dtype)
    choice = None
    # an input with no elements (a batch of 0) has nothing to time: the fixed rule
    if conv_autotune.enabled() and 0 not in tuple(x_shape):
        offered = candidates_for(x_shape, *args)

        def make_args():
            rng = np.random.default_rng(0)
            x = rng.standard_normal(x_shape).astype(dtype)
            out = jax.eval_shape(lambda v: CANDIDATES["reduce_window"][0](v, *args), x)
            return x, rng.standard_normal(out.shape).astype(dtype)

        # a candidate here is (fn, the directions it offers), which the split reads
        bound = {name: (lambda v, fn=CANDIDATES[name][0]: fn(v, *args), directions)
                 for name, directions in offered.items()}
        choice = conv_autotune.tune(key, bound, make_args, timer=timer, info=info,
                                    prefer=rule,
                                    split=lambda pair: _split(pair[1])(pair[0]))
    if choice is None:
        conv_autotune.record(key, info, rule)
        return rule
    return choice
