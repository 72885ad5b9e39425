"""Results a compiled function makes under its own `inference_mode()` are inference tensors,
as eagerly and in torch (thirty-second session's evaluation-loop hunt: only a call made
under inference_mode marked them, so their in-place and backward errors never came)."""

import pytest
import torch

import graphnet as gn


def _outputs(lib, compile_):
    lib.manual_seed(0)
    m = lib.nn.Linear(3, 2)

    def f(x):
        with lib.inference_mode():
            a = m(x)
            v = a[0]
        with lib.no_grad():
            b = m(x)
        return a, b, m(x), v, x

    return compile_(f)(lib.ones(1, 3))


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
def test_which_results_are_inference_tensors(compile_):
    expected = [t.is_inference() for t in _outputs(torch, lambda f: f)]
    assert [t.is_inference() for t in _outputs(gn, compile_)] == expected
    assert expected == [True, False, False, True, False]


@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile])
def test_an_inference_result_refuses_inplace_and_backward_outside(compile_):
    out = _outputs(gn, compile_)[0]
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside"):
        out.add_(1)
    w = gn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        (out * w).sum().backward()


def test_a_decorated_predict_function_compiled():
    m = gn.nn.Linear(3, 2)

    @gn.inference_mode()
    def predict(x):
        return m(x) * 2

    static = gn.compile(predict)(gn.ones(1, 3))
    assert static.is_inference() and gn.equal(static, predict(gn.ones(1, 3)))
