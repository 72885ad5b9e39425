"""Value-dependent selection (nonzero, unique, bincount, masked_select ...) against torch,
the static-mode refusals that name the way out, and `x[mask] = value` in both modes."""

import numpy as np
import pytest
from parity import assert_close, np_of, to_gn, to_torch, torch

import graphnet

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5)).astype(np.float32)
INTS = RNG.integers(0, 6, (4, 5))

# name -> fn(T, x_float, x_int): eager results compared with torch's, output by output
EAGER = {
    "nonzero": lambda T, x, i: T.nonzero(x > 0),
    "nonzero_tuple": lambda T, x, i: T.nonzero(i > 3, as_tuple=True),
    "nonzero_0d": lambda T, x, i: T.tensor(2.0).nonzero(),
    "nonzero_empty": lambda T, x, i: (x > 100).nonzero(),
    "argwhere": lambda T, x, i: T.argwhere(i),
    "unique_sorted": lambda T, x, i: T.unique(i),
    "unique_all": lambda T, x, i: T.unique(i, return_inverse=True, return_counts=True),
    "unique_dim": lambda T, x, i: (i[:, :2] > 2).long().unique(dim=0, return_inverse=True,
                                                                 return_counts=True),
    "unique_dim1": lambda T, x, i: T.unique(T.tensor([[1, 1, 2], [3, 3, 4]]), dim=1),
    "unique_float": lambda T, x, i: (x * 2).round().unique(return_counts=True),
    "unique_consecutive": lambda T, x, i: T.unique_consecutive(i.flatten().sort().values,
                                                               return_counts=True),
    "bincount": lambda T, x, i: T.bincount(i.flatten()),
    "bincount_weights": lambda T, x, i: T.bincount(i.flatten(), x.flatten(), minlength=9),
    "bincount_empty": lambda T, x, i: T.bincount(i.flatten()[:0], minlength=3),
    "masked_select": lambda T, x, i: T.masked_select(x, i > 2),
    "masked_select_broadcast": lambda T, x, i: x.masked_select(T.tensor([True, False] * 2 +
                                                                        [True])),
    "getitem_mask": lambda T, x, i: x[x > 0],
    "getitem_row_mask": lambda T, x, i: x[x[:, 0] > 0],
}


@pytest.mark.parametrize("name", list(EAGER))
def test_eager_results_match_torch(name):
    ours = EAGER[name](graphnet, to_gn(X), to_gn(INTS))
    theirs = EAGER[name](torch, to_torch(X), to_torch(INTS))
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert np_of(a).dtype == np_of(b).dtype and np_of(a).shape == np_of(b).shape, name
        assert_close(a, b, what=name)


def test_masked_select_gradient_reaches_the_selected_entries():
    x, xt = to_gn(X, requires_grad=True), to_torch(X, requires_grad=True)
    (graphnet.masked_select(x, x > 0) ** 2).sum().backward()
    (torch.masked_select(xt, xt > 0) ** 2).sum().backward()
    assert_close(x.grad, xt.grad)


@pytest.mark.parametrize("call, way_out", [
    (lambda x: x.nonzero(), "nonzero_static"),
    (lambda x: graphnet.argwhere(x), "nonzero_static"),
    (lambda x: x.long().unique(), "outside the compiled function"),
    (lambda x: graphnet.unique_consecutive(x), "outside the compiled function"),
    (lambda x: (x > 0).long().flatten().bincount(), "minlength"),
    (lambda x: x.masked_select(x > 0), "torch.where"),
    (lambda x: x[x > 0], "where"),
])
def test_value_dependent_shapes_are_refused_when_compiled(call, way_out):
    with pytest.raises(graphnet.TraceError, match=way_out):
        graphnet.compile(call)(to_gn(X))


def test_nonzero_static_compiles_with_a_bound():
    x = to_gn(np.array([[0, 2, 0], [3, 0, 4]], np.float32))
    out = graphnet.compile(lambda t: graphnet.nonzero_static(t, size=4, fill_value=-7))(x)
    expected = torch.nonzero_static(to_torch(np_of(x)), size=4, fill_value=-7)
    assert np_of(out).tolist() == expected.tolist()


