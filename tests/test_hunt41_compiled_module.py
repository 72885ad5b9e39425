"""`graphnet.compile(module)` is an nn.Module, as PyTorch's OptimizedModule: a compiled
submodule's parameters are its parent's (a plain wrapper was stored as an attribute, so the
optimizer silently never trained it and checkpoints left it out), `.to()`/`.train()`/
`.eval()` keep it compiled, containers take it, and `_orig_mod` is the original module."""
import copy

import numpy as np
import pytest
import torch

import graphnet as G


def _net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = lib.compile(lib.nn.Linear(2, 2))
            self.head = lib.nn.Linear(2, 1)

        def forward(self, x):
            return self.head(self.enc(x).relu())

    return Net()


def test_compiled_submodule_trains_and_saves_with_its_parent():
    nets = {}
    for lib in (torch, G):
        nets[lib.__name__] = _net(lib)
    t, g = nets["torch"], nets["graphnet"]
    assert list(g.state_dict()) == list(t.state_dict()) == [
        "enc._orig_mod.weight", "enc._orig_mod.bias", "head.weight", "head.bias"]
    g.load_state_dict({k: G.tensor(v.numpy()) for k, v in t.state_dict().items()})
    opts = [torch.optim.SGD(t.parameters(), lr=0.1), G.optim.SGD(g.parameters(), lr=0.1)]
    x = np.arange(8, dtype=np.float32).reshape(4, 2) / 8
    for _ in range(3):
        for lib, net, opt in ((torch, t, opts[0]), (G, g, opts[1])):
            opt.zero_grad()
            net(lib.tensor(x)).pow(2).sum().backward()
            opt.step()
    np.testing.assert_allclose(g.enc._orig_mod.weight.detach().numpy(),
                               t.enc._orig_mod.weight.detach().numpy(), rtol=1e-5)
    assert len(list(g.parameters())) == 4


def test_module_methods_return_the_compiled_module():
    m = G.compile(G.nn.Linear(2, 2))
    assert isinstance(m, G.nn.Module)
    for result in (m.to("cpu"), m.eval(), m.train(), m.float(), m.requires_grad_(True)):
        assert result is m
    m.eval()
    assert m.training is False and m._orig_mod.training is False
    m(G.ones(1, 2))
    assert m.compiled.mode == "static" and len(m.compiled.artifacts) == 1
    assert isinstance(m.explain(), dict) and m.graph is not None
    assert m.weight is m._orig_mod.weight          # other attributes: the original's
    seq = G.nn.Sequential(m, G.nn.ReLU())
    assert seq(G.ones(1, 2)).shape == (1, 2)
    assert repr(m).startswith("OptimizedModule(\n  (_orig_mod): Linear(")


def test_deepcopy_is_a_compiled_copy():
    m = G.compile(G.nn.Linear(2, 2))
    c = copy.deepcopy(m)
    assert isinstance(c, G.nn.Module) and c._orig_mod is not m._orig_mod
    with G.no_grad():
        c._orig_mod.weight.zero_()
        c._orig_mod.bias.zero_()
    assert c(G.ones(1, 2)).tolist() == [[0.0, 0.0]]
    assert m(G.ones(1, 2)).tolist() != [[0.0, 0.0]]


def test_shape_errors_still_name_the_original_modules():
    m = G.compile(G.nn.Sequential(G.nn.Linear(2, 2)))
    with pytest.raises(G.ShapeError, match=r"0 \(Linear\)"):
        m(G.ones(1, 3))


def test_compiled_function_keeps_its_name_doc_and_signature():
    import inspect

    def step(x, scale: float = 2.0):
        """Scale x."""
        return x * scale

    for lib in (torch, G):
        c = lib.compile(step)
        assert (c.__name__, c.__qualname__.rsplit(".", 1)[-1], c.__doc__) == \
            ("step", "step", "Scale x.")
        assert c.__wrapped__ is step and c.__module__ == step.__module__
        assert str(inspect.signature(c)) == "(x, scale: float = 2.0)"
    assert G.compile(step)(G.ones(2)).tolist() == [2.0, 2.0]


def test_attributes_set_and_deleted_through_the_wrapper_are_the_originals():
    class Scaled(G.nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.head, self.scale = G.nn.Linear(2, 2), G.nn.Linear(2, 2), 1.0

        def forward(self, x):
            return self.head(self.body(x)) * self.scale

    m = G.compile(Scaled())
    x = G.ones(1, 2)
    first = m(x)
    m.scale = 5.0                     # the program traces again and sees it
    assert m._orig_mod.scale == 5.0 and "scale" not in m.__dict__
    np.testing.assert_allclose(m(x).detach().numpy(), first.detach().numpy() * 5, rtol=1e-6)
    m.head = G.nn.Linear(2, 7)
    assert tuple(m(x).shape) == (1, 7) and "head" not in m._modules
    assert [k for k in m.state_dict() if not k.startswith("_orig_mod.")] == []
    m.tag = "x"
    del m.tag
    assert not hasattr(m._orig_mod, "tag")
    assert len(G.compile(G.nn.Sequential(G.nn.ReLU(), G.nn.ReLU()))) == 2
    assert "body" in dir(m) and "0" not in dir(G.nn.Sequential(G.nn.ReLU()))


def test_training_is_the_originals_flag():
    for lib in (torch, G):
        m = lib.compile(lib.nn.Dropout(0.5).eval())
        assert m.training is False
        m.training = True
        assert m._orig_mod.training is True
        m.eval()
        assert m._orig_mod.training is False


def test_hooks_on_the_wrapper_run_around_the_compiled_call():
    calls = []
    m = G.compile(G.nn.Linear(2, 2))
    m.register_forward_pre_hook(lambda mod, args: calls.append("pre"))
    m.register_forward_hook(lambda mod, args, out: out * 0)
    y = m(G.ones(1, 2))
    assert calls == ["pre"] and y.abs().sum().item() == 0.0
