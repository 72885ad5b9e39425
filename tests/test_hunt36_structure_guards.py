"""Static mode never runs a program traced for another Python structure. A recursive
network's tree changed after compiling (a leaf relabelled, a child appended) kept the old
program where the guards stopped looking: 8 levels down a tree of Node objects, 4 tuple
levels down a nested-tuple tree, past 1024 objects in a list, inside a set (contents and
iteration order), in a node class with `__slots__`, and in a list subclass's attributes.
Found by the TreeLSTM hunt."""

import numpy as np
import pytest

import graphnet

EMB = graphnet.arange(40.0).reshape(10, 4) / 10


class Node:
    def __init__(self, word=None, children=()):
        self.word, self.children = word, list(children)


class SlotNode:
    __slots__ = ("word", "children")

    def __init__(self, word=None, children=()):
        self.word, self.children = word, list(children)


class Tree(list):
    def __init__(self, word, children=()):
        super().__init__(children)
        self.word = word


def _chain(cls, depth):
    t = cls(word=0)
    for k in range(1, depth):
        t = cls(children=[t, cls(word=k % 7)])
    return t


def _value(n):
    if isinstance(n, Tree):
        return EMB[n.word] + sum((_value(c) for c in n), graphnet.zeros(4))
    if n.word is not None:
        return EMB[n.word]
    return graphnet.stack([_value(c) for c in n.children]).sum(0)


def _deepest(tree):
    while tree.word is None:
        tree = tree.children[0]
    return tree


@pytest.mark.parametrize("cls", [Node, SlotNode])
@pytest.mark.parametrize("depth", [5, 12, 30])
def test_a_deep_leaf_relabelled_after_compiling(cls, depth):
    tree = _chain(cls, depth)
    f = graphnet.compile(lambda t: _value(t).sum())
    f(tree)
    _deepest(tree).word = 6
    assert f(tree).item() == pytest.approx(_value(tree).sum().item())


def test_deeper_than_the_guards_go_is_refused():
    tree = _chain(Node, 40)
    with pytest.raises(graphnet.TraceError, match="levels down"):
        graphnet.compile(lambda t: _value(t).sum())(tree)


def test_a_list_subclass_tree_keeps_its_words():
    f = graphnet.compile(lambda t: _value(t).sum())
    first = Tree(0, [Tree(1), Tree(2)])
    f(first)
    other = Tree(2, [Tree(3), Tree(3)])
    assert f(other).item() == pytest.approx(_value(other).sum().item())
    first.word = 5
    assert f(first).item() == pytest.approx(_value(first).sum().item())


LEAF = [0]
NESTED = (((((((LEAF, 0), 1), 2), 3), 4), 5))


def _nested_value(t):
    if isinstance(t, tuple):
        return _nested_value(t[0]) * 2 + EMB[t[1]]
    return EMB[t[0]]


def test_a_list_leaf_deep_in_a_global_tuple_tree():
    f = graphnet.compile(lambda: _nested_value(NESTED).sum())
    f()
    LEAF[0] = 6
    try:
        assert f().item() == pytest.approx(_nested_value(NESTED).sum().item())
    finally:
        LEAF[0] = 0


class Graph:
    def __init__(self, n):
        self.nodes = [Node(word=i % 7) for i in range(n)]


@pytest.mark.parametrize("n", [1000, 1100])
def test_a_node_in_a_long_list_changed(n):
    g = Graph(n)
    f = graphnet.compile(lambda g: EMB[g.nodes[-1].word] * len(g.nodes))
    f(g)
    g.nodes[-1].word = (g.nodes[-1].word + 1) % 7
    np.testing.assert_allclose(f(g).numpy(), (EMB[g.nodes[-1].word] * n).numpy())


def _neighbours(nb):
    return graphnet.stack([EMB[i] for i in nb]).reshape(-1)


def test_a_set_argument_changed_in_place():
    f = graphnet.compile(_neighbours)
    nb = {1, 2}
    f(nb)
    nb.add(5)
    np.testing.assert_allclose(f(nb).numpy(), _neighbours(nb).numpy())


ADJACENCY = {9, 1}


def test_a_global_set_in_another_iteration_order():
    f = graphnet.compile(lambda: _neighbours(ADJACENCY))
    before = f().numpy()
    ADJACENCY.clear()
    ADJACENCY.update([1, 9])
    order = list(ADJACENCY)
    np.testing.assert_allclose(f().numpy(), _neighbours(order).numpy())
    if order != [9, 1]:
        assert not np.array_equal(before, f().numpy())
