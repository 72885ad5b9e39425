"""PyTorch's import paths beyond the top-level names (`torch.nn.modules.loss._Loss`,
`torch.nn.parameter.Parameter`, `torch.utils.data.dataloader.DataLoader` ...), and the module
classes' hierarchy: `isinstance(m, nn.Dropout)` or `isinstance(m, nn.ReLU)` must answer as
in torch, or code that walks a model to switch layers silently picks others."""

import importlib
import inspect
import pkgutil

import pytest
import torch

import graphnet as G
import graphnet.nn.modules as gn_modules

SUBMODULES = sorted(m.name for m in pkgutil.iter_modules(gn_modules.__path__))


@pytest.mark.parametrize("sub", SUBMODULES)
def test_nn_modules_submodule_names_and_subclasses_are_torchs(sub):
    ours = importlib.import_module(f"graphnet.nn.modules.{sub}")
    theirs = importlib.import_module(f"torch.nn.modules.{sub}")
    classes = {n: c for n, c in vars(ours).items() if inspect.isclass(c)}
    assert classes or sub == "utils"
    for name, cls in classes.items():
        base = getattr(theirs, name)     # every name exists in torch's module of that name
        for other_name, other in classes.items():
            want = issubclass(getattr(theirs, other_name), base)
            if other_name.startswith("Lazy"):
                continue    # known: listed in test_known_hierarchy_differences
            assert issubclass(other, cls) == want, f"issubclass({other_name}, {name})"


def test_known_hierarchy_differences():
    # torch's lazy norms become their class after the first call (cls_to_become); graphnet's
    # are subclasses from the start.
    assert issubclass(G.nn.LazyBatchNorm1d, G.nn.BatchNorm1d)


def test_isinstance_walks_match_torch():
    def kinds(lib):
        model = lib.nn.Sequential(lib.nn.SiLU(), lib.nn.ReLU6(), lib.nn.Dropout2d(),
                                  lib.nn.AlphaDropout(), lib.nn.LogSoftmax(1),
                                  lib.nn.Softshrink(), lib.nn.ZeroPad2d(1), lib.nn.Dropout())
        checks = [lib.nn.ReLU, lib.nn.Hardtanh, lib.nn.Dropout, lib.nn.Softmax,
                  lib.nn.Hardshrink, lib.nn.ConstantPad2d]
        return [[isinstance(m, c) for c in checks] for m in model]
    assert kinds(G) == kinds(torch)


def test_tuple_helpers_and_parameter_module():
    from graphnet.nn.modules.utils import _ntuple, _pair, _reverse_repeat_tuple, _triple
    from torch.nn.modules import utils as tu

    for value in (3, (1, 2), [4, 5, 6]):
        assert _pair(value) == tu._pair(value) and _triple(value) == tu._triple(value)
    assert _ntuple(4)(1) == tu._ntuple(4)(1)
    assert _reverse_repeat_tuple((1, 2), 2) == tu._reverse_repeat_tuple((1, 2), 2)
    from graphnet.nn.parameter import Buffer, Parameter, UninitializedParameter, is_lazy

    assert Parameter is G.nn.Parameter and Buffer is G.nn.Buffer
    assert is_lazy(G.nn.LazyLinear(3).weight) and not is_lazy(G.nn.Linear(2, 3).weight)
    assert isinstance(G.nn.LazyLinear(3).weight, UninitializedParameter)


@pytest.mark.parametrize("sub", ["dataloader", "dataset", "sampler", "distributed"])
def test_utils_data_submodules_hold_torchs_public_names(sub):
    ours = getattr(G.utils.data, sub)
    theirs = importlib.import_module(f"torch.utils.data.{sub}")
    for name in dir(ours):
        if not name.startswith("_") and name != "annotations":
            assert hasattr(theirs, name), name
    assert ours.__name__ == f"graphnet.utils.data.{sub}"


def test_module_classes_reachable_from_nn_modules():
    assert G.nn.modules.Linear is G.nn.Linear and G.nn.modules.loss.MSELoss is G.nn.MSELoss
    assert G.nn.modules.module.Module is G.nn.Module
    assert issubclass(G.nn.Conv2d, G.nn.modules.conv._ConvNd)
    assert issubclass(G.nn.BatchNorm2d, G.nn.modules.batchnorm._BatchNorm)
