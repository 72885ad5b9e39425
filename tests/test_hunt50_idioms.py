"""Everyday PyTorch boilerplate that stopped graphnet: `torch.profiler.record_function` in
model code (no `graphnet.profiler` at all), a profiling schedule, an inference tensor made a
Parameter (accepted where PyTorch refuses), and `.cuda()` on a machine without a GPU (a plain
RuntimeError, so PyTorch's `except AssertionError:` missed it)."""

import numpy as np
import pytest
import torch

import graphnet as gn


def test_record_function_labels_model_code_in_both_modes():
    class M(gn.nn.Module):
        def __init__(self):
            super().__init__()
            self.l = gn.nn.Linear(3, 2)

        def forward(self, x):
            with gn.profiler.record_function("linear"):
                return self.l(x)

    @gn.profiler.record_function("step")
    def step(m, x):
        return m(x).sum()

    m, x = M(), gn.ones(4, 3)
    want = step(m, x).item()
    assert gn.compile(lambda t: step(m, t))(x).item() == pytest.approx(want)
    with pytest.raises(NotImplementedError, match="jax.profiler.trace"):
        gn.profiler.profile(activities=[gn.profiler.ProfilerActivity.CPU])


@pytest.mark.parametrize("kw", [dict(wait=1, warmup=1, active=2),
                                dict(wait=1, warmup=1, active=2, repeat=2),
                                dict(wait=2, warmup=1, active=1, skip_first=3),
                                dict(wait=2, warmup=1, active=3, repeat=1, skip_first=2,
                                     skip_first_wait=1),
                                dict(wait=0, warmup=2, active=1, repeat=3)])
def test_a_schedule_gives_torchs_actions(kw):
    want = torch.profiler.schedule(**kw)
    got = gn.profiler.schedule(**kw)
    assert [got(i).name for i in range(24)] == [want(i).name for i in range(24)]
    assert [a.name for a in gn.profiler.ProfilerAction] == \
        [a.name for a in torch.profiler.ProfilerAction]
    assert list(gn.profiler.ProfilerActivity.__members__) == \
        list(torch.profiler.ProfilerActivity.__members__)


def test_a_bad_schedule_is_refused_as_torch_refuses_it():
    with pytest.raises(AssertionError, match=r"active=0 \(need > 0\)"):
        gn.profiler.schedule(wait=1, warmup=1, active=0)


def test_an_inference_tensor_cannot_become_a_parameter_outside_inference_mode():
    with gn.inference_mode():
        t = gn.ones(3)
        inside = gn.nn.Parameter(gn.ones(2))     # allowed in inference mode, as in torch
    assert inside.requires_grad
    with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor"):
        gn.nn.Parameter(t)
    assert not gn.nn.Parameter(t, requires_grad=False).requires_grad
    with pytest.raises(RuntimeError, match="Inference tensors do not track version counter"):
        _ = t._version
    np.testing.assert_array_equal(t.numpy(), [1.0, 1.0, 1.0])


@pytest.mark.skipif(gn.cuda.is_available(), reason="a GPU is present")
@pytest.mark.parametrize("where", ["cuda()", "to", "factory", "module"])
def test_gpu_calls_without_a_gpu_raise_what_torch_without_cuda_raises(where):
    calls = {"cuda()": lambda: gn.ones(2).cuda(), "to": lambda: gn.ones(2).to("cuda"),
             "factory": lambda: gn.ones(2, device="cuda"),
             "module": lambda: gn.nn.Linear(2, 2).cuda()}
    with pytest.raises(AssertionError, match="Found no CUDA device"):
        calls[where]()
    with pytest.raises(RuntimeError):
        calls[where]()
