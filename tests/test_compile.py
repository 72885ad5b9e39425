"""graphnet.compile end to end: static == dynamic == PyTorch on the MLP, recompiles, guards,
golden graph text, and clear errors for bad input in both modes."""

import os

import numpy as np
import pytest
from parity import assert_close, copy_torch_params, np_of, torch

import graphnet
import graphnet.nn.functional as F
from graphnet import nn

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")


def make_mlp(seed=0):
    graphnet.manual_seed(seed)
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def make_batch(n=128, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, 784)).astype(np.float32),
            rng.integers(0, 10, n).astype(np.int64))


def train(model, steps, compiled, lr=0.05, momentum=0.9):
    opt = graphnet.optim.SGD(model.parameters(), lr=lr, momentum=momentum)

    def train_step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step = graphnet.compile(train_step) if compiled else train_step
    losses = []
    for i in range(steps):
        x, y = make_batch(seed=i)
        losses.append(step(graphnet.from_numpy(x), graphnet.from_numpy(y)).item())
    return losses, step


def test_mlp_forward_static_equals_dynamic_equals_torch():
    model = make_mlp()
    tmodel = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                 torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                 torch.nn.Linear(256, 10))
    copy_torch_params(tmodel, model)
    x, _ = make_batch()
    dynamic = model(graphnet.from_numpy(x))
    static = graphnet.compile(model)(graphnet.from_numpy(x))
    assert_close(static, dynamic, atol=1e-6, what="static vs dynamic")
    assert_close(dynamic, tmodel(torch.from_numpy(x)), atol=1e-5, what="graphnet vs torch")


def test_three_training_steps_static_equal_dynamic_and_torch():
    dyn_model, st_model = make_mlp(), make_mlp()
    dyn_losses, _ = train(dyn_model, 3, compiled=False)
    st_losses, step = train(st_model, 3, compiled=True)
    np.testing.assert_allclose(st_losses, dyn_losses, rtol=1e-5)
    for (name, a), (_, b) in zip(dyn_model.named_parameters(), st_model.named_parameters()):
        assert_close(b, a, atol=1e-6, what=name)
        assert_close(b.grad, a.grad, atol=1e-6, what=f"{name}.grad")
    # the same three steps in PyTorch
    tmodel = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                 torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                 torch.nn.Linear(256, 10))
    tmodel.load_state_dict({k: torch.from_numpy(np_of(v).copy())
                            for k, v in make_mlp().state_dict().items()})
    opt = torch.optim.SGD(tmodel.parameters(), lr=0.05, momentum=0.9)
    for i in range(3):
        x, y = make_batch(seed=i)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        opt.step()
        assert abs(loss.item() - st_losses[i]) < 1e-5
    for (name, p), tp in zip(st_model.named_parameters(), tmodel.parameters()):
        assert_close(p, tp, atol=1e-5, what=f"torch {name}")
    # the first step created momentum buffers, so it was traced twice, then reused
    assert step.explain()["graphs"] == 2


def test_momentum_state_lives_in_optimizer_after_static_steps():
    model = make_mlp()
    _, step = train(model, 2, compiled=True)
    graph_text = str(step.graph)
    assert "param0.momentum_buffer" in graph_text and "sgd_update" in graph_text
    assert "grad(%cross_entropy" in graph_text


def test_mlp_graph_dump_is_golden_and_deterministic():
    with open(os.path.join(GOLDEN, "mlp_forward.txt")) as f:
        expected = f.read().rstrip("\n")
    model = make_mlp()
    first = str(graphnet.trace_graph(model, graphnet.zeros(128, 784)))
    second = str(graphnet.trace_graph(make_mlp(seed=5), graphnet.zeros(128, 784)))
    assert first == second == expected
    assert "%linear: f32[128,256] = linear(%input, %0.weight, %0.bias)  # 0" in first


