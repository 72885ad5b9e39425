"""Optimizer state written in place keeps its own dtype, as torch's in-place updates do:
after `model.double()` between steps an existing float32 momentum buffer (Adagrad sum,
RMSprop square_avg ...) stays float32, eagerly and in a compiled step; where torch's step
raises instead (Adam's `exp_avg.lerp_(grad)` with a float64 grad), graphnet raises the same
error (graphnet/optim/sgd.py, _kernels_adaptive.py)."""

import graphnet as gt
import numpy as np
import pytest
import torch

pytestmark = pytest.mark.filterwarnings("ignore")

WEIGHT = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
BIAS = np.array([0.3, -0.2], np.float32)
X = np.linspace(0, 2, 15, dtype=np.float32).reshape(5, 3)

KEEPS_DTYPE = [
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("Adagrad", dict(lr=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5)),
    ("Adadelta", dict(lr=0.1)),
    ("ASGD", dict(lr=0.1)),
    ("Rprop", dict(lr=0.01)),
]
IDS = [f"{name}-{'-'.join(map(str, kw.values()))}" for name, kw in KEEPS_DTYPE]


def _training(L, name, kw, compiled=False):
    """(model, optimizer, step): a Linear(3, 2) with fixed values and its training step."""
    model = L.nn.Linear(3, 2)
    with L.no_grad():
        model.weight.copy_(L.tensor(WEIGHT))
        model.bias.copy_(L.tensor(BIAS))
    opt = getattr(L.optim, name)(model.parameters(), **kw)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    return model, opt, (gt.compile(step) if compiled else step)


def _train_then_double(L, name, kw, compiled=False):
    model, opt, step = _training(L, name, kw, compiled)
    x = L.tensor(X)
    losses = [step(x).item() for _ in range(2)]
    model.double()
    losses += [step(x.double()).item() for _ in range(3)]
    state = {key: value for key, value in opt.state[model.weight].items()
             if hasattr(value, "dtype")}
    return model, state, losses


def _name(dtype) -> str:
    return str(dtype).split(".")[-1]


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize(("name", "kw"), KEEPS_DTYPE, ids=IDS)
def test_state_keeps_its_dtype_after_model_double(name, kw, compiled):
    t_model, t_state, t_losses = _train_then_double(torch, name, kw)
    g_model, g_state, g_losses = _train_then_double(gt, name, kw, compiled)
    assert sorted(g_state) == sorted(t_state)
    for key, value in t_state.items():
        assert _name(g_state[key].dtype) == _name(value.dtype), key
        np.testing.assert_allclose(g_state[key].numpy(), value.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=key)
    assert g_model.weight.dtype == gt.float64
    np.testing.assert_allclose(g_model.weight.detach().numpy(),
                               t_model.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g_losses, t_losses, rtol=1e-5)


@pytest.mark.parametrize(("name", "kw"), KEEPS_DTYPE[:2] + KEEPS_DTYPE[3:4], ids=IDS[:2] + IDS[3:4])
def test_compiled_step_equals_dynamic_after_model_double(name, kw):
    d_model, d_state, d_losses = _train_then_double(gt, name, kw)
    c_model, c_state, c_losses = _train_then_double(gt, name, kw, compiled=True)
    assert c_losses == pytest.approx(d_losses, rel=1e-12)
    for key, value in d_state.items():
        assert c_state[key].dtype == value.dtype
        np.testing.assert_allclose(c_state[key].numpy(), value.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(c_model.weight.detach().numpy(),
                               d_model.weight.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("compiled", [False, True], ids=["dynamic", "static"])
@pytest.mark.parametrize(("name", "kw"), [("Adam", dict(lr=0.01)), ("AdamW", dict(lr=0.01)),
                                          ("RMSprop", dict(lr=0.01, centered=True))],
                         ids=["Adam", "AdamW", "RMSprop-centered"])
def test_lerp_on_float32_state_with_float64_grad_raises_as_in_torch(name, kw, compiled):
    errors = []
    for L in (torch, gt):
        model, opt, step = _training(L, name, kw, compiled and L is gt)
        x = L.tensor(X)
        step(x)
        model.double()
        with pytest.raises(RuntimeError) as info:
            step(x.double())
        errors.append(str(info.value))
        assert _name(opt.state[model.weight]["exp_avg" if "Adam" in name
                                              else "grad_avg"].dtype) == "float32"
    assert errors[1] == errors[0] == "expected dtype float for `end` but got dtype double"


@pytest.fixture
def refining(tmp_path, monkeypatch):
    """Whole-step refinement on (off under pytest by default), with a private cache: its
    trials feed a step's outputs back as the next call's inputs, where float64 state met a
    program compiled for float32 state (JAX's 'Argument types differ' TypeError)."""
    import graphnet.backends
    from graphnet._ops import conv_autotune

    monkeypatch.setenv("GRAPHNET_AUTOTUNE_CACHE", str(tmp_path / "autotune.json"))
    monkeypatch.setenv("GRAPHNET_AUTOTUNE_BUDGET", "1e9")
    conv_autotune.clear_memory()
    graphnet.backends.autotune(True)
    yield
    graphnet.backends.autotune(None)
    conv_autotune.clear_memory()


@pytest.mark.parametrize(("name", "kw"), KEEPS_DTYPE[:1] + KEEPS_DTYPE[3:4], ids=IDS[:1] + IDS[3:4])
def test_refined_compiled_step_runs_after_model_double(refining, name, kw):
    t_model, t_state, t_losses = _train_then_double(torch, name, kw)
    g_model, g_state, g_losses = _train_then_double(gt, name, kw, compiled=True)
    for key, value in t_state.items():
        assert _name(g_state[key].dtype) == _name(value.dtype), key
    np.testing.assert_allclose(g_losses, t_losses, rtol=1e-5)
