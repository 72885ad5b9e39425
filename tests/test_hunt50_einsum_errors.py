"""einsum's shape errors are PyTorch's, with its sizes in the right places. JAX's own error was
passed through before, with the two sizes of a mismatched label swapped ("Size of label 'j'
for operand 1 (3)" for an operand 1 whose `j` is 4), which sent a user to the wrong tensor
(graphnet/_einsum_check.py)."""

import pytest
import torch

import graphnet as gn

CASES = [
    ("ij,jk->ik", [(2, 3), (4, 5)]), ("ij,jk->ik", [(2, 3), (1, 5)]),
    ("ij,jk->ik", [(2, 3)]), ("ij,jk,k->i", [(2, 3), (3, 4)]),
    ("ij,jk->ik", [(2, 3, 4), (3, 5)]), ("i...j,jk->ik", [(2, 3), (4, 5)]),
    ("ii->i", [(2, 3)]), ("iij->j", [(2, 3, 4)]), ("ij,ij->i", [(3, 2), (3, 4)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 3, 4)]), ("...ij,...jk->...ik", [(1, 2, 3), (3, 3, 4)]),
    ("...ij,...jk->...ik", [(5, 2, 2, 3), (3, 3, 4)]), ("a...b,...b->a", [(2, 3, 4, 5), (6, 1, 5)]),
    ("bij,bjk->bik", [(2, 2, 3), (3, 3, 4)]), ("ij->ik", [(2, 3)]), ("ij->ii", [(2, 2)]),
    ("i.j->ij", [(2, 3)]), ("i......->i", [(2, 3)]), ("ij...k->i", [(2, 3)]),
    ("i j , j k -> i k", [(2, 3), (4, 5)]), ("ijk,ikj->i", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(3,), (1,)]), ("...,...->...", [(2, 3), (4, 3)]), ("ij->j...", [(2, 3)]),
    ("ab,cd->", [(2,), (3, 4)]), ("i1->i", [(2,)]),
]


def _outcome(lib, equation, shapes, compiled=False):
    def run(*xs):
        return lib.einsum(equation, *xs)

    try:
        out = (gn.compile(run) if compiled else run)(*[lib.ones(*s) for s in shapes])
        return "ok", tuple(out.shape)
    except RuntimeError as e:
        return "RuntimeError", str(e).split("\n")[0]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_einsum_refuses_as_torch_does(case):
    equation, shapes = CASES[case]
    want = _outcome(torch, equation, shapes)
    assert _outcome(gn, equation, shapes) == want
    assert _outcome(gn, equation, shapes, compiled=True) == want


def test_three_operands_are_checked_in_order():
    """PyTorch hands three or more operands to opt_einsum, whose ValueError differs; graphnet
    keeps the two-operand messages, naming the operand whose size is off."""
    with pytest.raises(RuntimeError, match="subscript i has size 4 for operand 2 which does "
                                           "not broadcast with previously seen size 3"):
        gn.einsum("i,i,i->", gn.ones(1), gn.ones(3), gn.ones(4))
    with pytest.raises(RuntimeError, match="more operands were provided"):
        gn.einsum("ij,jk->ik", gn.ones(2, 3), gn.ones(3, 4), gn.ones(4))
