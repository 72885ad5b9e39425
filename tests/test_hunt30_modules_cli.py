"""Modules and tools against PyTorch: `seq += other` in place and Sequential's type checks,
requires_grad_ refusing a non-bool, a converted buffer as a new tensor, `flip(x, dims=...)`,
code dumps of `x.max()` and `mean(dtype=...)` that run, and the CLI's count arguments."""

import numpy as np
import pytest

import graphnet
from graphnet.compiler.dumps import to_code
from graphnet.runtime import cli

torch = pytest.importorskip("torch")


def test_sequential_iadd_extends_in_place_and_checks_types():
    for lib in (torch, graphnet):
        model = lib.nn.Module()
        model.body = lib.nn.Sequential(lib.nn.Linear(2, 2))
        body = model.body
        body += lib.nn.Sequential(lib.nn.ReLU())
        assert body is model.body and len(model.body) == 2
        with pytest.raises(ValueError, match="supports only objects of Sequential class"):
            body += [lib.nn.Tanh()]
        with pytest.raises(ValueError, match="supports only objects of Sequential class"):
            body + lib.nn.ModuleList([lib.nn.Tanh()])
        with pytest.raises(AssertionError, match="module should be of type"):
            body.insert(1, "x")


@pytest.mark.parametrize("value", [0, "x", None])
def test_requires_grad_refuses_a_non_bool(value):
    for lib in (torch, graphnet):
        with pytest.raises(TypeError, match="must be bool"):
            lib.ones(2).requires_grad_(value)
        with pytest.raises(TypeError, match="must be bool"):
            lib.nn.Linear(2, 2).requires_grad_(value)


def test_converted_buffers_are_new_tensors():
    for lib in (torch, graphnet):
        bn = lib.nn.BatchNorm1d(3)
        mean, count = bn.running_mean, bn.num_batches_tracked
        bn.float()
        assert bn.running_mean is mean   # nothing to convert: the same tensor
        bn.double()
        bn(lib.ones(4, 3, dtype=lib.float64) * 5)
        assert bn.running_mean is not mean and mean.dtype == lib.float32
        assert mean.tolist() == [0.0, 0.0, 0.0] and bn.num_batches_tracked is count


def test_flip_takes_dims_by_name():
    x = np.arange(6.0).reshape(2, 3)
    for dims in ([0], (1,), [0, 1]):
        want = torch.flip(torch.from_numpy(x), dims=dims).tolist()
        assert graphnet.flip(graphnet.from_numpy(x), dims=dims).tolist() == want
        assert graphnet.from_numpy(x).flip(dims=dims).tolist() == want
    with pytest.raises(TypeError, match="unexpected keyword"):
        graphnet.flip(graphnet.from_numpy(x), 0, dims=[0])


@pytest.mark.parametrize("fn", [lambda a: a.max() - a.min(),
                                lambda a: a.mean(dtype=graphnet.float64),
                                lambda a: a.flip(0) * 2,
                                lambda a: a.long().mean(dtype=graphnet.float32)])
def test_code_dump_of_everyday_reductions_runs(fn):
    x = graphnet.randn(3, 4)
    compiled = graphnet.compile(fn)
    want = compiled(x)
    space = {}
    exec(to_code(compiled.graph, "f"), space)
    np.testing.assert_allclose(np.asarray(space["f"](x).numpy(), np.float64),
                               np.asarray(want.numpy(), np.float64), rtol=1e-6)


@pytest.mark.parametrize("argv", [["bench", "--steps", "0"], ["bench", "--rounds", "-1"],
                                  ["dump", "mlp", "--devices", "0"],
                                  ["dump", "mlp", "--batch", "-1"]])
def test_cli_refuses_counts_below_one(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_code_dump_with_cond_and_while_loop_runs():
    w = graphnet.randn(6, requires_grad=True)
    x = graphnet.randn(4, 6)

    def branchy(x):
        return graphnet.cond(x.sum() > 0, lambda t: (t * 2).sin() * w, lambda t: t.cos() - w,
                             (x,))

    def loop(x):
        return graphnet.while_loop(lambda t: t.sum() < 100, lambda t: t * 2 + 1, (x.abs(),))[0]

    for fn, extra in ((branchy, (w,)), (loop, ())):
        compiled = graphnet.compile(fn)
        want = compiled(x)
        space = {}
        exec(to_code(compiled.graph, "f"), space)
        got = space["f"](x, *extra)
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6)
