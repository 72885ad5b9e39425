"""Embedding edges (thirty-fourth session's embeddings hunt): the top-level
`embedding(weight, indices, ...)` dropped `scale_grad_by_freq` and read a negative
`padding_idx` as `F.embedding` does (aten compares it with the indices as given);
`F.embedding_bag` took float offsets (1.9 read as 1) and an integer weight; a list given
to `F.embedding` raised AttributeError; `Parameter(t).data_ptr()` differed from t's."""

import numpy as np
import pytest
import torch

import graphnet as gn

_INDICES = [0, 1, 1, 2, 2, 2, 3]


@pytest.mark.parametrize("kwargs", [dict(scale_grad_by_freq=True), dict(padding_idx=-2),
                                    dict(padding_idx=7), dict(padding_idx=2),
                                    dict(padding_idx=-1),
                                    dict(padding_idx=1, scale_grad_by_freq=True)])
@pytest.mark.parametrize("compile_", [lambda f: f, gn.compile], ids=["dynamic", "static"])
def test_top_level_embedding_gradient(kwargs, compile_):
    w0 = torch.ones(4, 3, requires_grad=True)
    torch.embedding(w0, torch.tensor(_INDICES), **kwargs).sum().backward()
    w = gn.ones(4, 3, requires_grad=True)
    compile_(lambda w, i: gn.embedding(w, i, **kwargs).sum())(w, gn.tensor(_INDICES)).backward()
    np.testing.assert_array_equal(w.grad.numpy(), w0.grad.numpy())


_REFUSED = {
    "float offsets": lambda L: L.nn.functional.embedding_bag(
        L.tensor([1, 2, 3]), L.ones(5, 3), L.tensor([0.0, 1.9]), mode="sum"),
    "int weight": lambda L: L.nn.functional.embedding_bag(
        L.tensor([1, 2, 3]), L.arange(15).reshape(5, 3), L.tensor([0, 1]), mode="sum"),
    "list indices": lambda L: L.nn.functional.embedding([1, 2], L.ones(3, 2)),
    "list weight": lambda L: L.nn.functional.embedding(L.tensor([1]), [[1.0, 2.0]]),
}


@pytest.mark.parametrize("name", sorted(_REFUSED))
def test_refused_as_in_pytorch(name):
    with pytest.raises(Exception) as expected:
        _REFUSED[name](torch)
    with pytest.raises(type(expected.value)):
        _REFUSED[name](gn)


def test_int32_offsets_and_half_weight_still_work():
    out = gn.nn.functional.embedding_bag(gn.tensor([1, 2, 3]), gn.ones(5, 3, dtype=gn.float16),
                                         gn.tensor([0, 1], dtype=gn.int32), mode="sum")
    assert out.dtype == gn.float16 and out.tolist() == [[1.0] * 3, [2.0] * 3]


def test_a_parameter_reports_the_address_of_the_storage_it_shares():
    for L in (torch, gn):
        base = L.ones(3, 2)
        weight = L.nn.Embedding.from_pretrained(base, freeze=False).weight
        assert weight.data_ptr() == base.data_ptr()
        assert L.nn.Parameter(L.ones(3, 2)).data_ptr() != base.data_ptr()
        assert weight[1].data_ptr() - base.data_ptr() == 8
