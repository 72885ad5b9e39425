"""A checked op whose result nothing uses still raises compiled, as torch and dynamic mode
do (thirty-second session's error hunt: dead-code elimination dropped the op, and its label
or index check with it, so a bad label in an unused metric gave numbers and trained on)."""

import pytest
import torch

import graphnet as gn

_UNUSED = [
    (lambda lib, out, k: lib.nn.functional.cross_entropy(out.detach(), k), IndexError),
    (lambda lib, out, k: out[:, k[1]], IndexError),
    (lambda lib, out, k: lib.nn.functional.embedding(k, out.detach().t()), IndexError),
    (lambda lib, out, k: out.gather(1, k.reshape(2, 1)), RuntimeError),
    (lambda lib, out, k: lib.nn.functional.one_hot(k, 3), RuntimeError),
]


def _step(lib, unused):
    m = lib.nn.Linear(3, 3)
    opt = lib.optim.SGD(m.parameters(), lr=0.1)

    def step(x, k):
        opt.zero_grad()
        out = m(x)
        loss = ((out - 1) ** 2).mean()
        unused(lib, out, k)   # computed, never used
        loss.backward()
        opt.step()
        return loss

    return step


@pytest.mark.parametrize("unused,error", _UNUSED)
def test_an_unused_checked_op_raises_on_the_first_and_a_later_call(unused, error):
    with pytest.raises(error):
        _step(torch, unused)(torch.randn(2, 3), torch.tensor([1, 3]))
    step = gn.compile(_step(gn, unused))
    with pytest.raises(error):
        step(gn.randn(2, 3), gn.tensor([1, 3]))
    step = gn.compile(_step(gn, unused))
    assert step(gn.randn(2, 3), gn.tensor([1, 2])).item() > 0   # good labels: it runs
    with pytest.raises(error):
        step(gn.randn(2, 3), gn.tensor([1, 3]))
