"""Defects the thirty-second session's graph-network hunt found in repeat_interleave and the
scatter reductions, fixed: each test compares graphnet, eagerly and compiled, with torch."""

import pytest
import torch

import graphnet as gn

_MODES = [lambda f: f, gn.compile]


@pytest.mark.parametrize("compile_", _MODES)
@pytest.mark.parametrize("repeats,size", [([2, 0, 3, 1], 5), ([2, 0, 3, 1], 8),
                                          ([3, -1], 2), ([3, -1], 3), ([2, 0, -3, 1], 6)])
def test_repeat_interleave_refuses_a_wrong_output_size_or_negative_repeats(compile_, repeats,
                                                                           size):
    with pytest.raises(RuntimeError) as expected:
        torch.repeat_interleave(torch.arange(len(repeats)), torch.tensor(repeats),
                                output_size=size)
    f = compile_(lambda r: gn.repeat_interleave(gn.arange(len(repeats)), r, output_size=size))
    with pytest.raises(RuntimeError) as got:
        f(gn.tensor(repeats))
    assert str(got.value).splitlines()[0] == str(expected.value)


@pytest.mark.parametrize("compile_", _MODES)
def test_repeat_interleave_with_the_right_output_size_still_runs(compile_):
    f = compile_(lambda r: gn.repeat_interleave(gn.arange(4), r, output_size=6))
    assert f(gn.tensor([2, 0, 3, 1])).tolist() == [0, 0, 2, 2, 2, 3]
    assert f(gn.tensor([1, 1, 1, 3])).tolist() == [0, 1, 2, 3, 3, 3]


@pytest.mark.parametrize("compile_", _MODES)
@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_extremum_gradient_of_a_nan_result_is_nan(compile_, reduce):
    # a NaN result equals nothing, so its 0 count gives a NaN gradient (XLA made it 0)
    def grads(lib, run):
        x = lib.tensor([1., 2.], requires_grad=True)
        s = lib.tensor([float("nan"), 0.5], requires_grad=True)

        def f(x, s):
            x.scatter_reduce(0, lib.tensor([0, 1]), s, reduce).sum().backward()
            return x.grad

        run(f)(x, s)
        return x.grad.tolist(), s.grad.tolist()

    assert str(grads(gn, compile_)) == str(grads(torch, lambda f: f))


def _bool_calls():
    calls = [lambda m, i, s: m.index_add(0, i, s), lambda m, i, s: m.index_add(0, i, s, alpha=2),
             lambda m, i, s: m.scatter_add(0, i, s),
             lambda m, i, s: m.scatter(0, i, s, reduce="add")]
    for reduce in ("sum", "prod", "amax", "amin"):
        for include_self in (True, False):
            calls.append(lambda m, i, s, r=reduce, inc=include_self:
                         m.scatter_reduce(0, i, s, r, include_self=inc))
    return calls


@pytest.mark.parametrize("compile_", _MODES)
@pytest.mark.parametrize("call", _bool_calls())
def test_bool_scatters_add_as_or_and_multiply_as_and(compile_, call):
    args = lambda lib: (lib.tensor([False, True, False, True]), lib.tensor([0, 0, 2, 1]),
                        lib.tensor([True, False, True, False]))
    assert compile_(call)(*args(gn)).tolist() == call(*args(torch)).tolist()


@pytest.mark.parametrize("call", [
    lambda lib, m, i, s: m.scatter_reduce(0, i, s, "mean"),
    lambda lib, m, i, s: m.index_reduce(0, i, s, "amax")])
def test_bool_means_and_index_reduce_raise_as_in_torch(call):
    args = lambda lib: (lib.tensor([False, True]), lib.tensor([0, 0]), lib.tensor([True, False]))
    with pytest.raises(NotImplementedError) as expected:
        call(torch, *args(torch))
    with pytest.raises(NotImplementedError) as got:
        call(gn, *args(gn))
    assert str(got.value) == str(expected.value)
