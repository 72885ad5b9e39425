"""Everyday idioms a sweep of user programs found differing from torch: a 0-d integer tensor
as an index in an augmented assignment (the confusion-matrix loop), `nonzero(as_tuple=True)`
of a 0-d tensor, and torch's exception types for `histc` of integers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphnet as G


def _confusion(lib, targets, preds):
    cm = lib.zeros(3, 3, dtype=lib.int64)
    for a, b in zip(lib.tensor(targets), lib.tensor(preds)):
        cm[a, b] += 1
    return cm


def test_confusion_matrix_loop_with_tensor_indices():
    targets, preds = [0, 1, 2, 2, 1, 0, 2], [0, 2, 2, 1, 1, 0, 2]
    np.testing.assert_array_equal(_confusion(G, targets, preds).numpy(),
                                  _confusion(torch, targets, preds).numpy())


@pytest.mark.parametrize("index", [
    lambda lib: lib.tensor(1),
    lambda lib: (lib.tensor(0), slice(1, None)),
    lambda lib: (lib.tensor(1), lib.tensor(2)),
])
def test_augmented_assignment_through_a_0d_tensor_index(index):
    out = []
    for lib in (torch, G):
        x = lib.arange(12.0).view(3, 4)
        i = index(lib)
        x[i] += 5
        x[i] *= 2
        out.append(x.numpy())
    np.testing.assert_array_equal(out[1], out[0])


def test_augmented_assignment_compiled():
    def f(x, a, b):
        x[a, b] += 1
        return x
    x, a, b = G.zeros(2, 2), G.tensor(1), G.tensor(0)
    got = G.compile(f)(x, a, b)
    assert got.numpy().tolist() == [[0, 0], [1, 0]]
    assert x.numpy().tolist() == [[0, 0], [1, 0]]


def test_partial_overlap_still_refused():
    """The 0-d index case is the place itself; a shifted copy still overlaps partly."""
    for lib in (torch, G):
        x = lib.arange(6.0).view(2, 3)
        with pytest.raises(RuntimeError, match="single memory location"):
            x[lib.tensor(0), 1:] = x[0, :2]


@pytest.mark.parametrize("value", [5, 0, -2.5, True, False])
def test_nonzero_as_tuple_of_a_0d_tensor(value):
    t_out = torch.tensor(value).nonzero(as_tuple=True)
    g_out = G.tensor(value).nonzero(as_tuple=True)
    assert len(g_out) == len(t_out) == 1
    assert g_out[0].tolist() == t_out[0].tolist()
    assert G.where(G.tensor(value))[0].tolist() == torch.where(torch.tensor(value))[0].tolist()
    assert list(G.tensor(value).nonzero().shape) == list(torch.tensor(value).nonzero().shape)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_histc_of_a_non_float_tensor_raises_torchs_error(dtype):
    messages = []
    for lib in (torch, G):
        with pytest.raises(NotImplementedError) as err:
            lib.histc(lib.tensor([1, 0, 1]).to(getattr(lib, dtype)))
        messages.append(str(err.value))
    assert messages[1] == messages[0]


FACTORIES = {
    "ones": lambda lib: lib.ones(3), "zeros": lambda lib: lib.zeros(3),
    "randn": lambda lib: lib.randn(3), "tensor": lambda lib: lib.tensor([1.0, 2.0, 3.0]),
    "arange": lambda lib: lib.arange(3.0), "full": lambda lib: lib.full((3,), 2.0),
    "eye row": lambda lib: lib.eye(3)[0],
}


@pytest.mark.parametrize("make", list(FACTORIES))
def test_factories_under_inference_mode_make_inference_tensors(make):
    """A tensor made under inference_mode() and used with autograd afterwards: torch raises
    'Inference tensors cannot be saved for backward'; graphnet's factories made normal
    tensors, so the same program ran."""
    for lib in (torch, G):
        with lib.inference_mode():
            x = FACTORIES[make](lib)
        assert x.is_inference()
        w = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="Inference tensors cannot be saved"):
            (x * w).sum().backward()
        assert (x + 1).tolist() == (x + 1).tolist()     # plain use stays allowed


@pytest.mark.parametrize("kind", [float, int, bool])
@pytest.mark.parametrize("as_keyword", [False, True])
def test_to_a_python_type(kind, as_keyword):
    """`labels.to(float)`: torch reads Python's float, int and bool as float64, int64, bool
    (graphnet raised TypeError), eagerly and compiled."""
    expected = torch.tensor([1, 0, 2]).to(dtype=kind) if as_keyword \
        else torch.tensor([1, 0, 2]).to(kind)
    convert = (lambda t: t.to(dtype=kind)) if as_keyword else (lambda t: t.to(kind))
    for run in (convert, G.compile(convert)):
        got = run(G.tensor([1, 0, 2]))
        assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
        assert got.tolist() == expected.tolist()
    other = G.tensor([1.5], dtype=G.float64)
    assert G.tensor([1, 2]).to(other).dtype == G.float64     # to(other) unaffected
