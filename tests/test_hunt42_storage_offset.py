"""A compiled function that reads `storage_offset()` of an argument compiles for that offset
and traces again for another: the cache key leaves offsets out (`data[i]` per call), so the
program had kept the first call's number ([4, 4] where PyTorch gives [4, 8])."""
import torch

import graphnet as G


def test_offset_read_is_checked_per_call():
    def f(x):
        return x.sum() * 0 + x.storage_offset()

    want = [f(torch.arange(12.0).reshape(3, 4)[i]).item() for i in (1, 2, 1)]
    compiled = G.compile(f)
    data = G.arange(12.0).reshape(3, 4)
    got = [compiled(data[i]).item() for i in (1, 2, 1)]
    assert got == want == [4.0, 8.0, 4.0]


def test_no_offset_read_no_recompile():
    compiled = G.compile(lambda x: x * 2)
    data = G.arange(12.0).reshape(3, 4)
    for i in range(3):
        assert compiled(data[i]).tolist() == (data[i] * 2).tolist()
    assert len(compiled.compiled.artifacts) == 1
