"""Interop cases from the thirty-first session's hunt, compared with torch 2.13."""

import numpy as np
import pytest
import torch

import graphnet as gn


def test_numpy_of_a_parameter_under_no_grad():
    for lib in (torch, gn):
        m = lib.nn.Linear(2, 2)
        with lib.no_grad():
            assert m.weight.numpy().shape == (2, 2)
        with pytest.raises(RuntimeError, match="requires grad"):
            m.weight.numpy()


class _Scale:
    def __rmul__(self, t):
        return "rmul"

    def __radd__(self, t):
        return "radd"


@pytest.mark.parametrize("lib", [torch, gn])
def test_operators_leave_foreign_operands_to_python(lib):
    t = lib.tensor([1., 2.])
    assert t * _Scale() == "rmul" and t + _Scale() == "radd"
    for expression in ("t + None", "t < None", "t & None", "t @ None", "None * t",
                       "t + (1,)"):
        with pytest.raises(TypeError):
            eval(expression)
    assert (t * np.float32(2)).tolist() == [2.0, 4.0]


def test_finfo_and_iinfo_dtype_is_a_string():
    for lib in (torch, gn):
        assert lib.finfo(lib.float16).dtype == "float16"
        assert lib.iinfo(lib.int32).dtype == "int32"
        assert lib.finfo().dtype == "float32"
    assert repr(gn.iinfo(gn.uint8)) == repr(torch.iinfo(torch.uint8))