def test_bad_inputs_raise_pytorchs_errors():
    with pytest.raises(RuntimeError, match="non-negative integral"):
        graphnet.bincount(graphnet.tensor([1, -1]))
    with pytest.raises(NotImplementedError, match="\"bincount_cpu\" not implemented for 'Float'"):
        graphnet.bincount(graphnet.tensor([1.0]))
    with pytest.raises(RuntimeError, match="BoolTensor"):
        graphnet.masked_select(to_gn(X), to_gn(INTS))
    with pytest.raises(RuntimeError, match="number of ones in mask"):
        to_gn(X).masked_scatter(to_gn(X) > -100, graphnet.zeros(3))
    with pytest.raises(IndexError, match="Dimension out of range"):
        graphnet.unique(to_gn(INTS), dim=2)


def _assign(T, x, v):
    y = x * 1
    y[y < 0] = 0                       # a number
    y[y[:, 0] > 0.5] = v               # one row's worth, broadcast over the selected rows
    y[(y > 1) & (y < 1.5)] = v.sum()   # a 0-d tensor
    return y


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_masked_assignment_matches_torch_in_both_modes(compiled):
    """x[mask] = value has no value-dependent shape when value fits one selected row: it
    compiles (as a where), and values and gradients are PyTorch's."""
    v = RNG.standard_normal(5).astype(np.float32)
    x, vg = to_gn(X, requires_grad=True), to_gn(v, requires_grad=True)
    xt, vt = to_torch(X, requires_grad=True), to_torch(v, requires_grad=True)
    fn = graphnet.compile(lambda a, b: _assign(graphnet, a, b)) if compiled else \
        (lambda a, b: _assign(graphnet, a, b))
    out, expected = fn(x, vg), _assign(torch, xt, vt)
    assert_close(out, expected)
    weights = RNG.standard_normal(X.shape).astype(np.float32)
    (out * to_gn(weights)).sum().backward()
    (expected * to_torch(weights)).sum().backward()
    assert_close(x.grad, xt.grad, what="grad x")
    assert_close(vg.grad, vt.grad, what="grad value")


def test_masked_assignment_with_one_value_per_selected_entry():
    """Eagerly, a value with one entry per True runs as PyTorch; compiled, a TraceError."""
    def fill(T, x):
        y = x.clone()
        y[y > 0] = T.arange(int((x > 0).sum()), dtype=T.float32)
        return y

    assert_close(fill(graphnet, to_gn(X)), fill(torch, to_torch(X)))
    with pytest.raises(graphnet.TraceError, match="data-dependent"):
        graphnet.compile(lambda x: _set(x, x > 0, graphnet.ones(20)))(to_gn(X))
    with pytest.raises(IndexError, match="shape of the mask"):
        _set(to_gn(X), graphnet.tensor([True, False]), 0.0)


def _set(x, mask, value):
    y = x.clone()
    y[mask] = value
    return y


def test_bincount_compiles_when_minlength_bounds_the_values():
    counts = graphnet.compile(lambda i, w: (graphnet.bincount(i, minlength=6),
                                            i.bincount(w, minlength=6)))
    ours = counts(to_gn(INTS.flatten()), to_gn(X.flatten()))
    theirs = (torch.bincount(to_torch(INTS.flatten()), minlength=6),
              torch.bincount(to_torch(INTS.flatten()), to_torch(X.flatten()), minlength=6))
    for a, b in zip(ours, theirs):
        assert np_of(a).dtype == np_of(b).dtype
        assert_close(a, b)
    with pytest.raises(RuntimeError, match="minlength=3 bins, but the input holds 5"):
        graphnet.compile(lambda i: graphnet.bincount(i, minlength=3))(graphnet.tensor([0, 5, 1]))
    with pytest.raises(RuntimeError, match="non-negative integral"):
        graphnet.compile(lambda i: graphnet.bincount(i, minlength=3))(graphnet.tensor([0, -1]))
