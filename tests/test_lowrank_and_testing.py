"""`svd_lowrank` / `pca_lowrank` against PyTorch where the answer is determined (rank <= q),
`graphnet.testing.make_tensor`'s ranges, dtypes and layouts and `assert_allclose`'s
tolerances, `graphnet.binomial`'s values and errors, and `reversed(tensor)`."""

import warnings

import numpy as np
import pytest
from parity import np_of, torch

import graphnet


def _low_rank(shape, rank, seed=0):
    rng = np.random.default_rng(seed)
    *batch, m, n = shape
    return (rng.standard_normal((*batch, m, rank)) @ rng.standard_normal((*batch, rank, n))) \
        .astype(np.float64)


@pytest.mark.parametrize("shape,rank,q", [((30, 12), 3, 5), ((8, 25), 2, 4),
                                          ((2, 15, 10), 3, 6)])
def test_svd_lowrank_matches_pytorch_on_low_rank_matrices(shape, rank, q):
    a = _low_rank(shape, rank)
    U, S, V = graphnet.svd_lowrank(graphnet.tensor(a), q=q)
    tU, tS, tV = torch.svd_lowrank(torch.from_numpy(a), q=q)
    assert (U.shape, S.shape, V.shape) == (tU.shape, tS.shape, tV.shape)
    assert U.dtype == graphnet.float64
    np.testing.assert_allclose(np_of(S)[..., :rank], np_of(tS)[..., :rank], rtol=1e-10)
    np.testing.assert_allclose(np_of(S)[..., rank:], 0.0, atol=1e-10)
    rebuilt = np_of(U) * np_of(S)[..., None, :] @ np.swapaxes(np_of(V), -1, -2)
    np.testing.assert_allclose(rebuilt, a, atol=1e-10)
    u, v = np_of(U)[..., :rank], np_of(V)[..., :rank]   # orthonormal columns, same subspaces
    np.testing.assert_allclose(np.swapaxes(u, -1, -2) @ u, np.broadcast_to(np.eye(rank),
                               u.shape[:-2] + (rank, rank)), atol=1e-10)
    cosines = np.abs(np.swapaxes(u, -1, -2) @ np_of(tU)[..., :rank])
    np.testing.assert_allclose(cosines, np.broadcast_to(np.eye(rank), cosines.shape),
                               atol=1e-8)
    np.testing.assert_allclose(np.abs(np.swapaxes(v, -1, -2) @ np_of(tV)[..., :rank]),
                               np.broadcast_to(np.eye(rank), cosines.shape), atol=1e-8)


def test_svd_lowrank_subtracts_m_and_runs_compiled():
    a = _low_rank((20, 9), 2, seed=1)
    m = np.random.default_rng(2).standard_normal((1, 9))   # broadcast to A's shape
    U, S, V = graphnet.svd_lowrank(graphnet.tensor(a + m), q=4, M=graphnet.tensor(m))
    tU, tS, tV = torch.svd_lowrank(torch.from_numpy(a + m), q=4, M=torch.from_numpy(m))
    np.testing.assert_allclose(np_of(S)[:2], np_of(tS)[:2], rtol=1e-10)
    np.testing.assert_allclose(np_of(U) * np_of(S) @ np_of(V).T, a, atol=1e-10)
    a32 = graphnet.tensor(a.astype(np.float32))
    _, S_static, _ = graphnet.compile(lambda x: graphnet.svd_lowrank(x, q=3, niter=1))(a32)
    np.testing.assert_allclose(np_of(S_static)[:2], np_of(tS)[:2], rtol=1e-4)


def test_pca_lowrank_matches_pytorch():
    a = _low_rank((40, 7), 2, seed=3) + np.arange(7.0)    # column means removed by center
    U, S, V = graphnet.pca_lowrank(graphnet.tensor(a))
    tU, tS, tV = torch.pca_lowrank(torch.from_numpy(a))
    assert (U.shape, S.shape, V.shape) == (tU.shape, tS.shape, tV.shape) == \
        ((40, 6), (6,), (7, 6))
    np.testing.assert_allclose(np_of(S)[:2], np_of(tS)[:2], rtol=1e-10)
    centered = a - a.mean(0)
    np.testing.assert_allclose(np_of(U) * np_of(S) @ np_of(V).T, centered, atol=1e-10)
    _, S_raw, _ = graphnet.pca_lowrank(graphnet.tensor(a), q=3, center=False)
    _, tS_raw, _ = torch.pca_lowrank(torch.from_numpy(a), q=3, center=False)
    np.testing.assert_allclose(np_of(S_raw), np_of(tS_raw), rtol=1e-8)
    for kwargs, message in [({"q": 8}, r"q\(=8\) must be non-negative integer and not greater "
                                       r"than min\(m, n\)=7"),
                            ({"niter": -1}, r"niter\(=-1\) must be non-negative integer")]:
        for lib in (graphnet, torch):
            x = lib.ones(40, 7)
            with pytest.raises(ValueError, match=message):
                lib.pca_lowrank(x, **kwargs)