def test_new_shape_recompiles_and_says_why(monkeypatch, caplog):
    monkeypatch.setenv("GRAPHNET_LOG", "recompiles")
    model = make_mlp()
    fast = graphnet.compile(model)
    fast(graphnet.zeros(128, 784))
    fast(graphnet.zeros(128, 784))
    fast(graphnet.zeros(64, 784))
    info = fast.explain()
    assert info["graphs"] == 2
    assert info["recompile_reasons"] == ["first call", "input 0 shape [128,784] -> [64,784]"]
    assert "input 0 shape [128,784] -> [64,784]" in caplog.text


def test_replacing_a_parameter_or_buffer_recompiles_instead_of_reading_the_old_one():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).eval()
    fast = graphnet.compile(model)
    x = graphnet.randn(5, 3)
    with graphnet.no_grad():
        fast(x)
        model[0].weight = nn.Parameter(graphnet.ones(4, 3))
        assert_close(fast(x), model(x), atol=1e-6)
        model[1].running_var = graphnet.full((4,), 4.0)
        assert_close(fast(x), model(x), atol=1e-6)
    assert fast.explain()["recompile_reasons"] == [
        "first call", "guard failed: 0.weight is the tensor traced",
        "guard failed: 1.running_var is the tensor traced"]


class Masked(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x, mask=None, scale=1.0):
        y = self.lin(x) * scale
        return y if mask is None else y * mask


def test_keyword_arguments_are_traced_by_name_and_keyed():
    graphnet.manual_seed(0)
    model, x = Masked(), graphnet.randn(2, 4)
    mask = (graphnet.randn(2, 4) > 0).float()
    fast = graphnet.compile(model)
    with graphnet.no_grad():
        for kwargs in ({}, {"mask": mask}, {"scale": 2.0, "mask": mask},
                       {"mask": mask, "scale": 2.0}, {"mask": mask, "scale": 3.0}):
            assert_close(fast(x, **kwargs), model(x, **kwargs), atol=1e-6)
    assert fast.explain()["recompile_reasons"] == [
        "first call", "keyword arguments [] -> ['mask']",
        "keyword arguments ['mask'] -> ['mask', 'scale']", "keyword scale changed: 2.0 -> 3.0"]
    assert "graph Masked(%x: f32[2,4], %mask: f32[2,4]):" in str(graphnet.trace_graph(model, x,
                                                                                 mask=mask))


def test_eval_after_compile_uses_a_new_graph():
    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5))
    fast = graphnet.compile(model)
    x = graphnet.ones(4, 8)
    with graphnet.no_grad():
        train_out = fast(x)
        model.eval()
        eval_out = fast(x)
    assert fast.explain()["recompile_reasons"][-1] == "guard failed: Sequential.training == True"
    assert_close(eval_out, model(x), atol=1e-6)
    assert (np_of(train_out) == 0).any()  # dropout was active in the train graph


def test_dropout_masks_differ_per_step_and_match_dynamic_under_seed():
    def run(compiled):
        graphnet.manual_seed(7)
        model = nn.Sequential(nn.Linear(16, 16), nn.Dropout(0.5))
        fn = graphnet.compile(model) if compiled else model
        with graphnet.no_grad():
            return [np_of(fn(graphnet.ones(4, 16))) for _ in range(3)]

    static, dynamic = run(True), run(False)
    assert not np.array_equal(static[1] == 0, static[2] == 0)  # fresh masks each call
    for s, d in zip(static, dynamic):
        np.testing.assert_allclose(s, d, atol=1e-6)


def test_compiled_forward_supports_eager_backward():
    model = make_mlp()
    ref = make_mlp()
    x, y = make_batch()
    fast = graphnet.compile(model)
    F.cross_entropy(fast(graphnet.from_numpy(x)), graphnet.from_numpy(y)).backward()
    F.cross_entropy(ref(graphnet.from_numpy(x)), graphnet.from_numpy(y)).backward()
    for (name, a), b in zip(model.named_parameters(), ref.parameters()):
        assert_close(a.grad, b.grad, atol=1e-6, what=name)


