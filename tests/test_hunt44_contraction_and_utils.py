"""PyTorch's refusals and conversions kept: `tensor(2.) @ v` raises (it broadcast into a sum),
tensordot's `dims` larger than an input's rank raises tensordot's own error (it was a
dimension error, or a number), a checkpoint of the old `nn.utils.weight_norm` (`weight_g`,
`weight_v`) loads into `parametrizations.weight_norm`, and `prune.custom_from_mask` with a
mask of the wrong shape says which shapes (its assertion was bare)."""

import numpy as np
import pytest
import torch
import torch.nn.utils.prune  # noqa: F401  (torch loads it only on request)

import graphnet


def _error(fn):
    try:
        fn()
    except Exception as error:   # noqa: BLE001  (the type and message are what is compared)
        return type(error), str(error)
    return None


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("shapes", [((), (3,)), ((), (3, 3)), ((3,), ()), ((), ()),
                                    ((), (2, 3, 3))])
def test_matmul_refuses_a_zero_dim_operand(shapes, compiled):
    a, b = (np.full(s, 2.0, dtype=np.float32) for s in shapes)
    want = _error(lambda: torch.tensor(a) @ torch.tensor(b))
    fn = (lambda x, y: x @ y)
    if compiled:
        fn = graphnet.compile(fn)
    got = _error(lambda: fn(graphnet.tensor(a), graphnet.tensor(b)))
    assert want is not None and got is not None
    assert issubclass(got[0], want[0]) and got[1] == want[1]


@pytest.mark.parametrize("shapes, dims", [(((2, 2), (2, 2)), 3), (((2, 2), (2, 2, 2)), 3),
                                          (((2, 2, 2), (2, 2)), 3), (((3,), (3, 4)), 2)])
def test_tensordot_dims_past_the_rank(shapes, dims):
    a, b = (np.ones(s, dtype=np.float32) for s in shapes)
    want = _error(lambda: torch.tensordot(torch.tensor(a), torch.tensor(b), dims=dims))
    got = _error(lambda: graphnet.tensordot(graphnet.tensor(a), graphnet.tensor(b), dims=dims))
    assert want == (RuntimeError, f"tensordot expects dims < ndim_a or ndim_b, but got "
                                  f"dims={dims}")
    assert got == want


def test_tensordot_dims_at_the_rank_still_contracts():
    a = np.arange(4.0, dtype=np.float32).reshape(2, 2)
    b = np.arange(8.0, dtype=np.float32).reshape(2, 2, 2)
    want = torch.tensordot(torch.tensor(a), torch.tensor(b), dims=2)
    got = graphnet.tensordot(graphnet.tensor(a), graphnet.tensor(b), dims=2)
    assert got.tolist() == want.tolist()


@pytest.mark.parametrize("dim", [0, 1])
def test_old_weight_norm_checkpoint_loads_into_the_parametrization(dim):
    w = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    x = np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4)
    outs = []
    for T in (torch, graphnet):
        old = T.nn.utils.weight_norm(T.nn.Linear(4, 3), dim=dim)
        with T.no_grad():
            old.weight_v.copy_(T.tensor(w))
            old.weight_g.copy_(T.linspace(0.5, 2.0, old.weight_g.numel()).reshape(old.weight_g.shape))
            old.bias.fill_(0.5)
        state = old.state_dict()
        assert {"weight_g", "weight_v"} <= set(state)
        new = T.nn.utils.parametrizations.weight_norm(T.nn.Linear(4, 3), dim=dim)
        result = new.load_state_dict(state)
        assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
        outs.append(new(T.tensor(x)).detach().numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-6, atol=1e-6)


def test_custom_from_mask_shape_says_which_shapes():
    messages = []
    for T in (torch, graphnet):
        with pytest.raises(AssertionError) as raised:
            T.nn.utils.prune.custom_from_mask(T.nn.Linear(10, 4), "weight", T.ones(3, 3))
        messages.append(str(raised.value).replace("torch.", "").replace("graphnet.", ""))
    assert messages[0] == messages[1] == \
        "default_mask shape Size([4, 10]) must match self.mask shape Size([3, 3])"


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_sparse_embedding_bag_refused_when_built(mode):
    with pytest.raises(NotImplementedError, match="EmbeddingBag: sparse=True"):
        graphnet.nn.EmbeddingBag(10, 3, mode=mode, sparse=True)
    with pytest.raises(NotImplementedError, match="Embedding: sparse=True"):
        graphnet.nn.Embedding(10, 3, sparse=True)
