"""Lazy modules against PyTorch: reprs before and after the first call, the class they
become, parameters materialised in place (an optimizer built first keeps them), values and
grads after materialisation, and the refusal inside graphnet.compile."""

import numpy as np
import pytest
from parity import check_module, np_of, to_gn, to_torch, torch

import graphnet
from graphnet import nn

rng = np.random.default_rng(0)


def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


LAZY_CASES = {
    "LazyLinear": (lambda m: m.LazyLinear(3), (2, 5)),
    "LazyConv1d": (lambda m: m.LazyConv1d(6, 3, groups=2, bias=False), (2, 4, 7)),
    "LazyConv1d_unbatched": (lambda m: m.LazyConv1d(3, 2), (4, 7)),
    "LazyConv2d": (lambda m: m.LazyConv2d(4, 3, padding=1), (1, 2, 5, 5)),
    "LazyConv3d": (lambda m: m.LazyConv3d(2, 2), (1, 3, 3, 3, 3)),
    "LazyConvTranspose1d": (lambda m: m.LazyConvTranspose1d(4, 3, 2, 1, 1), (2, 3, 5)),
    "LazyConvTranspose2d": (lambda m: m.LazyConvTranspose2d(2, 3), (1, 3, 4, 4)),
    "LazyConvTranspose3d": (lambda m: m.LazyConvTranspose3d(2, 2), (1, 3, 2, 2, 2)),
    "LazyBatchNorm1d": (lambda m: m.LazyBatchNorm1d(), (4, 5)),
    "LazyBatchNorm2d": (lambda m: m.LazyBatchNorm2d(affine=False), (2, 3, 4, 4)),
    "LazyBatchNorm3d": (lambda m: m.LazyBatchNorm3d(momentum=0.2), (2, 3, 2, 2, 2)),
    "LazyInstanceNorm1d": (lambda m: m.LazyInstanceNorm1d(), (3, 5, 4)),
    "LazyInstanceNorm2d": (lambda m: m.LazyInstanceNorm2d(track_running_stats=False),
                           (2, 3, 4, 4)),
    "LazyInstanceNorm3d": (lambda m: m.LazyInstanceNorm3d(affine=False), (2, 3, 2, 2, 2)),
}


@pytest.mark.parametrize("case", LAZY_CASES)
def test_lazy_module_materialises_like_torch(case):
    make, shape = LAZY_CASES[case]
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.has_uninitialized_params()
    x = arr(*shape)
    ours(to_gn(x)), theirs(to_torch(x))
    assert type(ours).__name__ == type(theirs).__name__ == case.split("_")[0][4:]
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    check_module(ours, theirs, [x], atol=1e-4)


def test_optimizer_built_before_first_call_updates_materialised_params():
    model = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(1))
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1)
    x = graphnet.randn(8, 3)
    model(x)
    before = np_of(model[0].weight).copy()
    assert type(model[0].weight) is graphnet.nn.Parameter and before.shape == (4, 3)
    assert np.abs(before).max() <= 1 / np.sqrt(3) and before.std() > 0   # Linear's init
    model(x).sum().backward()
    opt.step()
    assert not np.allclose(np_of(model[0].weight), before)
    assert opt.param_groups[0]["params"][0] is model[0].weight


def test_lazy_module_inside_compile_is_refused_then_compiles_after_one_eager_call():
    layer = nn.LazyLinear(2)
    step = graphnet.compile(lambda x: layer(x))
    with pytest.raises(graphnet.TraceError, match="call it once eagerly"):
        step(graphnet.randn(2, 3))
    layer(graphnet.randn(2, 3))
    x = graphnet.randn(2, 3)
    np.testing.assert_allclose(np_of(step(x)), np_of(layer(x)), rtol=1e-6)


def test_uninitialized_parameter_repr_and_materialize():
    p = nn.UninitializedParameter()
    assert repr(p) == "<UninitializedParameter>"
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and tuple(p.shape) == (2, 3)
    b = nn.UninitializedBuffer()
    assert repr(b) == "<UninitializedBuffer>"


@pytest.mark.parametrize("lazy, plain, x", [
    (lambda m: m.LazyLinear(2), lambda m: m.Linear(3, 2), (4, 3)),
    (lambda m: m.LazyConv2d(4, 3), lambda m: m.Conv2d(2, 4, 3), (1, 2, 5, 5)),
    (lambda m: m.LazyBatchNorm1d(), lambda m: m.BatchNorm1d(3), (4, 3)),
])
def test_lazy_module_loads_a_state_dict_before_its_first_call(lazy, plain, x):
    """As torch's lazy load hook: the uninitialized tensors take the loaded shapes (graphnet
    raised a size mismatch), and the first call computes with the loaded values."""
    source = plain(nn)
    for b in source.buffers():
        if b.dtype.is_floating_point:
            b.add_(0.5)
    module = lazy(nn)
    result = module.load_state_dict(source.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    want = lazy(torch.nn)
    want.load_state_dict({k: to_torch(np_of(v)) for k, v in source.state_dict().items()})
    module.eval(), want.eval()
    data = np.random.default_rng(0).standard_normal(x).astype(np.float32)
    np.testing.assert_allclose(np_of(module(to_gn(data))), np_of(want(to_torch(data))),
                               rtol=1e-6, atol=1e-6)
    assert type(module).__name__ == type(want).__name__


def test_lazy_linear_partly_loaded_keeps_the_loaded_weight():
    module = nn.LazyLinear(2)
    module.load_state_dict({"weight": graphnet.ones(2, 3)}, strict=False)
    module(graphnet.ones(1, 3))
    np.testing.assert_array_equal(np_of(module.weight), np.ones((2, 3), np.float32))
    assert module.in_features == 3 and module.bias.shape == (2,)
