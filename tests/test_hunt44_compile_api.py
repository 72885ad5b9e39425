"""torch.compile's API as scripts use it: a compiled module (and a model after
`model.compile()`) pickles and loads as torch's does (its handle's closures refused before);
`torch._dynamo.reset()` and `torch._dynamo.config.cache_size_limit` exist, the limit read as
the default number of programs a compiled function keeps, an unknown setting refused;
`mode="lite"` is accepted, an unknown mode and a mode with `options` raise PyTorch's error."""

import pickle

import numpy as np
import pytest
import torch

import graphnet

_X = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)


class _Net(graphnet.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = graphnet.nn.Linear(4, 3)

    def forward(self, x):
        return self.a(x).relu()


@pytest.mark.parametrize("how", ["compile_function", "compile_method", "called_first"])
def test_compiled_module_pickles(how):
    net = _Net()
    x = graphnet.tensor(_X)
    if how == "compile_method":
        net.compile()
        model = net
    else:
        model = graphnet.compile(net)
    if how != "compile_function":
        model(x)
    want = model(x).detach().numpy()
    loaded = pickle.loads(pickle.dumps(model))
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded(x).detach().numpy(), want)
    with graphnet.no_grad():   # its own parameters, not the original's
        next(loaded.parameters()).zero_()
    np.testing.assert_array_equal(model(x).detach().numpy(), want)
    if how == "compile_method":
        assert loaded.__dict__.get("_compiled_call") is not None


def test_compiled_function_pickles_with_its_settings():
    compiled = graphnet.compile(_double, mode="dynamic", cache_size=3)
    loaded = pickle.loads(pickle.dumps(compiled))
    assert (loaded.compiled.mode, loaded.compiled.cache_size) == ("dynamic", 3)
    assert loaded(graphnet.ones(2)).tolist() == [2.0, 2.0]


def _double(x):
    return x * 2


def test_dynamo_config_sets_the_default_limit():
    config = graphnet._dynamo.config
    assert (config.cache_size_limit, config.recompile_limit) == (8, 8)
    try:
        config.cache_size_limit = 2
        f = graphnet.compile(_double)
        assert f.compiled.cache_size == 2
        for n in range(1, 5):   # past the limit: eager, with the same values
            assert f(graphnet.ones(n)).tolist() == [2.0] * n
        assert len(f.compiled.artifacts) == 2
        assert graphnet.compile(_double, recompile_limit=5).compiled.cache_size == 5
        graphnet._dynamo.reset()
        assert len(f.compiled.artifacts) == 0
    finally:
        config.recompile_limit = 8
    with pytest.raises(AttributeError, match="no setting 'suppress_errors'"):
        config.suppress_errors = True
    with pytest.raises(TypeError):
        config.cache_size_limit = -1
    assert torch._dynamo.config.cache_size_limit == 8


@pytest.mark.parametrize("mode", ["default", "lite", "reduce-overhead", "max-autotune",
                                  "max-autotune-no-cudagraphs"])
def test_torch_modes_compile(mode):
    assert graphnet.compile(_double, mode=mode)(graphnet.ones(2)).tolist() == [2.0, 2.0]


@pytest.mark.parametrize("kwargs, says", [
    (dict(mode="bogus"), "Unrecognized mode=bogus, should be one of: default, lite"),
    (dict(mode="max-autotune", options={"a": 1}), "Either mode or options can be specified")])
def test_bad_mode_refused_as_torch(kwargs, says):
    with pytest.raises(RuntimeError, match=says):
        torch.compile(lambda x: x, **kwargs)(torch.ones(1))
    with pytest.raises(RuntimeError, match=says):
        graphnet.compile(_double, **kwargs)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copy_of_an_inference_tensor_is_a_normal_tensor(how):
    import copy

    for T in (torch, graphnet):
        with T.inference_mode():
            t = T.ones(3)
        assert t.is_inference()
        c = copy.deepcopy(t) if how == "deepcopy" else pickle.loads(pickle.dumps(t))
        assert not c.is_inference()
        c.add_(1)   # outside inference mode: refused for an inference tensor
        assert c.tolist() == [2.0, 2.0, 2.0]
