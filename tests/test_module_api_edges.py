"""Module API edges against PyTorch: PReLU on 0-d and mismatched inputs, Hardtanh's bound
checks, Sequential repetition, ParameterDict.fromkeys and the type of a bad module name."""

import numpy as np
import pytest
import torch

import graphnet as gn


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
def test_prelu_keeps_a_zero_dim_input_zero_dim(compiled):
    results = []
    for lib in (torch, gn):
        m = lib.nn.PReLU()
        x = lib.tensor(-2.0, requires_grad=True)
        fn = gn.compile(m) if compiled and lib is gn else m
        y = fn(x)
        (y * 3).backward()
        results.append((tuple(y.shape), float(y), float(x.grad), m.weight.grad.tolist()))
        if not (compiled and lib is gn):   # a compiled forward's node is named after its graph
            assert y.grad_fn.name() == "PreluKernelBackward0"
    assert results[1] == results[0] == ((), -0.5, 0.75, [-6.0])


@pytest.mark.parametrize("x_shape, w_size", [((5,), 5), ((2, 3), 4), ((), 2)], ids=str)
def test_prelu_refuses_slopes_that_do_not_fit_the_channels(x_shape, w_size):
    errors = []
    for lib in (torch, gn):
        x = lib.tensor(np.ones(x_shape, np.float32))
        with pytest.raises(RuntimeError) as info:
            lib.nn.functional.prelu(x, lib.full((w_size,), 0.25))
        errors.append(str(info.value).split(".")[0])
    assert errors[0] == errors[1]


def test_hardtanh_bounds_are_checked_as_pytorch():
    for lib in (torch, gn):
        with pytest.raises(AssertionError, match="must be greater than min_val"):
            lib.nn.Hardtanh(2.0, 1.0)
        with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
            lib.nn.functional.hardtanh(lib.ones(2), 2.0, 1.0)
    assert gn.nn.functional.hardtanh(gn.tensor([0.0, 5.0]), 1.0, 1.0).tolist() == [1.0, 1.0]


def test_sequential_repeats_its_modules():
    for lib in (torch, gn):
        s = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh())
        doubled, left = s * 2, 3 * s
        assert [type(m).__name__ for m in doubled] == ["ReLU", "Tanh"] * 2
        assert len(left) == 6 and doubled[2] is s[0]     # the same modules, not copies
        with pytest.raises(ValueError, match="Non-positive multiplication factor 0"):
            s * 0
        with pytest.raises(TypeError, match="unsupported operand"):
            s * 1.5
        same = s
        s *= 2
        assert s is same and len(s) == 4


def test_parameter_dict_fromkeys():
    for lib in (torch, gn):
        d = lib.nn.ParameterDict({"w": lib.nn.Parameter(lib.ones(1))})
        empty = d.fromkeys(["x", "y"])
        assert list(empty.keys()) == ["x", "y"] and empty["x"] is None
        filled = d.fromkeys(["x"], lib.ones(2))
        assert isinstance(filled["x"], lib.nn.Parameter) and filled["x"].tolist() == [1.0, 1.0]


def test_a_module_name_that_is_not_a_string_is_a_type_error():
    for lib in (torch, gn):
        with pytest.raises(TypeError, match="module name should be a string. Got int"):
            lib.nn.Module().register_module(3, lib.nn.ReLU())
        with pytest.raises(TypeError, match="module name should be a string"):
            lib.nn.ModuleDict()[3] = lib.nn.ReLU()
        with pytest.raises(KeyError, match="empty string"):
            lib.nn.Module().add_module("", lib.nn.ReLU())


def test_prelu_of_an_int_input_raises_pytorchs_error_for_each_weight():
    for weight_dtype, error, words in (("float32", RuntimeError, "Type promoting not supported"),
                                       ("int64", NotImplementedError, "not implemented for")):
        for lib in (torch, gn):
            x = lib.ones(3, dtype=lib.int64)
            w = lib.ones(1, dtype=getattr(lib, weight_dtype))
            with pytest.raises(error, match=words):
                lib.nn.functional.prelu(x, w)
