"""A compiled call under `inference_mode()` returns what eager code returns there: inference
tensors for the results it makes, normal ones for an argument it returns, a view or a
detached alias of one (PyTorch: a view of a normal tensor is normal); and a program traced
outside inference_mode is not reused inside it (the code may read the mode)."""

from __future__ import annotations

from parity import torch

import graphnet


def _flags(results) -> list:
    return [t.is_inference() for t in results]


def _returns(lib):
    return lambda x: (x * 2 + 1, x.view(3), x.detach(), x, (x + 1).sum())


def test_results_made_under_inference_mode_are_inference_tensors():
    fn = _returns(graphnet)
    compiled = graphnet.compile(fn)
    x, tx = graphnet.ones(3), torch.ones(3)
    with torch.inference_mode():
        want = _flags(_returns(torch)(tx))
    with graphnet.inference_mode():
        assert _flags(fn(x)) == want == [True, False, False, False, True]
        assert _flags(compiled(x)) == want
        assert _flags(compiled(x)) == want   # the cached program too
    assert _flags(compiled(x)) == [False] * 5


def test_an_inference_result_cannot_join_autograd_later():
    compiled = graphnet.compile(lambda x: x * 2)
    w = graphnet.ones(3, requires_grad=True)
    with graphnet.inference_mode():
        y = compiled(graphnet.ones(3))
    assert y.is_inference() and not y.requires_grad
    try:
        (y * w).sum().backward()
    except RuntimeError as err:
        assert "Inference tensors cannot be saved for backward" in str(err)
    else:
        raise AssertionError("an inference tensor was saved for backward")


def test_a_program_traced_under_no_grad_is_not_reused_in_inference_mode():
    compiled = graphnet.compile(lambda x: (x + 1, graphnet.is_inference_mode_enabled()))
    x = graphnet.ones(2)
    with graphnet.no_grad():
        assert compiled(x)[1] is False
    with graphnet.inference_mode():
        y, flag = compiled(x)
        assert flag is True and y.is_inference()
    with graphnet.no_grad():
        y, flag = compiled(x)
        assert flag is False and not y.is_inference()
    assert compiled.explain()["recompile_reasons"][:2] == ["first call",
                                                          "inference mode False -> True"]
