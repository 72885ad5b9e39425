"""A VQ codebook's dead rows restarted through `.data` between a lookup and `backward()`:
PyTorch's backward of an index lookup (`w[idx]`, embedding, index_select, gather) reads only
the indices, so it gives the lookup's gradient. graphnet raised, eagerly ("does not know
whether PyTorch's backward for embedding reads the old or the new values") and compiled (it
took the advanced-index lookup for a view of the codebook)."""

import numpy as np
import pytest
import torch

import graphnet as gn

LOOKUPS = {
    "embedding": lambda lib, w, i: lib.nn.functional.embedding(i, w),
    "getitem": lambda lib, w, i: w[i],
    "index_select": lambda lib, w, i: w.index_select(0, i),
    "gather": lambda lib, w, i: w.gather(0, i[:, None].expand(-1, 2)),
}


def _step(lib, lookup, w, idx):
    q = lookup(lib, w, idx)
    w.data[1] = 5.0                          # restart a dead code
    (q * lib.tensor([[1.0, 2.0]])).sum().backward()
    return w.grad


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize("name", sorted(LOOKUPS))
def test_lookup_gradient_survives_a_data_write(name, compiled):
    book = np.arange(8, dtype=np.float32).reshape(4, 2)
    w_t = torch.nn.Parameter(torch.tensor(book))
    want = _step(torch, LOOKUPS[name], w_t, torch.tensor([0, 2, 2]))
    w = gn.nn.Parameter(gn.tensor(book))
    run = gn.compile(_step) if compiled else _step
    got = run(gn, LOOKUPS[name], w, gn.tensor([0, 2, 2]))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(w.detach().numpy(), w_t.detach().numpy())


def test_a_saved_slice_view_still_reads_the_new_values_eagerly():
    # basic indexing is a view: PyTorch's MulBackward reads its new values
    def step(lib):
        w = lib.nn.Parameter(lib.arange(8.0).reshape(4, 2))
        q = w[1:3]
        w.data[1] = 5.0
        (q * q).sum().backward()
        return w.grad.numpy()

    np.testing.assert_array_equal(step(gn), step(torch))
