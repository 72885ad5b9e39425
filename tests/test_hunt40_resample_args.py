"""Arguments of pooling and resampling as PyTorch takes and refuses them: a wrong-length
output_size or kernel tuple raises a RuntimeError, grid_sample refuses an input with an empty
spatial size (it returned zeros), and a size given as a 0-d tensor is a size."""
import numpy as np
import pytest
import torch

import graphnet as G


def _error(fn):
    try:
        fn()
    except Exception as err:   # noqa: BLE001 - the type is what is compared
        return err
    return None


@pytest.mark.parametrize("static", [False, True])
@pytest.mark.parametrize("call", [
    lambda F, x: F.adaptive_avg_pool2d(x, (1, 1, 1)),
    lambda F, x: F.adaptive_max_pool2d(x, (2, 2, 2)),
    lambda F, x: F.avg_pool2d(x, (1, 2, 3)),
    lambda F, x: F.max_pool2d(x, 2, stride=(1, 1, 1)),
])
def test_wrong_length_tuples_raise_runtime_error(call, static):
    want = _error(lambda: call(torch.nn.functional, torch.ones(1, 2, 4, 4)))
    fn = (lambda x: call(G.nn.functional, x))
    got = _error(lambda: (G.compile(fn) if static else fn)(G.ones(1, 2, 4, 4)))
    assert isinstance(want, RuntimeError) and isinstance(got, RuntimeError)


@pytest.mark.parametrize("shape", [(1, 2, 0, 3), (1, 2, 3, 0), (1, 1, 2, 0, 2)])
def test_grid_sample_refuses_empty_spatial_sizes(shape):
    grid_shape = (1, 3, 3, len(shape) - 2) if len(shape) == 4 else (1, 2, 2, 2, 3)
    msg = str(_error(lambda: torch.nn.functional.grid_sample(
        torch.ones(shape), torch.zeros(grid_shape), align_corners=False)))
    with pytest.raises(RuntimeError, match="expected input to have non-empty spatial") as info:
        G.nn.functional.grid_sample(G.ones(shape), G.zeros(grid_shape), align_corners=False)
    assert str(info.value) == msg


def test_grid_sample_empty_batch_still_runs():
    out = G.nn.functional.grid_sample(G.ones(0, 2, 3, 3), G.zeros(0, 2, 2, 2),
                                      align_corners=False)
    assert tuple(out.shape) == (0, 2, 2, 2)


@pytest.mark.parametrize("size", [3, (3, 5)])
def test_interpolate_size_as_zero_dim_tensors(size):
    def make(lib):
        return lib.tensor(size) if isinstance(size, int) else tuple(lib.tensor(s) for s in size)

    x = np.arange(32, dtype=np.float32).reshape(1, 2, 4, 4)
    want = torch.nn.functional.interpolate(torch.tensor(x), size=make(torch), mode="nearest")
    got = G.nn.functional.interpolate(G.tensor(x), size=make(G), mode="nearest")
    np.testing.assert_array_equal(got.numpy(), want.numpy())
