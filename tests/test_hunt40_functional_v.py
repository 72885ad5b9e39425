"""autograd.functional's `v` checked as PyTorch checks it: a tuple of the wrong length or an
entry of the wrong size raises its RuntimeError (a short one failed on an index, a long one
was cut to size silently, a broadcastable size was taken)."""
import pytest
import torch

import graphnet as G


def _calls(lib):
    F = lib.autograd.functional
    x, y = lib.ones(3), lib.ones(2)

    def two(a, b):
        return (a * 2).sum() + (b * 3).sum()

    return {
        "jvp_short": lambda: F.jvp(lambda a, b: a * b.sum(), (x, y), (x,)),
        "vjp_long": lambda: F.vjp(lambda a: a * 2, x, (x, x)),
        "vjp_size": lambda: F.vjp(lambda a: a * 2, x, lib.ones(1, 3)),
        "hvp_short": lambda: F.hvp(two, (x, y), (x,)),
        "vhp_size": lambda: F.vhp(two, (x, y), (x, lib.ones(3))),
    }


@pytest.mark.parametrize("case", sorted(_calls(torch)))
def test_bad_v_raises_as_torch(case):
    with pytest.raises(RuntimeError) as want:
        _calls(torch)[case]()
    with pytest.raises(RuntimeError) as got:
        _calls(G)[case]()
    assert str(got.value).replace("graphnet", "torch") == str(want.value)


def test_good_v_still_gives_the_product():
    F = G.autograd.functional
    out, vjp = F.vjp(lambda a: a * 2, G.ones(3), G.tensor([1.0, 2.0, 3.0]))
    assert vjp.tolist() == [2.0, 4.0, 6.0]
