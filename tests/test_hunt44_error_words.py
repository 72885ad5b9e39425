"""Mistakes named in PyTorch's words, not after the op graphnet builds on: diff's prepend or
append of the wrong shape (the message named `cat`), `LSTMCell(x, h)` with one tensor for
`(h, c)` (its rows were read as h and c: a batch-size error, or none), and masked_fill with a
mask that does not broadcast (the message named `where`)."""

import numpy as np
import pytest
import torch

import graphnet


def _error(fn):
    try:
        fn()
    except Exception as error:   # noqa: BLE001  (the type and message are what is compared)
        return type(error), str(error)
    return None


def _same_error(make, compiled):
    want = _error(lambda: make(torch))
    run = graphnet.compile(lambda: make(graphnet)) if compiled else (lambda: make(graphnet))
    got = _error(run)
    assert want is not None and got is not None
    assert issubclass(got[0], want[0]) and got[1] == want[1], (want, got)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("case", [
    dict(dim=-1, prepend=(3, 1)), dict(dim=-1, append=(2, 2, 1)), dict(dim=-1, prepend=(2,)),
    dict(dim=0, append=(1, 3)), dict(dim=0, prepend=(1, 5))])
def test_diff_extra_shape_refused(case, compiled):
    case = dict(case)   # the parameter is shared between the two `compiled` runs
    dim = case.pop("dim")

    def make(T):
        extra = {k: T.ones(*v) for k, v in case.items()}
        return T.diff(T.ones(2, 4), dim=dim, **extra)
    _same_error(make, compiled)


def test_diff_with_matching_extras_still_works():
    x = np.arange(8.0, dtype=np.float32).reshape(2, 4)
    want = torch.diff(torch.tensor(x), n=2, prepend=torch.zeros(2, 1), append=torch.ones(2, 2))
    got = graphnet.diff(graphnet.tensor(x), n=2, prepend=graphnet.zeros(2, 1),
                        append=graphnet.ones(2, 2))
    assert got.tolist() == want.tolist()


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("batch", [2, 3])
def test_lstm_cell_refuses_one_tensor_for_h_and_c(batch, compiled):
    def make(T):
        T.manual_seed(0)
        cell = T.nn.LSTMCell(4, 6)
        return cell(T.ones(batch, 4), T.zeros(batch, 6))
    _same_error(make, compiled)


def test_unbatched_lstm_cell_still_takes_a_stacked_pair():
    outs = []
    for T in (torch, graphnet):
        cell = T.nn.LSTMCell(3, 2)
        with T.no_grad():
            for p in cell.parameters():
                p.copy_(T.tensor(np.linspace(-0.5, 0.5, p.numel(), dtype=np.float32)
                                 .reshape(tuple(p.shape))))
        h, c = cell(T.ones(3), T.full((2, 2), 0.25))
        outs.append(np.concatenate([h.detach().numpy(), c.detach().numpy()]))
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("shapes", [((3, 4), (4, 4)), ((3, 4), (2, 4)), ((2, 3, 4), (3, 5))])
def test_masked_fill_broadcast_error(shapes, compiled):
    x_shape, mask_shape = shapes
    _same_error(lambda T: T.zeros(*x_shape).masked_fill(T.ones(*mask_shape, dtype=T.bool),
                                                        float("-inf")), compiled)
