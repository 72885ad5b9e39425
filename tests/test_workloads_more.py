"""The added benchmark workloads (runtime/workloads_more.py, workloads_seq.py): every variant,
graphnet's three modes and the hand-written jax and PyTorch twins, trains to the same
parameters; `graphnet bench`'s harness runs each. Sizes are shrunk through the factories'
keyword arguments so the file stays fast; timings belong to `graphnet compare`, never here.

Tolerance: after 3 steps every parameter agrees with dynamic mode's to rtol 1e-4, atol 1e-5
(float32; at these sizes the largest measured difference is 5e-7, at the default sizes
4e-6), except attention's key bias (see `_key_bias`)."""

import numpy as np
import pytest

from graphnet.runtime import bench
from graphnet.runtime.workloads import WORKLOADS, mlp
from graphnet.runtime.workloads_more import convnet, tiny
from graphnet.runtime.workloads_seq import lstm_lm, lstm_lm_cells, transformer

VARIANTS = ["dynamic", "static", "plan", "jax", "torch"]
SMALL = {
    "tiny": lambda: tiny(),
    "convnet": lambda: convnet(batch=4),
    "lstm-lm": lambda: lstm_lm(batch=3, seq=5, vocab=16, dim=8, hidden=12),
    "lstm-lm-cells": lambda: lstm_lm_cells(batch=3, seq=3, vocab=16, dim=8, hidden=12),
    "transformer": lambda: transformer(batch=3, seq=6, vocab=16, d_model=8, nhead=2,
                                       dim_feedforward=12, layers=1),
}
_TRAINED = {}


def _trained(name: str):
    """(workload, initial parameters): SMALL[name] built once per session, trained 3 steps in
    every variant (the other tests read what it compiled)."""
    if name not in _TRAINED:
        workload = SMALL[name]()
        initial = workload.params["dynamic"]()
        for step in workload.variants.values():
            for _ in range(3):
                step()
        _TRAINED[name] = workload, initial
    return _TRAINED[name]


def _key_bias(workload) -> dict:
    """{parameter index: slice} of attention's key bias (the middle third of in_proj_bias).
    NOTE: a constant added to every key cancels in the softmax, so its gradient is zero in
    exact arithmetic and rounding noise (~1e-9) in float32; Adam divides that noise by its
    own root mean square, so each implementation moves these entries by its own noise, up to
    about lr per step (1.0014 lr at step 2, from the bias corrections). Two implementations
    can move opposite ways: they are checked against 2 * 3 steps * 1.01 * lr 1e-3 instead
    (measured: up to 1.1e-3 here, 4.4e-5 at the default sizes)."""
    return {i: slice(len(p) // 3, 2 * len(p) // 3)
            for i, (name, p) in enumerate(zip(workload.param_names, workload.params["dynamic"]()))
            if name.endswith("self_attn.in_proj_bias")}


@pytest.mark.parametrize("name", list(SMALL))
def test_every_variant_trains_to_the_dynamic_parameters_and_bench_runs_it(name):
    workload, initial = _trained(name)
    assert workload.name == name and list(workload.variants) == VARIANTS
    assert set(workload.params) == set(VARIANTS) == set(workload.blockers)
    assert len(workload.param_names) == len(workload.params["jax"]())
    reference = workload.params["dynamic"]()
    assert max(np.abs(a - b).max() for a, b in zip(reference, initial)) > 1e-4  # it trains
    key_bias = _key_bias(workload)
    for variant in VARIANTS:
        params = workload.params[variant]()
        assert [p.shape for p in params] == [p.shape for p in reference], variant
        for i, (got, want) in enumerate(zip(params, reference)):
            if i in key_bias:
                assert np.abs(got - want)[key_bias[i]].max() <= 2 * 3 * 1.01e-3, (variant, i)
                got, want = np.delete(got, key_bias[i]), np.delete(want, key_bias[i])
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5,
                                       err_msg=f"{name} {variant} parameter {i}")
    result = bench.run(workload, steps=1, rounds=1)
    assert set(result.step_s) == set(VARIANTS) == set(result.first_call_s)
    assert set(result.compile_cost) == {"static", "plan"}
    assert result.ratio("plan", "static") is not None


def test_new_workloads_are_registered_with_what_they_measure():
    assert set(SMALL) <= set(WORKLOADS)
    assert all(WORKLOADS[name].__doc__ for name in SMALL)
    assert "dispatch" in WORKLOADS["tiny"].__doc__


def test_lstm_cells_unroll_per_time_step_while_lstm_is_one_scan_op():
    """What the two LSTM workloads claim to contrast: the same step traced by static mode."""
    graphs = {name: str(_trained(name)[0].compiled["static"].graph)
              for name in ("lstm-lm", "lstm-lm-cells")}
    assert graphs["lstm-lm"].count("= lstm_layer(") == 1
    assert "lstm_layer" not in graphs["lstm-lm-cells"]
    assert graphs["lstm-lm-cells"].count("= tanh(") >= 2 * 3   # two per cell, three steps


def test_scaling_axes_are_factory_arguments():
    wide = convnet(batch=2, width=3, torch=False)
    shapes = [p.shape for p in wide.params["jax"]()]
    assert shapes[0] == (24, 1, 3, 3) and shapes[2] == (48, 24, 3, 3) and "width 3" in \
        wide.description
    small = mlp(sizes=(8, 32, 4), batch=5, torch=False)
    assert [p.shape for p in small.params["dynamic"]()] == [(32, 8), (32,), (4, 32), (4,)]
    assert "batch 5" in small.description


def test_torch_twins_are_left_out_on_request():
    assert "torch" not in tiny(torch=False).variants
    assert "torch" not in lstm_lm(batch=2, seq=3, vocab=8, dim=4, hidden=4,
                                  torch=False).params


@pytest.mark.slow
def test_torch_compile_twin_trains_to_the_same_parameters():
    """Opt-in (`graphnet compare --with-torch-compile`); slow: inductor compiles C++."""
    workload = tiny(torch_compile=True)
    assert list(workload.variants)[-1] == "torch.compile"
    for variant in ("dynamic", "torch.compile"):
        for _ in range(3):
            workload.variants[variant]()
    for got, want in zip(workload.params["torch.compile"](), workload.params["dynamic"](),
                         strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