@pytest.mark.parametrize("name,low,high", [
    ("float32", -9, 9), ("float64", -9, 9), ("float16", -9, 9), ("int64", -9, 10),
    ("int8", -9, 10), ("uint8", 0, 10), ("bool", 0, 2)])
def test_make_tensor_default_ranges_and_dtypes(name, low, high):
    dtype = getattr(graphnet, name)
    t = graphnet.testing.make_tensor(400, 5, dtype=dtype, device="cpu")
    tt = torch.testing.make_tensor(400, 5, dtype=getattr(torch, name), device="cpu")
    assert t.shape == tuple(tt.shape) and t.dtype == dtype and t.device.type == "cpu"
    values, theirs = np_of(t).astype(np.float64), np_of(tt).astype(np.float64)
    assert values.min() >= low and values.max() < high
    assert theirs.min() >= low and theirs.max() < high
    assert values.min() < low + 1 and values.max() > high - 2   # the whole range, not a corner
    assert not t.requires_grad


def test_make_tensor_options():
    mk = graphnet.testing.make_tensor
    t = mk((3, 4), dtype=graphnet.float32, device="cpu", low=2, high=3, requires_grad=True)
    assert t.shape == (3, 4) and t.requires_grad and t.is_leaf
    assert (np_of(t) >= 2).all() and (np_of(t) < 3).all()
    assert mk(graphnet.Size([2, 2]), dtype=graphnet.int32, device="cpu").shape == (2, 2)
    assert mk(dtype=graphnet.float32, device="cpu").shape == ()
    nc = mk(4, 3, dtype=graphnet.float32, device="cpu", noncontiguous=True)
    tnc = torch.testing.make_tensor(4, 3, dtype=torch.float32, device="cpu", noncontiguous=True)
    assert nc.shape == (4, 3) and not nc.is_contiguous() and nc.stride() == tnc.stride()
    ints = mk(500, dtype=graphnet.int64, device="cpu", low=-0.5, high=1.5)   # ceiled: [0, 2)
    assert set(np_of(ints).tolist()) == {0, 1}
    nonzero = mk(500, dtype=graphnet.int64, device="cpu", low=0, high=2, exclude_zero=True)
    assert set(np_of(nonzero).tolist()) == {1}
    for lib in (graphnet, torch):
        make = lib.testing.make_tensor
        with pytest.raises(ValueError, match="`low` must be less than `high`, but got 3 >= 2"):
            make(2, dtype=lib.float32, device="cpu", low=3, high=2)
        with pytest.raises(ValueError, match="`requires_grad=True` is not supported"):
            make(2, dtype=lib.int64, device="cpu", requires_grad=True)
        with pytest.raises(ValueError, match="only supports \\[-128, 128\\)"):
            make(2, dtype=lib.int8, device="cpu", low=200, high=300)
        with pytest.raises(ValueError, match="cannot be NaN"):
            make(2, dtype=lib.float32, device="cpu", low=float("nan"))
        with pytest.raises(TypeError):
            make(2, dtype=lib.float32)   # device is required, as in PyTorch
    wide = mk(1000, dtype=graphnet.float32, device="cpu", low=-3e38, high=3e38)
    assert np.isfinite(np_of(wide)).all() and np.abs(np_of(wide)).max() > 1e37


def test_assert_allclose_is_deprecated_with_looser_tolerances():
    for lib in (graphnet, torch):
        with pytest.warns(FutureWarning, match="assert_close"):
            # float32: rtol 1e-4 (assert_close's would be 1.3e-6), NaNs equal, lists taken
            lib.testing.assert_allclose(lib.tensor([1.0, float("nan")]), [1.00005, float("nan")])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            with pytest.raises(AssertionError):
                lib.testing.assert_allclose(lib.tensor([1.0]), [1.001])
            with pytest.raises(AssertionError):   # int64: exact
                lib.testing.assert_allclose(lib.tensor([1, 2]), [1, 3])
            lib.testing.assert_allclose(lib.tensor([1.0]), lib.tensor([1.0], dtype=lib.float64))
            lib.testing.assert_allclose(lib.tensor([1.0]), [1.5], rtol=0.0, atol=0.5)
            with pytest.raises(AssertionError):
                lib.testing.assert_allclose(lib.tensor([1.0, float("nan")]),
                                            [1.0, float("nan")], equal_nan=False)
