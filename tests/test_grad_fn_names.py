"""grad_fn introspection against PyTorch: each node's class carries PyTorch's name
(`type(y.grad_fn).__name__ == "MulBackward0"`), layout and indexing ops give PyTorch's names,
and `next_functions` leads to the leaves' gradient accumulators."""

import numpy as np
import pytest
import torch

import graphnet as gn
from graphnet._index_grad_fn import index_backward_name

X = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)


def pair():
    return torch.tensor(X, requires_grad=True), gn.tensor(X, requires_grad=True)


def names(y) -> tuple:
    """The grad_fn's class name, `name()`, and the names of the nodes it leads to."""
    node = y.grad_fn
    follow = tuple(None if n is None else type(n).__name__ for n, _ in node.next_functions)
    return type(node).__name__, node.__class__.__name__, node.name(), follow


@pytest.mark.parametrize("make", [
    lambda lib, x: (x * 2.0).sum(),
    lambda lib, x: x.exp() + x,
    lambda lib, x: x @ x.t(),
    lambda lib, x: x.t(),
    lambda lib, x: x.t().t(),
    lambda lib, x: x.transpose(0, 1),
    lambda lib, x: x.permute(1, 0),
    lambda lib, x: x.view(-1),
    lambda lib, x: x.reshape(4, 3),
    lambda lib, x: x.flatten(),
    lambda lib, x: x.narrow(0, 0, 1).expand(3, 4),
    lambda lib, x: x.unsqueeze(1),
    lambda lib, x: x.unsqueeze(0).squeeze(),
    lambda lib, x: x.unsqueeze(0).squeeze(0),
    lambda lib, x: x.unsqueeze(0).squeeze((0,)),
    lambda lib, x: x.narrow(1, 1, 2),
    lambda lib, x: x.narrow(0, 0, 3),
    lambda lib, x: x.unbind(1)[2],
    lambda lib, x: x.split(2)[1],
    lambda lib, x: x.split([1, 2])[0],
    lambda lib, x: x.chunk(2, 1)[1],
    lambda lib, x: x.diagonal(),
    lambda lib, x: x.T,
    lambda lib, x: x.mT,
    lambda lib, x: x.clone(),
    lambda lib, x: x.to(lib.float64),
])
def test_grad_fn_class_and_names_like_torch(make):
    xt, xg = pair()
    assert names(make(gn, xg)) == names(make(torch, xt))


def test_linear_node_class_like_torch():
    # NOTE: only the top node: PyTorch's addmm also leads to the weight's TBackward0
    xt, xg = pair()
    for lib, x in ((torch, xt), (gn, xg)):
        node = lib.nn.functional.linear(x, x, lib.ones(3)).grad_fn
        assert type(node).__name__ == node.name() == "AddmmBackward0"


def test_node_class_prints_like_torch_and_is_made_once():
    xt, xg = pair()
    t, g = (xt * 2).grad_fn, (xg * 2).grad_fn
    assert str(type(g)) == str(type(t)) == "<class 'MulBackward0'>"
    assert repr(g).split(" object")[0] == repr(t).split(" object")[0]
    assert type((xg * 3).grad_fn) is type(g)            # one class per backward name
    assert isinstance(g, gn._autograd.TapeNode)


def test_next_functions_reach_leaves_like_torch():
    for x in pair():
        y = (x * x.exp()).sum()
        (mul, _), = y.grad_fn.next_functions
        assert type(mul).__name__ == "MulBackward0"
        leaf, exp = mul.next_functions
        assert type(leaf[0]).__name__ == "AccumulateGrad" and leaf[0].variable is x
        assert type(exp[0]).__name__ == "ExpBackward0"


@pytest.mark.parametrize("index", [
    0, -1, (0,), (slice(None), 0), slice(1, None), slice(None), slice(None, None, 2), None,
    (Ellipsis, 0), (0, slice(1, None)), (slice(None), None), (slice(1, None), slice(1, None)),
    (slice(1, None), 0), (slice(None), slice(None)), (slice(0, 10), slice(None)),
    (slice(-3, None), slice(None)), (slice(None), slice(0, 4, 1)), (slice(None), slice(0, 0)),
    (), Ellipsis, (Ellipsis, slice(None)), (Ellipsis, 0, None), (0, Ellipsis, slice(1, None)),
    (None, 0), [0, 1], ([0, 1], slice(1, None)), True, np.int64(1), np.array(1),
])
def test_index_backward_name_like_torch(index):
    xt = torch.tensor(X, requires_grad=True)
    assert index_backward_name(index, (3, 4)) == xt[index].grad_fn.name()
    xg = gn.tensor(X, requires_grad=True)           # and on the node `x[index]` records
    want = xt[index].grad_fn
    assert xg[index].grad_fn.name() == want.name()
    assert type(xg[index].grad_fn).__name__ == type(want).__name__


def test_index_backward_name_of_tensor_indices_like_torch():
    xt = torch.tensor(X, requires_grad=True)
    for it, ig in ((torch.tensor(1), gn.tensor(1)), (torch.tensor([1]), gn.tensor([1])),
                   (xt > 0, gn.tensor(X) > 0), (torch.tensor(True), gn.tensor(True))):
        assert index_backward_name(ig, (3, 4)) == xt[it].grad_fn.name()


def test_grad_fn_metadata_is_a_dict_kept_on_the_node_like_torch():
    for x in pair():
        node = (x * 2).sum().grad_fn
        assert node.metadata == {}
        node.metadata["step"] = 3
        assert node.metadata == {"step": 3}
