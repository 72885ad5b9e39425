"""PyTorch's strides for views, and what follows from them: `contiguous()` and `reshape()` of a
non-contiguous view copy (writes to the result leave the source alone), `view()` of one raises
where PyTorch does, `expand` is a view that follows its source and refuses writes
(graphnet/_strides.py)."""

import graphnet as gt
import pytest
import torch

pytestmark = pytest.mark.filterwarnings("ignore")


def _views(L):
    x, y = L.arange(12.0).reshape(3, 4), L.arange(24.0).reshape(2, 3, 4)
    return {
        "t": lambda: x.t(), "step slice": lambda: x[:, ::2], "column slice": lambda: x[:, 1:],
        "row": lambda: x[1], "column": lambda: x[:, 1], "permute": lambda: y.permute(2, 0, 1),
        "expand": lambda: L.zeros(3).expand(2, 3), "unsqueeze of t": lambda: x.t().unsqueeze(1),
        "diagonal": lambda: x.diagonal(), "diagonal 1": lambda: x.diagonal(1),
        "reshape kept a view": lambda: y.transpose(1, 2).reshape(2, 4, 3),
        "narrow": lambda: x.narrow(1, 1, 2), "chunk": lambda: y.chunk(2, 2)[1],
        "None": lambda: x[None, :, 1:], "ellipsis": lambda: y[..., 1],
        "squeeze": lambda: y[:, :1].squeeze(1), "mT": lambda: y.mT, "T": lambda: x.T,
        "unbind": lambda: y.unbind(1)[2], "select": lambda: y.select(2, 3),
        "view": lambda: y.view(6, 4), "movedim": lambda: y.movedim(0, 2),
        "flatten of a slice": lambda: y[:, 1:].flatten(1),
        "expand_as": lambda: L.zeros(1, 4).expand_as(x),
        "broadcast_to": lambda: L.broadcast_to(L.zeros(4), (3, 4)),
        "as_strided": lambda: x.as_strided((2, 2), (1, 2), 1),
        "contiguous of t": lambda: x.t().contiguous(), "an op's result": lambda: x.t() + 1,
    }


NAMES = list(_views(torch))


@pytest.mark.parametrize("name", NAMES)
def test_strides_contiguity_and_offset_match_torch(name):
    def facts(t):
        return tuple(t.stride()), t.is_contiguous(), t.storage_offset()

    want, got = facts(_views(torch)[name]()), facts(_views(gt)[name]())
    if name == "an op's result":    # torch keeps the input's strides; graphnet is row-major
        assert got == ((3, 1), True, 0)
        return
    assert got == want


def _writes(L) -> list:
    out = []
    x = L.zeros(3, 4)
    y = x.t().contiguous()
    y[0, 1] = 99                        # a copy: x stays zero
    out.append(x.sum().item())
    x = L.zeros(3, 4)
    x.t().reshape(12)[1] = 99           # reshape had to copy
    out.append(x.sum().item())
    x = L.zeros(3, 4)
    x[:, 1:].reshape(9).fill_(5)
    out.append(x.sum().item())
    x = L.zeros(2, 3, 4)
    x.transpose(1, 2).reshape(2, 4, 3).fill_(1)      # a view: it writes through
    out.append(x.sum().item())
    x = L.zeros(3, 4)
    z = x.contiguous()                  # already contiguous: the same tensor
    z[0, 0] = 5
    out.append(x.sum().item())
    x = L.zeros(3)
    e = x.expand(2, 3)
    x.add_(1)                           # an expanded view follows its source
    out.append(e.sum().item())
    return out


def test_writes_reach_the_source_exactly_where_torch_shares_storage():
    assert _writes(gt) == _writes(torch) == [0.0, 0.0, 0.0, 24.0, 5.0, 6.0]


def test_view_of_a_non_contiguous_tensor_and_writes_to_an_expansion_raise_as_in_torch():
    for L in (torch, gt):
        with pytest.raises(RuntimeError, match="view size is not compatible with input "
                                               "tensor's size and stride"):
            L.zeros(3, 4).t().view(12)
        with pytest.raises(RuntimeError, match="more than one element of the written-to "
                                               "tensor refers to a single memory location"):
            L.zeros(3).expand(2, 3).add_(1)


def test_compiled_contiguous_copies_as_eager_mode_does():
    @gt.compile
    def f(x):
        y = x.t().contiguous()
        y.mul_(2)
        return x.sum(), y.sum()

    x = gt.ones(3, 4)
    assert [v.item() for v in f(x)] == [12.0, 24.0]
    assert x.sum().item() == 12.0
