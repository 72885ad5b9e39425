"""graphnet.cond / while_loop under compile (the thirty-first session's hunt): what
torch.cond gives or refuses."""

import pytest
import torch

import graphnet as gn
from graphnet._errors import TraceError


def test_a_detach_inside_a_branch_cuts_the_gradient_as_torch_cond():
    expected = torch.tensor([1., 2., 3.], requires_grad=True)
    torch.cond(expected.sum() > 0, lambda t: t.detach() * 2 + t * 0, lambda t: t * 3,
               (expected,)).sum().backward()

    def detached(x):
        return gn.cond(x.sum() > 0, lambda t: t.detach() * 2 + t * 0, lambda t: t * 3,
                       (x,)).sum()

    def under_no_grad(x):
        def branch(t):
            with gn.no_grad():
                s = t * 2
            return s + t * 0
        return gn.cond(x.sum() > 0, branch, lambda t: t * 3, (x,)).sum()

    for fn in (detached, under_no_grad):
        x = gn.tensor([1., 2., 3.], requires_grad=True)
        gn.compile(fn)(x).backward()
        assert x.grad.tolist() == expected.grad.tolist()     # it was [2, 2, 2]


def test_a_detached_branch_result_gives_no_gradient():
    w = gn.tensor([0.5, -1.5, 2.0], requires_grad=True)

    def f(x):
        return (gn.cond(x.sum() > 0, lambda t: t.detach() * w, lambda t: t * w, (x,)) ** 2).sum()

    x = gn.tensor([1., 2., 3.], requires_grad=True)
    gn.compile(f)(x).backward()
    assert x.grad is None or x.grad.abs().sum().item() == 0


def test_a_branch_returning_a_dict_keeps_it():
    def f(x):
        return gn.cond(x.sum() > 0, lambda t: {"a": t * 2, "b": t + 1},
                       lambda t: {"a": t - 1, "b": t * 3}, (x,))

    out = gn.compile(f)(gn.tensor([1., 2.]))
    assert out["a"].tolist() == [2., 4.] and out["b"].tolist() == [2., 3.]


def test_branches_of_different_nesting_are_refused():
    def f(x):
        return gn.cond(x.sum() > 0, lambda t: ((t, t * 2), t * 3),
                       lambda t: (t, (t * 2, t * 3)), (x,))

    with pytest.raises(TraceError, match="different structures"):
        gn.compile(f)(gn.tensor([1., 2.]))


@pytest.mark.parametrize("kind", ["cond", "while_loop"])
def test_an_in_place_write_to_an_operand_is_refused(kind):
    def f(x):
        y = x.clone()
        if kind == "cond":
            def true_fn(t):
                t.mul_(3)
                return t + 1
            gn.cond(x.sum() > 0, true_fn, lambda t: t * 2, (y,))
        else:
            def body(t, n):
                t.add_(1)
                return t, n + 1
            gn.while_loop(lambda t, n: n < 2, body, (y, gn.tensor(0)))
        return y

    with pytest.raises(TraceError, match="in-place update of operand 0"):
        gn.compile(f)(gn.tensor([1., 2.]))     # its write was dropped, silently
