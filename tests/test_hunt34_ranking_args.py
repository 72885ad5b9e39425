"""Arguments PyTorch refuses in sorting and ranking (thirty-fourth session's ranking hunt):
`topk(x, 2.7)` took 2 elements, `topk(x, True)` one, `kthvalue(x, 2.5)` the second,
`histc(x, 2.5)` made 2 bins, `sort(x, 0, False, True)` took `stable` by position, and a
bool sequence searched with bool values gave an answer where PyTorch raises."""

import pytest
import torch

import graphnet as gn

_CALLS = {
    "topk float k": lambda L, x, b: L.topk(x, 2.7),
    "topk bool k": lambda L, x, b: L.topk(x, True),
    "method topk float k": lambda L, x, b: x.topk(2.0),
    "kthvalue float k": lambda L, x, b: L.kthvalue(x, 2.5),
    "kthvalue bool k": lambda L, x, b: x.kthvalue(True),
    "histc float bins": lambda L, x, b: L.histc(x, 2.5),
    "histc None bins": lambda L, x, b: L.histc(x, None),
    "sort stable by position": lambda L, x, b: L.sort(x, 0, False, True),
    "method sort stable by position": lambda L, x, b: x.sort(0, False, True),
    "argsort stable by position": lambda L, x, b: L.argsort(x, 0, False, True),
    "searchsorted bool in bool": lambda L, x, b: L.searchsorted(b, L.tensor([True])),
    "searchsorted python bool": lambda L, x, b: L.searchsorted(b, True),
    "bucketize bool in bool": lambda L, x, b: L.bucketize(L.tensor([True, False]), b),
}

_FINE = {
    "topk tensor k": lambda L, x, b: L.topk(x, L.tensor(2)).values,
    "kthvalue k": lambda L, x, b: L.kthvalue(x, 2).values,
    "sort stable keyword": lambda L, x, b: L.sort(x, stable=True, dim=0, descending=True).indices,
    "argsort descending by position": lambda L, x, b: L.argsort(x, 0, True),
    "searchsorted int in bool": lambda L, x, b: L.searchsorted(b, L.tensor([1, 0])),
    "searchsorted bool in int": lambda L, x, b: L.searchsorted(L.tensor([0, 1]),
                                                                L.tensor([True])),
    "bucketize int in bool": lambda L, x, b: L.bucketize(L.tensor([1]), b),
    "histc tensor bins": lambda L, x, b: L.histc(x, L.tensor(3)),
}


def _run(L, call):
    return call(L, L.tensor([1.0, 3.0, 2.0]), L.tensor([False, True]))


@pytest.mark.parametrize("name", sorted(_CALLS))
def test_refused_as_in_pytorch(name):
    with pytest.raises(Exception) as expected:
        _run(torch, _CALLS[name])
    with pytest.raises(type(expected.value)):
        _run(gn, _CALLS[name])


@pytest.mark.parametrize("name", sorted(_FINE))
def test_accepted_as_in_pytorch(name):
    assert _run(gn, _FINE[name]).tolist() == _run(torch, _FINE[name]).tolist()


def test_compiled_topk_with_an_int_k_still_traces():
    x = gn.tensor([[1.0, 3.0, 2.0], [0.0, -1.0, 5.0]])
    out = gn.compile(lambda t: t.topk(2, dim=1).values * 2)(x)
    assert out.tolist() == [[6.0, 4.0], [10.0, 0.0]]