@pytest.mark.parametrize("compiled", [False, True])
def test_wrong_input_shape_names_module_path_and_shapes(compiled):
    model = make_mlp()
    fn = graphnet.compile(model) if compiled else model
    with pytest.raises(graphnet.ShapeError) as err:
        fn(graphnet.zeros(128, 783))
    assert str(err.value) == "0 (Linear): expected input [..., 784], got [128, 783]"


@pytest.mark.parametrize("compiled", [False, True])
def test_float_labels_to_cross_entropy_are_refused(compiled):
    def loss(x, y):
        return F.cross_entropy(x, y)

    fn = graphnet.compile(loss) if compiled else loss
    with pytest.raises(TypeError, match="class-index targets must be integers"):
        fn(graphnet.zeros(4, 3), graphnet.zeros(4))


def test_value_dependent_control_flow_is_refused_with_source_line():
    def fancy(x):
        while x.norm() > 1:
            x = x / 2
        return x

    with pytest.raises(graphnet.TraceError) as err:
        graphnet.compile(fancy)(graphnet.ones(10))
    message = str(err.value)
    assert "test_compile.py" in message and "while x.norm() > 1" in message
    assert "graphnet.while_loop" in message and "dynamically" in message


def test_static_arguments_are_part_of_the_cache_key():
    def scale(x, factor):
        return x * factor

    fast = graphnet.compile(scale)
    assert fast(graphnet.ones(2), 2).tolist() == [2.0, 2.0]
    assert fast(graphnet.ones(2), 3).tolist() == [3.0, 3.0]
    assert fast.explain()["graphs"] == 2


def test_cache_limit_warns_and_falls_back_to_dynamic():
    fast = graphnet.compile(lambda x: x * 2, cache_size=2)
    fast(graphnet.ones(1))
    fast(graphnet.ones(2))
    with pytest.warns(UserWarning, match="new input shapes or changed objects now run "
                                         "dynamically"):
        out = fast(graphnet.ones(3))
    assert out.tolist() == [2.0, 2.0, 2.0]


def test_artifact_for_compiles_without_running_and_the_call_reuses_it():
    model = make_mlp()
    fast = graphnet.compile(model)
    x = graphnet.zeros(4, 784)
    with graphnet.no_grad():    # grad mode is part of the key: the same for both calls
        artifact = fast.compiled.artifact_for(x)
        assert artifact.calls == 0 and fast.explain()["recompile_reasons"] == ["first call"]
        assert_close(fast(x), model(x), atol=1e-6)
    assert artifact.calls == 1 and fast.explain()["graphs"] == 1


def _train_and_eval_functions():
    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 6), nn.BatchNorm1d(6), nn.Dropout(0.3), nn.Linear(6, 3))
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        model.train()                      # the usual first line of a training step
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def evaluate(x):
        model.eval()
        with graphnet.no_grad():
            return model(x)

    return model, step, evaluate


def test_train_and_eval_inside_compiled_functions_replay_and_do_not_recompile():
    x, y = graphnet.randn(8, 6), graphnet.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    eager_model, eager_step, eager_eval = _train_and_eval_functions()
    model, step, evaluate = _train_and_eval_functions()
    fast_step, fast_eval = graphnet.compile(step), graphnet.compile(evaluate)
    for _ in range(3):
        graphnet.manual_seed(1)
        expected_loss = eager_step(x, y).item()
        graphnet.manual_seed(1)
        assert abs(fast_step(x, y).item() - expected_loss) < 1e-5
        assert model.training is True and model[1].training is True   # set by step's train()
        out = fast_eval(x)
        assert_close(out, eager_eval(x), atol=1e-5)
        assert model.training is False and not out.requires_grad      # no_grad inside
    # only the optimizer's state creation retraces; flipping modes does not
    assert fast_step.explain()["recompile_reasons"] == [
        "first call", "the previous trace created new state (e.g. optimizer buffers)"]
    assert fast_eval.explain()["recompile_reasons"] == ["first call"]
