"""torch.* spellings of layer functions (ATen argument orders), window functions and the
in-place functional forms, against torch, eagerly and compiled."""

import numpy as np
import pytest
from parity import assert_close, to_gn, to_torch, torch

import graphnet

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3, 8)).astype(np.float32)
W = RNG.standard_normal((5, 3)).astype(np.float32)
K = RNG.standard_normal((4, 3, 3)).astype(np.float32)

CALLS = {
    "conv1d": lambda T, x, w, k: T.conv1d(x, k, padding=1),
    "embedding": lambda T, x, w, k: T.embedding(w, T.tensor([[1, 4], [0, 2]])),
    "batch_norm": lambda T, x, w, k: T.batch_norm(x, None, None, None, None, True, 0.1, 1e-5,
                                                  False),
    "instance_norm": lambda T, x, w, k: T.instance_norm(x, None, None, None, None, True, 0.1,
                                                        1e-5, False),
    "layer_norm": lambda T, x, w, k: T.layer_norm(x, (8,)),
    "group_norm": lambda T, x, w, k: T.group_norm(x, 3),
    "max_pool1d": lambda T, x, w, k: T.max_pool1d(x, 2),
    "max_pool1d_with_indices": lambda T, x, w, k: T.max_pool1d_with_indices(x, 3, 2),
    "adaptive_max_pool1d": lambda T, x, w, k: T.adaptive_max_pool1d(x, 3),
    "dropout_eval": lambda T, x, w, k: T.dropout(x, 0.5, False),
    "constant_pad_nd": lambda T, x, w, k: T.constant_pad_nd(x, (1, 2), 0.5),
    "selu": lambda T, x, w, k: T.selu(x) + T.celu(x) + T.threshold(x, 0.1, -1.0),
    "hann_window": lambda T, x, w, k: x * T.hann_window(8),
    "windows": lambda T, x, w, k: T.stack([T.hamming_window(8, False), T.blackman_window(8),
                                           T.bartlett_window(8), T.kaiser_window(8)]),
}


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name", list(CALLS))
def test_torch_spellings_match_torch(name, compiled):
    fn = CALLS[name]
    expected = _flat(fn(torch, to_torch(X), to_torch(W), to_torch(K)))
    call = (lambda *a: fn(graphnet, *a))
    inputs = [to_gn(X), to_gn(W), to_gn(K)]
    actual = _flat(graphnet.compile(call)(*inputs) if compiled else call(*inputs))
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert_close(a, e, atol=1e-5, rtol=1e-5, what=name)


@pytest.mark.parametrize("name", ["relu_", "elu_", "leaky_relu_", "hardtanh_", "selu_"])
def test_inplace_functional_forms_write_into_the_input(name):
    ours, theirs = to_gn(X), to_torch(X)
    result = getattr(graphnet.nn.functional, name)(ours)
    getattr(torch.nn.functional, name)(theirs)
    assert result is ours
    assert_close(ours, theirs)


def test_init_sparse_and_the_deprecated_spellings():
    w = graphnet.empty(10, 4)
    graphnet.nn.init.sparse_(w, 0.3)
    assert (w == 0).sum(0).tolist() == [3, 3, 3, 3]   # ceil(0.3 * 10) zeros per column
    with pytest.warns(FutureWarning, match="deprecated in favor of `nn.init.kaiming_normal_`"):
        assert graphnet.nn.init.kaiming_normal(graphnet.empty(2, 3)).shape == (2, 3)
    with pytest.raises(ValueError, match="2 dimensions"):
        graphnet.nn.init.sparse_(graphnet.empty(3), 0.1)


def test_legacy_tensor_methods_and_container():
    for make in (lambda T, x: x.new([1, 2]), lambda T, x: x.new((2, 3)),
                 lambda T, x: x.new(2, 3).shape, lambda T, x: x.new(T.Size([2])).shape,
                 lambda T, x: x.clone().apply_(lambda v: v * 10),
                 lambda T, x: x.clone().map_(T.ones(3), lambda a, b: a + b),
                 lambda T, x: x.to_dense(), lambda T, x: x.dim_order()):
        ours, theirs = make(graphnet, to_gn(X[0, 0, :3])), make(torch, to_torch(X[0, 0, :3]))
        if hasattr(theirs, "numpy"):
            assert_close(ours, theirs)
        else:
            assert tuple(ours) == tuple(theirs)
    with pytest.warns(UserWarning, match="Container is deprecated"):
        box = graphnet.nn.Container(a=graphnet.nn.Linear(1, 1))
    assert list(box.state_dict()) == ["a.weight", "a.bias"]


def test_asarray_dlpack_and_strided_factories():
    x = graphnet.asarray([1.0, 2.0])
    assert graphnet.asarray(x) is x and graphnet.asarray(x, copy=True) is not x
    assert graphnet.get_device(x) == torch.get_device(torch.ones(1)) == -1
    assert graphnet.empty_strided((2, 3), (3, 1)).shape == (2, 3)
    assert graphnet.from_dlpack(np.arange(3.0)).tolist() == [0.0, 1.0, 2.0]
    assert torch.from_dlpack(graphnet.to_dlpack(graphnet.ones(2))).tolist() == [1.0, 1.0]
