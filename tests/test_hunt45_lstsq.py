"""linalg.lstsq on empty problems, and the warning where graphnet's gelsy rank rule can part
from PyTorch's."""

import warnings

import numpy as np
import pytest
import torch

import graphnet as gn


@pytest.mark.parametrize("driver", [None, "gelsd", "gels"])
@pytest.mark.parametrize("a_shape,b_shape", [((0, 3), (0, 2)), ((0, 10, 3), (0, 10, 2)),
                                             ((5, 0), (5, 2)), ((2, 0, 3), (2, 0, 1))])
def test_empty_problems_match_torch(a_shape, b_shape, driver):
    a, b = np.zeros(a_shape, np.float32), np.zeros(b_shape, np.float32)
    want = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    got = gn.linalg.lstsq(gn.tensor(a), gn.tensor(b), driver=driver)
    for name in ("solution", "residuals", "rank", "singular_values"):
        g, w = getattr(got, name), getattr(want, name)
        assert tuple(g.shape) == tuple(w.shape), name
        np.testing.assert_array_equal(g.numpy(), w.numpy())


def test_gelsy_with_rcond_warns_where_the_rank_rules_can_differ():
    x = np.linspace(-1, 1, 40)
    design = np.vander(x, 13, increasing=True)
    y = np.sin(3 * x)[:, None]
    with pytest.warns(UserWarning, match="graphnet's gelsy keeps the rank the singular values"):
        got = gn.linalg.lstsq(gn.tensor(design), gn.tensor(y), rcond=1e-4)
    want = torch.linalg.lstsq(torch.tensor(design), torch.tensor(y), rcond=1e-4,
                              driver="gelsd")
    assert got.rank.item() == want.rank.item()
    np.testing.assert_allclose(got.solution.numpy(), want.solution.numpy(), rtol=1e-6,
                               atol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gn.linalg.lstsq(gn.tensor(design), gn.tensor(y), rcond=1e-4, driver="gelsd")
        gn.linalg.lstsq(gn.tensor(design[:, :3]), gn.tensor(y), rcond=1e-4)
        gn.linalg.lstsq(gn.tensor(design), gn.tensor(y))
