"""Writes whose value does not fit the place written: `out[0, :len(r)] = tensor(r)` with `r`
longer than the row (the classic missed truncation), advanced-index writes, `copy_`. PyTorch
names the sizes ("The expanded size of the tensor (4) must match the existing size (6) ...");
graphnet's ShapeError showed JAX's broadcast failure with graphnet's internal index spec.
Now the same RuntimeErrors as PyTorch, eagerly and compiled."""

import pytest
import torch

import graphnet as gn

WRITES = {
    "slice too long": ((0, slice(None, 6)), (6,)),
    "rows differ": ((slice(None), slice(None)), (3, 4)),
    "more dims": ((slice(None), slice(None)), (2, 2, 4)),
    "leading ones": ((slice(None), slice(None)), (1, 1, 2, 4)),
    "row with a leading one": ((0,), (1, 6)),
    "column": ((slice(0, 2), 0), (3,)),
    "column of more dims": ((slice(None), 0), (3, 1)),
    "index list": ((0, [0, 1]), (3,)),
    "index tensor": (("rows",), (3, 4)),
    "slice and list": ((slice(None), [1, 2]), (2, 3)),
}
COPIES = [((4,), (6,)), ((4,), (2, 4)), ((2, 4), (3,)), ((2, 4), (2, 1, 4)), ((3, 4), (2, 4)),
          ((2, 4), (1, 2, 4)), ((2, 4), (4,)), ((), (1,)), ((3,), (1,)), ((2, 3), (1, 1, 1))]


def _outcome(fn):
    try:
        fn()
    except Exception as e:   # noqa: BLE001 - the type and message are compared
        return type(e).__name__, str(e).splitlines()[0]
    return "ok"


def _index(lib, index):
    return tuple(lib.tensor([0, 1]) if item == "rows" else item for item in index)


@pytest.mark.parametrize("static", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("case", sorted(WRITES))
def test_a_value_that_does_not_fit_raises_pytorchs_error(case, static):
    index, shape = WRITES[case]

    def write(lib, compiled):
        def f(out, value):
            out[_index(lib, index)] = value
            return out

        fn = gn.compile(f) if compiled else f
        return _outcome(lambda: fn(lib.zeros(2, 4), lib.zeros(shape)))

    assert write(gn, static) == write(torch, False)


@pytest.mark.parametrize("dst,src", COPIES)
def test_copy_refuses_a_source_that_does_not_broadcast_as_pytorch(dst, src):
    def run(lib):
        return _outcome(lambda: lib.zeros(dst).copy_(lib.ones(src)))

    assert run(gn) == run(torch)


def test_a_padding_loop_that_truncates_works():
    rows = [[1, 2, 3], [4, 5, 6, 7, 8, 9]]
    out = gn.full((2, 4), 0, dtype=gn.long)
    for i, r in enumerate(rows):
        out[i, :min(len(r), 4)] = gn.tensor(r[:4])
    assert out.tolist() == [[1, 2, 3, 0], [4, 5, 6, 7]]
