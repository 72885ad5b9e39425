"""nn.utils.parametrize and the weight/spectral norms (parametrizations and the older hook
forms) against PyTorch: state_dict keys, values, gradients and power-iteration buffers
through SGD steps, eagerly and in a compiled training step; eval mode; removal; orthogonal."""

import warnings

import numpy as np
import pytest
from parity import assert_close, copy_torch_params, np_of, to_gn, torch

import graphnet
from graphnet import nn
from graphnet.nn.utils import parametrize

rng = np.random.default_rng(0)
X = rng.standard_normal((5, 4)).astype(np.float32)


def apply(lib, kind, layer):
    utils = lib.nn.utils
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)   # the old forms are deprecated
        if kind.startswith("new_"):
            return getattr(utils.parametrizations, kind[4:])(layer)
        return getattr(utils, kind[4:])(layer)


def pair(kind, make=lambda lib: lib.nn.Linear(4, 3)):
    torch.manual_seed(0)
    theirs, ours = make(torch), make(graphnet)
    copy_torch_params(theirs, ours)
    apply(torch, kind, theirs)
    apply(graphnet, kind, ours)
    copy_torch_params(theirs, ours)   # the same power-iteration start vectors
    return ours, theirs


KINDS = ["new_weight_norm", "new_spectral_norm", "old_weight_norm", "old_spectral_norm"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
def test_trains_like_torch(kind, compiled):
    ours, theirs = pair(kind)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    g_opt = graphnet.optim.SGD(ours.parameters(), lr=0.1)
    t_opt = torch.optim.SGD(theirs.parameters(), lr=0.1)

    def g_step(x):
        g_opt.zero_grad()
        loss = ours(x).square().sum()
        loss.backward()
        g_opt.step()
        return loss

    step = graphnet.compile(g_step) if compiled else g_step
    for i in range(3):
        t_opt.zero_grad()
        t_loss = theirs(torch.from_numpy(X)).square().sum()
        t_loss.backward()
        t_opt.step()
        assert_close(step(to_gn(X)), t_loss, atol=1e-4, rtol=1e-5, what=f"loss {i}")
        for key, value in theirs.state_dict().items():
            assert_close(ours.state_dict()[key], value, atol=1e-5, what=f"{key} step {i}")
    # the old forms' plain attribute is the last forward's weight, also after compiled steps
    assert_close(ours.weight, theirs.weight, atol=1e-5, what="weight read after the steps")


@pytest.mark.parametrize("kind", ["new_spectral_norm", "old_spectral_norm"])
def test_spectral_norm_eval_freezes_power_iteration(kind):
    ours, theirs = pair(kind, lambda lib: lib.nn.Conv2d(2, 3, 3))
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    for module in (ours, theirs):
        module(to_gn(x) if module is ours else torch.from_numpy(x))   # one training step
        module.eval()
    before = {k: np_of(v) for k, v in ours.state_dict().items()}
    compiled = graphnet.compile(lambda a: ours(a))
    for _ in range(2):
        assert_close(compiled(to_gn(x)), theirs(torch.from_numpy(x)), atol=1e-5)
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(np_of(value), before[key], err_msg=key)
        assert_close(value, theirs.state_dict()[key], atol=1e-6, what=key)


def test_weight_norm_dims_match_torch():
    for dim in (0, 1, None):
        torch.manual_seed(0)
        theirs = torch.nn.utils.parametrizations.weight_norm(torch.nn.Conv1d(2, 3, 3), dim=dim)
        ours = nn.Conv1d(2, 3, 3)
        ours.weight.data = to_gn(theirs.parametrizations.weight.original1.detach().numpy())
        ours = nn.utils.parametrizations.weight_norm(ours, dim=dim)
        copy_torch_params(theirs, ours)
        assert_close(ours.weight, theirs.weight, what=f"dim={dim}")
        assert tuple(ours.parametrizations.weight.original0.shape) == \
            tuple(theirs.parametrizations.weight.original0.shape)


def test_remove_restores_a_plain_parameter():
    for kind in KINDS:
        ours, theirs = pair(kind)
        expected = np_of(ours.weight)
        if kind.startswith("new_"):
            parametrize.remove_parametrizations(ours, "weight")
            torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
        else:
            getattr(nn.utils, f"remove_{kind[4:]}")(ours)
            getattr(torch.nn.utils, f"remove_{kind[4:]}")(theirs)
        assert type(ours) is nn.Linear and isinstance(ours.weight, nn.Parameter)
        assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
        if kind != "old_spectral_norm":   # its plain `weight` is stale until a forward
            np.testing.assert_allclose(np_of(ours.weight), expected, atol=1e-6)
        assert_close(ours.weight, theirs.weight, atol=1e-5, what=kind)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(nn.Linear(2, 2), "weight")


class Symmetric:
    """The same parametrization for both libraries: X -> triu(X) + triu(X, 1)^T."""

    @staticmethod
    def make(lib):
        class Sym(lib.nn.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(-1, -2)

            def right_inverse(self, A):
                return A.triu()
        return Sym()


def test_register_parametrization_custom_stacked_and_assignment():
    theirs, ours = torch.nn.Linear(3, 3), nn.Linear(3, 3)
    copy_torch_params(theirs, ours)
    for lib, layer in ((torch, theirs), (graphnet, ours)):
        lib.nn.utils.parametrize.register_parametrization(layer, "weight", Symmetric.make(lib))
    assert type(ours).__name__ == "ParametrizedLinear" and parametrize.is_parametrized(ours)
    assert parametrize.is_parametrized(ours, "weight")
    assert not parametrize.is_parametrized(ours, "bias")
    assert parametrize.type_before_parametrizations(ours) is nn.Linear
    assert_close(ours.weight, theirs.weight)
    np.testing.assert_allclose(np_of(ours.weight), np_of(ours.weight).T)
    value = rng.standard_normal((3, 3)).astype(np.float32)
    ours.weight = to_gn(value)           # goes through right_inverse
    with torch.no_grad():
        theirs.weight = torch.from_numpy(value)
    assert_close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original)
    with parametrize.cached():
        assert ours.weight is ours.weight
    assert ours.weight is not ours.weight
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(ours, "bias", _Truncate())
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(ours, "nothing", _Truncate())
    parametrize.remove_parametrizations(ours, "weight", leave_parametrized=False)
    assert type(ours) is nn.Linear
    assert_close(ours.weight, np.triu(value))


class _Truncate(nn.Module):
    def forward(self, x):
        return x[:-1]


def test_parametrized_weight_gradients_match_torch_compiled():
    theirs, ours = torch.nn.Linear(3, 3), nn.Linear(3, 3)
    copy_torch_params(theirs, ours)
    for lib, layer in ((torch, theirs), (graphnet, ours)):
        lib.nn.utils.parametrize.register_parametrization(layer, "weight", Symmetric.make(lib))
    x = rng.standard_normal((4, 3)).astype(np.float32)
    theirs(torch.from_numpy(x)).sin().sum().backward()

    def step(a):
        out = ours(a).sin().sum()
        out.backward()
        return out

    graphnet.compile(step)(to_gn(x))
    assert_close(ours.parametrizations.weight.original.grad,
                 theirs.parametrizations.weight.original.grad)


@pytest.mark.parametrize("shape,orthogonal_map", [
    ((4, 4), None), ((5, 3), None), ((3, 5), "householder"), ((4, 4), "cayley"),
    ((3, 5), "matrix_exp")])
def test_orthogonal_matches_torch(shape, orthogonal_map):
    weight = rng.standard_normal(shape).astype(np.float32)
    theirs = torch.nn.Linear(shape[1], shape[0], bias=False)
    ours = nn.Linear(shape[1], shape[0], bias=False)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(weight))
    ours.weight.data = to_gn(weight)
    torch.nn.utils.parametrizations.orthogonal(theirs, orthogonal_map=orthogonal_map)
    nn.utils.parametrizations.orthogonal(ours, orthogonal_map=orthogonal_map)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    # NOTE: a non-square base is completed with random columns that never reach the weight
    copy_torch_params(theirs, ours)
    assert_close(ours.weight, theirs.weight, atol=1e-5)
    x = rng.standard_normal((2, shape[1])).astype(np.float32)
    theirs(torch.from_numpy(x)).sum().backward()
    ours(to_gn(x)).sum().backward()
    assert_close(ours.parametrizations.weight.original.grad,
                 theirs.parametrizations.weight.original.grad, atol=1e-5)


def test_orthogonal_errors():
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
        nn.utils.parametrizations.orthogonal(nn.Linear(3, 3), "bias")
    with pytest.raises(ValueError, match='orthogonal_map has to be one of'):
        nn.utils.parametrizations.orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(NotImplementedError, match="use_trivialization=True"):
        nn.utils.parametrizations.orthogonal(nn.Linear(3, 4), orthogonal_map="householder",
                                             use_trivialization=False)


def test_old_forms_warn_and_refuse_twice():
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        layer = nn.utils.weight_norm(nn.Linear(3, 2))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), \
            pytest.warns(FutureWarning):
        nn.utils.weight_norm(layer)
    layer = nn.utils.spectral_norm(nn.Linear(3, 2))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        nn.utils.spectral_norm(layer)
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive"):
        nn.utils.parametrizations.spectral_norm(nn.Linear(3, 2), n_power_iterations=0)
