"""`Tensor.unfold` is a view with PyTorch's strides: a write through it lands on the right
elements of a transposed source (it scrambled them: the window positions went through the
source's storage order), and `stride()`/`is_contiguous()`/`view()` answer as PyTorch's
(`arange(10).unfold(0, 3, 2).view(-1)` ran and returned the overlapping elements)."""
import pytest
import torch

import graphnet as G

WRITES = {
    "transposed": lambda L, a: a.t().unfold(0, 2, 2)[1].fill_(-1),
    "transposed overlapping": lambda L, a: a.t().unfold(0, 2, 1)[0].fill_(100),
    "column slice": lambda L, a: a[:, 1:].unfold(1, 2, 2).mul_(-1),
}


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("case", sorted(WRITES))
def test_writes_through_unfold(case, compiled):
    def run(L, a):
        WRITES[case](L, a)
        return a * 1

    want = run(torch, torch.arange(24.0).reshape(4, 6)).tolist()
    fn = (lambda a: run(G, a))
    got = (G.compile(fn) if compiled else fn)(G.arange(24.0).reshape(4, 6)).tolist()
    assert got == want


VIEWS = {
    "1-d": lambda a: a.reshape(-1)[:10].unfold(0, 3, 2),
    "row slice": lambda a: a[1:].unfold(1, 2, 2),
    "transposed": lambda a: a.t().unfold(0, 3, 1),
    "column slice": lambda a: a[:, 1:].unfold(0, 2, 1),
}


@pytest.mark.parametrize("case", sorted(VIEWS))
def test_strides_and_view_as_torch(case):
    want = VIEWS[case](torch.arange(24.0).reshape(4, 6))
    got = VIEWS[case](G.arange(24.0).reshape(4, 6))
    assert got.stride() == want.stride() and got.storage_offset() == want.storage_offset()
    assert got.is_contiguous() == want.is_contiguous()
    if not want.is_contiguous():
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            want.view(-1)
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            got.view(-1)
