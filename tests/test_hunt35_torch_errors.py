"""Errors PyTorch raises that graphnet computed through: clamp with one Tensor bound and one
number bound (TypeError), sort/argsort with a positional `dim` beside `stable=` (TypeError:
that overload takes keywords), and a backward through scatter's `reduce=` forms (PyTorch
defines no derivative; graphnet gave scatter_reduce's gradient)."""

import pytest
import torch

import graphnet


@pytest.mark.parametrize("lib", [torch, graphnet], ids=["torch", "graphnet"])
@pytest.mark.parametrize("call", [
    lambda L, t: L.clamp(t, min=L.zeros(3), max=1.0),
    lambda L, t: t.clamp(L.zeros(3), 1.0),
    lambda L, t: t.clamp_(0.0, L.ones(3)),
    lambda L, t: L.clip(t, L.zeros(3), 1.0),
], ids=["function", "method", "inplace", "clip"])
def test_clamp_with_a_tensor_and_a_number_bound_raises_type_error(lib, call):
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        call(lib, lib.ones(3))


def test_clamp_with_bounds_of_one_kind_still_runs():
    t = graphnet.tensor([-2.0, 0.5, 3.0])
    assert graphnet.clamp(t, graphnet.zeros(3), None).tolist() == [0.0, 0.5, 3.0]
    assert graphnet.clamp(t, 0.0, 1.0).tolist() == [0.0, 0.5, 1.0]
    assert graphnet.clamp(t, graphnet.zeros(3), graphnet.ones(3)).tolist() == [0.0, 0.5, 1.0]


@pytest.mark.parametrize("lib", [torch, graphnet], ids=["torch", "graphnet"])
@pytest.mark.parametrize("call", [
    lambda L, t: L.argsort(t, 1, stable=True),
    lambda L, t: t.argsort(1, True, stable=True),
    lambda L, t: L.sort(t, 1, stable=True),
], ids=["argsort", "method", "sort"])
def test_positional_dim_beside_stable_raises_type_error(lib, call):
    with pytest.raises(TypeError):     # torch's wording differs between the two methods
        call(lib, lib.tensor([[3.0, 1.0, 2.0]]))


def test_keyword_and_plain_forms_still_sort():
    t = graphnet.tensor([[3.0, 1.0, 2.0]])
    assert graphnet.argsort(t, dim=1, stable=True).tolist() == [[1, 2, 0]]
    assert graphnet.argsort(t, 1, True).tolist() == [[0, 2, 1]]
    assert t.sort(stable=True, dim=-1).values.tolist() == [[1.0, 2.0, 3.0]]


@pytest.mark.parametrize("reduce", ["add", "multiply"])
@pytest.mark.parametrize("compiled", [False, True])
def test_backward_through_scatter_with_reduce_raises(reduce, compiled):
    idx = graphnet.tensor([[0, 0], [1, 0]])
    src = graphnet.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)

    def f(s):
        return graphnet.ones(2, 2).scatter(0, idx, s, reduce=reduce).sum()

    want = torch.ones(2, 2).scatter(0, torch.tensor(idx.tolist()),
                                    torch.tensor(src.tolist()), reduce=reduce).sum().item()
    out = (graphnet.compile(f) if compiled else f)(src)
    assert out.item() == want
    with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
        out.backward()
    assert src.grad is None
