"""Errors on bad arguments as PyTorch raises them: float counts to repeat_interleave (a
length regulator without `.long()`), a list of boundaries to bucketize; and the keyword forms
of shape arguments (`x.reshape(shape=...)`, MAE's patchify)."""
import numpy as np
import pytest
import torch

import graphnet as G


def _error(fn):
    try:
        fn()
    except Exception as err:   # noqa: BLE001 - the type is what is compared
        return type(err), str(err).split(":")[0]
    return None


@pytest.mark.parametrize("static", [False, True])
@pytest.mark.parametrize("case", ["float_counts", "float_counts_alone", "matrix_counts",
                                  "matrix_counts_alone"])
def test_repeat_interleave_count_errors(case, static):
    counts = {"float_counts": np.array([1.0, 2.0], np.float32),
              "float_counts_alone": np.array([1.0, 2.0], np.float32),
              "matrix_counts": np.array([[1, 2]]), "matrix_counts_alone": np.array([[1, 2]])}[case]

    def call(lib, c):
        if case.endswith("alone"):
            return lib.repeat_interleave(c)
        return lib.repeat_interleave(lib.ones(2), c)

    want = _error(lambda: call(torch, torch.tensor(counts)))
    fn = (lambda c: call(G, c))
    got = _error(lambda: (G.compile(fn) if static else fn)(G.tensor(counts)))
    assert want is not None and got == want


def test_bucketize_list_boundaries():
    with pytest.raises(TypeError, match="bucketize\\(\\) received an invalid combination"):
        G.bucketize(G.ones(2), [0.0, 1.0])


def test_shape_keywords():
    x = np.arange(6.0, dtype=np.float32)
    t, g = torch.tensor(x), G.tensor(x)
    pairs = [(t.reshape(shape=(2, 3)), g.reshape(shape=(2, 3))),
             (torch.reshape(t, shape=(3, 2)), G.reshape(g, shape=(3, 2))),
             (t.view(size=(2, 3)), g.view(size=(2, 3))),
             (t[:2].expand(size=(3, 2)), g[:2].expand(size=(3, 2))),
             (t.repeat(repeats=(2,)), g.repeat(repeats=(2,)))]
    for want, got in pairs:
        np.testing.assert_array_equal(got.numpy(), want.numpy())
