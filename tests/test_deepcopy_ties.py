"""copy.deepcopy and pickle of tensors and Parameters, against PyTorch: the copies of a view
and its source stay tied to each other (never to the originals), a non-leaf refuses to be
copied, and a pickled Parameter keeps its attributes."""

import copy
import pickle

import numpy as np
import pytest
import torch

import graphnet


def _lists(tensors):
    return [t.tolist() for t in tensors]


def test_writes_through_copies_of_views_and_aliases():
    got = []
    for L in (torch, graphnet):
        b = L.arange(6.).reshape(2, 3)
        originals = [b, b[1], b.t(), b.detach(), b[0].expand(2, 3)]
        c = copy.deepcopy(originals)
        c[1].add_(10)             # a view's write reaches its source's copy and the others
        c[2][0, 0] = -1.0
        c[3][1, 2] = 99.0         # an alias's too
        b.add_(1000)              # the original's writes reach no copy
        got.append((_lists(c), _lists(originals)))
    assert got[0] == got[1]
    assert got[1][0][4] == [[-1.0, 1.0, 2.0]] * 2


def test_view_tie_against_torch():
    for order in (lambda b: [b, b[1]], lambda b: [b[1], b]):
        results = []
        for L in (torch, graphnet):
            b = L.arange(6.).reshape(2, 3)
            c = copy.deepcopy(order(b))
            whole = c[0] if c[0].dim() == 2 else c[1]
            row = c[1] if whole is c[0] else c[0]
            whole.add_(10)
            results.append((row.tolist(), b.tolist()))
        assert results[0] == results[1] == ([13.0, 14.0, 15.0], [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])


def test_a_lone_view_and_siblings():
    for L in (torch, graphnet):
        b = L.arange(6.).reshape(2, 3)
        lone = copy.deepcopy(b[1])
        lone.add_(1)
        assert lone.tolist() == [4.0, 5.0, 6.0] and b.tolist()[1] == [3.0, 4.0, 5.0]
        first, second = copy.deepcopy([b[1], b[0]])   # share a copied storage, apart
        first.add_(10)
        assert second.tolist() == [0.0, 1.0, 2.0] and first.tolist() == [13.0, 14.0, 15.0]


def _module(L):
    class M(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("a", L.arange(4.))
            self.register_buffer("v", self.a[1:3])
    return M()


def test_module_buffer_view_stays_a_view():
    got = []
    for L in (torch, graphnet):
        m = _module(L)
        m2 = copy.deepcopy(m)
        m2.a.add_(100)
        got.append((m2.v.tolist(), m.v.tolist(), m.a.tolist()))
    assert got[0] == got[1] == ([101.0, 102.0], [1.0, 2.0], [0.0, 1.0, 2.0, 3.0])


def test_parameter_copy_is_its_own_clone():
    # PyTorch's Parameter.__deepcopy__ clones: a view of the parameter in the same copy
    # shares another copy of its values, not the parameter's copy
    got = []
    for L in (torch, graphnet):
        w = L.nn.Parameter(L.ones(2))
        w.foo = 5
        w.grad = L.full((2,), 3.0)
        cw, cv = copy.deepcopy([w, w.detach()[0]])
        with L.no_grad():
            cw.mul_(3)
        got.append((type(cw).__name__, cw.tolist(), cv.item(), hasattr(cw, "foo"),
                    cw.grad is None, cw.requires_grad))
    assert got[0] == got[1]


def test_plain_tensor_copy_keeps_grad_and_attributes():
    got = []
    for L in (torch, graphnet):
        x = L.ones(2, requires_grad=True)
        x.grad = L.full((2,), 3.0)
        x.tag = "kept"
        y = copy.deepcopy(x)
        got.append((y.grad.tolist(), y.tag, y.requires_grad, y.is_leaf))
    assert got[0] == got[1]


def test_non_leaf_refuses_deepcopy_with_torchs_message():
    messages = []
    for L in (torch, graphnet):
        x = L.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            copy.deepcopy(x * 2)
        messages.append(str(info.value))
        assert copy.deepcopy((x * 2).detach()).tolist() == [2.0, 2.0]
    assert messages[0] == messages[1]


def test_pickled_parameter_keeps_attributes_not_grad():
    got = []
    for L in (torch, graphnet):
        w = L.nn.Parameter(L.ones(2))
        w.foo = 5
        w.grad = L.full((2,), 3.0)
        back = pickle.loads(pickle.dumps(w))
        got.append((type(back).__name__, back.foo, back.grad is None, back.requires_grad,
                    back.tolist()))
        plain = pickle.loads(pickle.dumps(L.nn.Parameter(L.ones(1), requires_grad=False)))
        assert not plain.requires_grad and not plain.__dict__.get("foo")
    assert got[0] == got[1]


def test_pickled_tensor_drops_grad_keeps_attributes():
    got = []
    for L in (torch, graphnet):
        x = L.ones(2, requires_grad=True)
        x.grad = L.full((2,), 3.0)
        x.bar = 7
        back = pickle.loads(pickle.dumps(x))
        got.append((back.grad is None, back.bar, back.requires_grad))
    assert got[0] == got[1] == (True, 7, True)


def test_pickle_after_data_swap_and_copy_of_int64():
    x = graphnet.ones(2)
    x.data = graphnet.zeros(2)        # left weak references behind that pickle refused
    assert pickle.loads(pickle.dumps(x)).tolist() == [0.0, 0.0]
    big = graphnet.tensor([2 ** 40])
    assert copy.deepcopy(big).dtype == graphnet.int64
    np.testing.assert_array_equal(copy.deepcopy(big).numpy(), [2 ** 40])
