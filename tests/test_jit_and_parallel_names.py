"""`graphnet.jit` (PyTorch's TorchScript names with TorchScript off: `script`/`trace` return
their argument, `save`/`load` refuse) and `nn.DataParallel` on one CPU device (PyTorch's
no-accelerator wrapper: `.module`, `module.` state_dict keys, `device_ids == []`)."""

import typing
import warnings

import numpy as np
import pytest
from parity import np_of, torch

import graphnet


def test_jit_predicates_and_pass_through_decorators():
    assert graphnet.jit.is_scripting() is torch.jit.is_scripting() is False
    assert graphnet.jit.is_tracing() is torch.jit.is_tracing() is False
    assert graphnet.jit.Final is torch.jit.Final is typing.Final

    def f(x):
        return x + 1

    for decorate in (graphnet.jit.ignore, graphnet.jit.unused, graphnet.jit.export,
                     graphnet.jit.ignore(False), graphnet.jit.script_method):
        assert decorate(f) is f
    prop = property(f)
    assert graphnet.jit.unused(prop) is prop
    assert graphnet.jit.annotate(list, []) == torch.jit.annotate(list, []) == []
    assert graphnet.jit.Attribute(3, int) == 3
    with pytest.raises(RuntimeError, match="must be a bool or a function but got 3"):
        graphnet.jit.ignore(3)
    with pytest.raises(RuntimeError, match="must be a bool or a function but got 3"):
        torch.jit.ignore(3)
    wrapped = graphnet.jit.script_if_tracing(f)
    assert wrapped is not f and wrapped.__name__ == "f" and wrapped(2) == 3


