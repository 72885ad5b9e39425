"""A module attribute the compiled forward replaces keeps its guard when Python decided
something by the value it held: None or missing (`if self.prev is None`), a number
(`x + self.prev`), or a placeholder tensor read only for its size (`torch.empty(0)`). The
guard was dropped, and every later call ran the first call's branch, silently."""
import warnings

import numpy as np
import pytest
import torch

import graphnet as G

VARIANTS = ["none", "missing", "number", "numel", "shape"]


def _module(lib, variant):
    class Carry(lib.nn.Module):
        def __init__(self):
            super().__init__()
            if variant == "none":
                self.prev = None
            elif variant == "number":
                self.prev = 0.0
            elif variant in ("numel", "shape"):
                self.prev = lib.empty(0)

        def forward(self, x):
            if variant in ("none", "missing"):
                first = getattr(self, "prev", None) is None
            elif variant == "numel":
                first = self.prev.numel() == 0
            elif variant == "shape":
                first = self.prev.shape != x.shape
            else:
                first = False
            out = x if first else x + self.prev
            self.prev = x * 10
            return out

    return Carry()


@pytest.mark.parametrize("variant", VARIANTS)
def test_decisions_on_the_old_value_follow_torch(variant):
    xs = [np.full((1, 3), float(i + 2), np.float32) for i in range(4)]
    t_model = _module(torch, variant)
    want = [float(t_model(torch.tensor(x)).sum()) for x in xs]
    g_model = _module(G, variant)
    step = G.compile(g_model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = [float(step(G.tensor(x)).sum()) for x in xs]
    assert got == want


def test_a_recomputed_weight_still_compiles_once():
    lin = G.nn.utils.weight_norm(G.nn.Linear(3, 2))
    step = G.compile(lin)
    for _ in range(4):
        step(G.ones(2, 3))
    assert step.explain()["graphs"] == 1
