"""`.data`, `detach()` and `state_dict()` values share their tensor's storage in PyTorch: a
later in-place change of the tensor (an optimizer step, eager or compiled, `load_state_dict`,
an in-place op) shows in them. graphnet's kept the values of when they were taken."""

import numpy as np
import pytest
import torch

import graphnet

OPTIMIZERS = [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.05)),
              ("LBFGS", dict(lr=0.5, max_iter=3))]


def _models():
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((2, 3)).astype(np.float32), np.array([0.5, -0.5], np.float32)
    out = []
    for lib in (torch, graphnet):
        m = lib.nn.Linear(3, 2)
        with lib.no_grad():
            m.weight.copy_(lib.tensor(w))
            m.bias.copy_(lib.tensor(b))
        out.append(m)
    return out


def _train(lib, m, name, cfg, compiled: bool, steps: int = 3):
    opt = getattr(lib.optim, name)(m.parameters(), **cfg)
    x = lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))

    def closure():
        opt.zero_grad()
        loss = m(x).pow(2).sum()
        loss.backward()
        return loss

    def step():
        if name == "LBFGS":
            return opt.step(closure)
        loss = closure()
        opt.step()
        return loss

    run = graphnet.compile(step) if compiled and lib is graphnet and name != "LBFGS" else step
    for _ in range(steps):
        run()


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("name,cfg", OPTIMIZERS, ids=[n for n, _ in OPTIMIZERS])
def test_aliases_taken_before_training_hold_the_trained_values(name, cfg, compiled):
    results = []
    for lib, m in zip((torch, graphnet), _models(), strict=True):
        snapshot = m.state_dict()
        data, detached = m.weight.data, m.bias.detach()
        _train(lib, m, name, cfg, compiled)
        results.append([np.array(t.detach().numpy() if lib is torch else t.numpy())
                        for t in (snapshot["weight"], snapshot["bias"], data, detached,
                                  m.weight.detach(), m.bias.detach())])
    (t_snap_w, t_snap_b, t_data, t_det, t_w, t_b), (g_snap_w, g_snap_b, g_data, g_det, g_w, g_b) \
        = results
    np.testing.assert_allclose(g_w, t_w, atol=1e-5)
    for got in (g_snap_w, g_data):
        np.testing.assert_allclose(got, t_w, atol=1e-5)
    for got in (g_snap_b, g_det):
        np.testing.assert_allclose(got, t_b, atol=1e-5)


def test_load_state_dict_and_in_place_ops_reach_earlier_aliases():
    for lib in (torch, graphnet):
        m = lib.nn.Linear(3, 2)
        snapshot, data = m.state_dict(), m.weight.data
        m.load_state_dict({"weight": lib.zeros(2, 3), "bias": lib.ones(2)})
        assert float(snapshot["weight"].abs().sum()) == 0.0 and float(data.abs().sum()) == 0.0
        assert snapshot["bias"].tolist() == [1.0, 1.0]
        with lib.no_grad():
            m.bias.mul_(3)
        assert snapshot["bias"].tolist() == [3.0, 3.0]
        x = lib.ones(3)
        alias, alias_of_alias = x.detach(), x.detach().detach()
        x.add_(1)
        assert alias.tolist() == alias_of_alias.tolist() == [2.0, 2.0, 2.0], lib.__name__
        alias.mul_(2)   # and back: the tensor and its other aliases see it
        assert x.tolist() == alias_of_alias.tolist() == [4.0, 4.0, 4.0], lib.__name__


def test_data_assignment_gives_new_storage_and_earlier_aliases_keep_the_old():
    for lib in (torch, graphnet):
        m = lib.nn.Linear(3, 2)
        old = m.weight.data
        before = old.clone()
        m.weight.data = lib.ones(2, 3)
        with lib.no_grad():
            m.weight.mul_(5)
        assert lib.equal(old, before), lib.__name__
        assert float(m.weight.detach().sum()) == 30.0


def test_deep_copies_and_pickles_are_independent_of_the_originals_ties():
    import copy
    import pickle

    for lib in (torch, graphnet):
        lib.manual_seed(0)
        m = lib.nn.BatchNorm1d(3)
        snapshot = m.state_dict()          # aliases of the running statistics
        twin = copy.deepcopy(m)
        twin(lib.randn(4, 3) + 5)          # moves the twin's running mean only
        assert snapshot["running_mean"].tolist() == [0.0, 0.0, 0.0], lib.__name__
        assert float(twin.running_mean.abs().sum()) > 1.0
        x = lib.ones(4)
        view_copy = copy.deepcopy(x[1:3])
        view_copy.add_(5)                  # a deep copy of a view has storage of its own
        assert x.tolist() == [1.0] * 4 and view_copy.tolist() == [6.0, 6.0], lib.__name__
        t = lib.ones(3)
        alias = t.detach()
        again = pickle.loads(pickle.dumps(t))   # a tensor with aliases still pickles
        again.add_(1)
        assert alias.tolist() == [1.0] * 3 and again.tolist() == [2.0] * 3, lib.__name__


def _returning_aliases(lib, compiled: bool):
    """A step that returns aliases of its inputs: taken after the step, taken before it (so
    the step's own update must reach it), a buffer, and a detached argument."""
    m, = [m for m, lib_ in zip(_models(), (torch, graphnet), strict=True) if lib_ is lib]
    bn = lib.nn.BatchNorm1d(2)
    opt = lib.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

    def step(x):
        before = m.weight.detach()
        opt.zero_grad()
        y = m(x)
        bn(y.detach())
        y.pow(2).sum().backward()
        opt.step()
        return m.bias.detach(), before, bn.running_mean, x.detach()

    run = graphnet.compile(step) if compiled and lib is graphnet else step
    x = lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
    held = run(x)
    run(x)   # a later step reaches the tensors the first call returned
    with lib.no_grad():
        x.mul_(2)
        held[0][0] = 7.0   # and a write through a returned alias reaches its tensor
    return [np.array(t.detach().numpy() if lib is torch else t.numpy())
            for t in (*held, m.bias.detach())]


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_returned_aliases_follow_their_tensors_as_in_pytorch(compiled):
    want = _returning_aliases(torch, False)
    got = _returning_aliases(graphnet, compiled)
    for w, g in zip(want, got, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_data_assignment_inside_a_step_leaves_aliases_taken_between_steps(compiled):
    results = []
    for lib, m in zip((torch, graphnet), _models(), strict=True):
        def step():
            with lib.no_grad():
                m.weight.data = m.weight.data + 1
            return m.weight.sum()

        run = graphnet.compile(step) if compiled and lib is graphnet else step
        run()
        between = m.weight.data   # the next step gives the weight new storage
        run()
        run()
        results.append([np.array(t.numpy()) for t in (between, m.weight.detach())])
    for w, g in zip(*results, strict=True):
        np.testing.assert_allclose(g, w)
