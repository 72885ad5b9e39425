"""clamp with tensor bounds as PyTorch: a NaN bound gives NaN with no gradient to the bound
(it took the gradient), and a 0-d tensor beside a number takes the number overload (it raised
TypeError: `x.clamp(lo_tensor, 1.5)`), in both modes."""
import pytest
import torch

import graphnet as G

NAN = float("nan")


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("bounds", [("min",), ("max",), ("min", "max")])
def test_nan_tensor_bound_takes_no_gradient(compiled, bounds):
    values = {"min": [NAN, 0.0, 3.0, 0.0], "max": [1.0, NAN, 4.0, 0.5]}

    def run(lib, fn):
        x = lib.tensor([0.0, 1.0, 2.0, NAN], requires_grad=True)
        kw = {k: lib.tensor(values[k], requires_grad=True) for k in bounds}
        out = fn(x, kw)
        out.sum().backward()
        return [out.tolist(), x.grad.tolist()] + [kw[k].grad.tolist() for k in bounds]

    want = run(torch, lambda x, kw: torch.clamp(x, **kw))
    fn = (lambda x, kw: G.clamp(x, **kw))
    got = run(G, G.compile(fn) if compiled else fn)
    assert str(got) == str(want)


@pytest.mark.parametrize("compiled", [False, True])
def test_zero_d_tensor_beside_a_number(compiled):
    def run(lib, fn, low):
        x = lib.tensor([0.0, 1.0, 2.0], requires_grad=True)
        out = fn(x, lib.tensor(low))
        out.sum().backward()
        return out.tolist(), x.grad.tolist()

    fn = (lambda x, lo: x.clamp(lo, 1.5))
    fn = G.compile(fn) if compiled else fn
    for low in (0.5, 1.2):
        want = run(torch, lambda x, lo: x.clamp(lo, 1.5), low)
        got = run(G, fn, low)
        for g, w in zip(got, want):
            assert g == pytest.approx(w)
    ints = G.clamp(G.tensor([0, 1, 2]), G.tensor(1), 1)
    assert ints.tolist() == [1, 1, 1] and ints.dtype == G.int64


@pytest.mark.parametrize("bound", [lambda lib: lib.zeros(3),
                                   lambda lib: lib.tensor(0.5, requires_grad=True)])
def test_other_tensors_beside_a_number_still_raise(bound):
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        torch.clamp(torch.zeros(3), bound(torch), 1.0)
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        G.clamp(G.zeros(3), bound(G), 1.0)