def test_script_and_trace_return_their_argument_unchanged():
    model = graphnet.nn.Linear(3, 2)
    calls = []

    def f(x):
        calls.append(x)
        return x * 2

    with pytest.warns(DeprecationWarning, match="graphnet.compile"):
        assert graphnet.jit.script(model) is model
    with pytest.warns(DeprecationWarning, match="graphnet.compile"):
        assert graphnet.jit.script(f) is f
    with pytest.warns(DeprecationWarning):
        assert graphnet.jit.trace(f, (graphnet.ones(2),)) is f
    with pytest.warns(DeprecationWarning):
        assert graphnet.jit.trace(model, graphnet.ones(1, 3)) is model
    with pytest.warns(DeprecationWarning):
        assert graphnet.jit.trace_module(model, {"forward": graphnet.ones(1, 3)}) is model
    assert calls == []   # as PyTorch with PYTORCH_JIT=0: tracing runs nothing

    class Scripted(graphnet.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.lin = graphnet.nn.Linear(2, 2)

        @graphnet.jit.script_method
        def forward(self, x):
            return self.lin(x)

    assert isinstance(Scripted(), graphnet.nn.Module)
    assert Scripted()(graphnet.ones(1, 2)).shape == (1, 2)
    assert not isinstance(f, graphnet.jit.ScriptFunction)


def test_interface_checks_its_argument_as_pytorch():
    class Iface:
        def forward(self, x):
            pass

    with pytest.warns(DeprecationWarning):
        assert graphnet.jit.interface(Iface) is Iface
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for jit in (graphnet.jit, torch.jit):
            with pytest.raises(RuntimeError, match="interface must be applied to a class"):
                jit.interface(lambda x: x)


def test_fork_runs_now_and_wait_gives_the_result():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        future = graphnet.jit.fork(lambda x, k: x * k, graphnet.tensor([1.0, 2.0]), k=3)
        expected = torch.jit.wait(torch.jit.fork(lambda x, k: x * k, torch.tensor([1.0, 2.0]),
                                                 k=3))
        assert future.done()
        np.testing.assert_array_equal(np_of(graphnet.jit.wait(future)), np_of(expected))
        np.testing.assert_array_equal(np_of(future.value()), np_of(expected))
        chained = future.then(lambda done: done.value().sum())
        assert float(chained.wait()) == 9.0

        def boom():
            raise ValueError("boom")

        for jit in (graphnet.jit, torch.jit):   # the function runs inside fork: it raises there
            with pytest.raises(ValueError, match="boom"):
                jit.fork(boom)
    pending = graphnet.jit.Future()
    assert not pending.done()
    with pytest.raises(RuntimeError, match="never complete"):
        pending.wait()
    seen = []
    pending.add_done_callback(lambda fut: seen.append(fut.value()))
    pending.set_result(5)
    assert seen == [5] and pending.wait() == 5
    with pytest.raises(RuntimeError, match="only be marked completed once"):
        pending.set_result(6)


def test_jit_save_and_load_refuse_and_name_the_alternatives(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"not read")
    with pytest.raises(NotImplementedError, match=r"graphnet\.save.*graphnet\.compile"):
        graphnet.jit.save(graphnet.nn.Linear(2, 2), tmp_path / "out.pt")
    assert not (tmp_path / "out.pt").exists()
    with pytest.raises(NotImplementedError, match=r"graphnet\.load.*graphnet\.compile"):
        graphnet.jit.load(str(path))


def _pair():
    """The same Sequential in PyTorch and graphnet, graphnet's weights copied from torch's."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                 torch.nn.Linear(4, 2))
    ours = graphnet.nn.Sequential(graphnet.nn.Linear(3, 4), graphnet.nn.BatchNorm1d(4),
                                  graphnet.nn.Linear(4, 2))
    ours.load_state_dict({k: graphnet.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def test_data_parallel_wraps_the_module_as_pytorch_on_cpu():
    assert graphnet.nn.DataParallel is graphnet.nn.parallel.DataParallel
    assert torch.nn.DataParallel is torch.nn.parallel.DataParallel
    ours, theirs = _pair()
    dp, tdp = graphnet.nn.DataParallel(ours, device_ids=[0]), torch.nn.DataParallel(theirs)
    assert dp.module is ours and tdp.module is theirs
    assert dp.device_ids == tdp.device_ids == []
    assert repr(dp) == repr(tdp)
    assert list(dp.state_dict()) == list(tdp.state_dict())
    assert [n for n, _ in dp.named_parameters()] == [n for n, _ in tdp.named_parameters()]
    assert [n for n, _ in dp.named_buffers()] == [n for n, _ in tdp.named_buffers()]
    assert graphnet.nn.DataParallel[graphnet.nn.Linear] is not None   # Generic, as PyTorch's

    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    out, tout = dp(graphnet.tensor(x)), tdp(torch.from_numpy(x))
    np.testing.assert_allclose(np_of(out), np_of(tout), rtol=1e-5, atol=1e-6)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    for (name, p), (_, tp) in zip(dp.named_parameters(), tdp.named_parameters()):
        np.testing.assert_allclose(np_of(p.grad), np_of(tp.grad), rtol=1e-4, atol=1e-5,
                                   err_msg=name)
    np.testing.assert_allclose(np_of(ours[1].running_mean), np_of(theirs[1].running_mean),
                               rtol=1e-5, atol=1e-6)


def test_data_parallel_passes_any_arguments_through_and_loads_pytorchs_state_dict():
    class Scale(graphnet.nn.Module):
        def forward(self, x, factor, *, shift=0.0):
            return x * factor + shift

    dp = graphnet.nn.DataParallel(Scale())
    assert float(dp(graphnet.tensor(2.0), 3, shift=1.0)) == 7.0   # a 0-d input, no batch split
    ours, theirs = _pair()
    with torch.no_grad():
        for p in theirs.parameters():
            p.mul_(2)
    graphnet.nn.DataParallel(ours).load_state_dict(
        {k: graphnet.tensor(v.numpy()) for k, v in torch.nn.DataParallel(theirs)
         .state_dict().items()})
    np.testing.assert_array_equal(np_of(ours[0].weight), np_of(theirs[0].weight))


def test_data_parallel_compiles():
    ours, _ = _pair()
    dp = graphnet.nn.DataParallel(ours.eval())
    x = graphnet.randn(4, 3)
    np.testing.assert_allclose(np_of(graphnet.compile(dp)(x)), np_of(dp(x)), rtol=1e-5,
                               atol=1e-6)
