"""Whole-step refinement of lowering choices (runtime/refine.py): trials of the whole program
with one per-op choice (or the XLA option set) changed, the fastest kept and cached. Timings
are injected (a fake per-op timer and a fake whole-program timer), so nothing here depends on
the machine; the values are checked against PyTorch and the unrefined program."""

import numpy as np
import pytest
from parity import torch

import graphnet
import graphnet.backends
from graphnet import nn
from graphnet._ops import conv_autotune
from graphnet.runtime import refine


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHNET_AUTOTUNE_CACHE", str(tmp_path / "autotune.json"))
    monkeypatch.setenv("GRAPHNET_AUTOTUNE_BUDGET", "1e9")
    conv_autotune.clear_memory()
    graphnet.backends.autotune(True)
    # per-op: xla fastest everywhere, patches_matmul a close second (within refine.WITHIN)
    per_op = {"xla": 1.0, "xla_channels_last": 9.0, "patches_matmul": 1.5,
              "shifted_matmuls": 9.0, "reduce_window": 1.0, "window_stack": 1.5,
              "tiled_winner": 9.0}
    monkeypatch.setattr(conv_autotune, "measure",
                        lambda fns, args: {k: per_op[k[1]] for k in fns})
    yield tmp_path / "autotune.json"
    graphnet.backends.autotune(None)
    conv_autotune.clear_memory()


def fake_step_timer(faster: str, calls: list):
    """A `refine._time` where trials whose label contains `faster` take 1 s, others 2 s."""
    def timer(trials, arrays, donated, feedback=None):
        calls.append(sorted(trials))
        return {label: 1.0 if faster in label else 2.0 for label in trials}
    return timer


def conv_net(momentum=0.0):
    graphnet.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 5 * 5, 4))
    opt = graphnet.optim.SGD(model.parameters(), lr=0.1, momentum=momentum)

    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step.opt = opt
    return model, step


def assert_trains_like_unrefined(model, x, y, steps: int, momentum=0.0):
    """`model`, trained `steps` steps by a refined program, holds the parameters the same
    steps give without autotuning or refinement (a fresh conv_net, eager)."""
    graphnet.backends.autotune(False)
    plain_model, plain_step = conv_net(momentum)
    for _ in range(steps):
        plain_step(x, y)
    for (name, p), q in zip(model.named_parameters(), plain_model.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=name)


def data():
    rng = np.random.default_rng(0)
    return (graphnet.from_numpy(rng.standard_normal((4, 2, 7, 7)).astype(np.float32)),
            graphnet.from_numpy(rng.integers(0, 4, 4).astype(np.int64)))


def trained(monkeypatch, faster: str, calls: list, steps: int, momentum=0.0):
    """(model, step, compiled step, x, y) after `steps` calls of conv_net's step compiled,
    with refine's whole-program timer faked so that trials labelled `faster` win."""
    monkeypatch.setattr(refine, "_time", fake_step_timer(faster, calls))
    model, step = conv_net(momentum)
    fast = graphnet.compile(step)
    x, y = data()
    for _ in range(steps):
        fast(x, y)
    return model, step, fast, x, y


def test_a_faster_trial_is_kept_shown_and_cached(monkeypatch):
    calls = []
    model, _, fast, x, y = trained(monkeypatch, "weight_grad=patches_matmul", calls, 3)
    graph = fast.explain()["per_graph"][-1]
    refined = graph["refinement"]
    assert refined["source"] == "measured"
    [(key, choice)] = refined["overrides"].items()
    assert key.startswith('op="conv2d"') and choice["weight_grad"] == "patches_matmul"
    [row] = [r for r in graph["lowerings"] if r["op"] == "conv2d"]
    assert row["source"] == "step" and row["choice"]["weight_grad"] == "patches_matmul"
    labels = calls[0]
    assert "unchanged" in labels and "%conv weight_grad=patches_matmul" in labels
    # the data argument needs no input gradient: that direction is not tried
    assert not any("input_grad" in label for label in labels)
    # the refined program trains like the unrefined one and like PyTorch
    assert_trains_like_unrefined(model, x, y, 3)
    # a later process (memory forgotten) reads the choice and measures nothing
    conv_autotune.clear_memory()
    graphnet.backends.autotune(True)
    calls.clear()
    _, step2 = conv_net()
    again = graphnet.compile(step2)
    for _ in range(2):
        again(x, y)
    assert calls == []
    assert again.explain()["per_graph"][-1]["refinement"]["source"] == "cache"


def test_copied_inputs_reads_the_copies_xla_makes_of_donated_buffers():
    import jax
    import jax.numpy as jnp

    p, x = jnp.ones((8, 8)), jnp.ones((8, 8))
    # the donated p is also returned as it is: XLA must copy it before writing p * 2 + x
    kept = jax.jit(lambda p, x: (p * 2 + x, p), donate_argnums=(0,))
    assert refine.copied_inputs(kept.lower(p, x).compile().as_text()) == {0}
    updated = jax.jit(lambda p, x: (p * 2 + x, x.sum()), donate_argnums=(0,))
    assert refine.copied_inputs(updated.lower(p, x).compile().as_text()) == set()


def test_the_refined_program_donates_the_written_buffers_xla_does_not_copy(monkeypatch):
    """The program donates the state it reads once (momentum) by default; the refinement
    compiles it donating the parameters too and keeps those XLA updates in place, without
    timing it; cached, and trains the same."""
    import jax

    calls = []
    model, step, fast, x, y = trained(monkeypatch, "unchanged", calls, 4, momentum=0.9)
    assert not any("donate" in label for label in calls[0])
    artifact = fast.compiled.artifacts[-1]
    assert len(artifact.read_once) == 4 and len(artifact.written) == 8
    with graphnet._x64.x64():
        arrays = artifact._gather((x, y))
        everything = jax.jit(artifact.run_fn, donate_argnums=tuple(artifact.written))
        copies = refine.copied_inputs(everything.lower(*arrays).compile().as_text())
    del arrays   # an alias held here would keep the next call from donating
    expected = [i for i in artifact.written if i not in copies]
    assert artifact.donated == expected and set(artifact.read_once) <= set(expected)
    refined = fast.explain()["per_graph"][-1]["refinement"]
    assert refined["donation"] == ("written" if not copies else "uncopied")
    assert refined["donated"] == len(expected)
    weight = model[0].weight   # the first layer's weight: no later read, never copied
    assert artifact.sources.index(("state", weight)) in artifact.donated
    where = weight._value.unsafe_buffer_pointer()
    fast(x, y)   # XLA writes an output of the weight's shape over the donated weight
    buffers = [p._value.unsafe_buffer_pointer() for p in model.parameters()] + \
        [s["momentum_buffer"]._value.unsafe_buffer_pointer() for s in step.opt.state.values()]
    assert where in buffers
    assert_trains_like_unrefined(model, x, y, 5, momentum=0.9)
    # cached: a later process donates the same way without measuring
    conv_autotune.clear_memory()
    graphnet.backends.autotune(True)
    calls.clear()
    _, step2 = conv_net(momentum=0.9)
    again = graphnet.compile(step2)
    for _ in range(3):
        again(x, y)
    assert calls == []
    assert again.compiled.artifacts[-1].donated == expected


def test_nothing_faster_keeps_the_program_unchanged(monkeypatch):
    calls = []
    _, _, fast, _, _ = trained(monkeypatch, "unchanged", calls, 2)
    refined = fast.explain()["per_graph"][-1]["refinement"]
    assert refined["overrides"] == {} and calls


def test_programs_not_refined(monkeypatch):
    calls = []
    monkeypatch.setattr(refine, "_time", fake_step_timer("unchanged", calls))
    x, y = data()
    model, step = conv_net()
    # a program that prints: a trial run would print
    def printing(a):
        print("value", a.sum())
        return model(a).sum()
    compiled = graphnet.compile(printing)
    compiled(x)
    assert compiled.explain()["per_graph"][-1]["refinement"] is None
    # the first step creates the optimizer's state and runs once: not refined either
    _, with_momentum = conv_net(momentum=0.9)
    fast = graphnet.compile(with_momentum)
    fast(x, y)
    assert fast.explain()["per_graph"][0]["refinement"] is None
    # plan mode runs kernel by kernel
    planned = graphnet.compile(lambda a: model(a).sum(), mode="plan")
    planned(x)
    assert planned.explain()["per_graph"][-1]["refinement"] is None
    # autotuning off: nothing is refined
    graphnet.backends.autotune(False)
    off = graphnet.compile(lambda a: model(a).sum())
    off(x)
    assert off.explain()["per_graph"][-1]["refinement"] is None
    assert calls == []


def test_a_program_too_costly_to_refine_is_left_and_remembered(monkeypatch):
    calls = []
    monkeypatch.setattr(refine, "_time", fake_step_timer("unchanged", calls))
    monkeypatch.setenv("GRAPHNET_AUTOTUNE_BUDGET", "1e-6")
    model, _ = conv_net()
    fast = graphnet.compile(lambda a: model(a).sum())
    x, _ = data()
    monkeypatch.setattr(conv_autotune, "budget_left", lambda: 1e-6)
    fast(x)
    refined = fast.explain()["per_graph"][-1]["refinement"]
    assert refined["overrides"] == {} and set(refined["times_s"]) == {"compile_unchanged"}
    assert calls == []


def test_refined_lowering_equals_torch():
    """The override mechanism itself: a program lowered with a choice the per-op tuner did
    not make still computes PyTorch's conv and gradients."""
    x = np.random.default_rng(1).standard_normal((2, 2, 7, 7)).astype(np.float32)
    layer = nn.Conv2d(2, 3, 3)
    tlayer = torch.nn.Conv2d(2, 3, 3)
    with torch.no_grad():
        tlayer.weight.copy_(torch.tensor(layer.weight.detach().numpy()))
        tlayer.bias.copy_(torch.tensor(layer.bias.detach().numpy()))
    tlayer(torch.tensor(x)).square().sum().backward()
    key, _ = conv_autotune.conv_key((2, 2, 7, 7), (3, 2, 3, 3), (1, 1), ((0, 0), (0, 0)),
                                    (1, 1), 1, np.float32)
    table = {key: {"forward": "shifted_matmuls", "input_grad": "xla",
                   "weight_grad": "patches_matmul"}}
    with conv_autotune.overriding(table):
        layer(graphnet.from_numpy(x)).square().sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), tlayer.weight.grad.numpy(),
                               rtol=1e-5, atol=1e-4)
    # an override is not a per-op choice: nothing is recorded (or measured) for it
    assert not [r for r in graphnet.backends.conv_choices() if r["input"] == [2, 2, 7, 7]]


def test_trials_are_timed_as_a_chain_of_donating_calls():
    """The real trial timer: each trial runs several calls in a row, each call's written
    state fed to the next (a donated buffer is consumed, so a chain that did not feed them
    would fail), and the kept program still trains like the unrefined one."""
    model, step = conv_net(momentum=0.9)
    fast = graphnet.compile(step)
    x, y = data()
    for _ in range(3):
        fast(x, y)
    artifact = fast.compiled.artifacts[-1]
    assert set(artifact.feedback.values()) == set(artifact.written)
    refined = fast.explain()["per_graph"][-1]["refinement"]
    assert refined["source"] == "measured"
    assert "unchanged" in refined["times_s"]
    assert all(t > 0 for t in refined["times_s"].values())
    assert_trains_like_unrefined(model, x, y, 3, momentum=0.9)


def test_a_lowering_candidate_added_since_means_refining_again(monkeypatch):
    from graphnet._ops import pool_candidates
    from graphnet.compiler.ir import Graph

    graph = Graph("step")
    before = refine.step_key(graph, [0, 1], has_conv=True)
    assert refine.step_key(graph, [0, 1], has_conv=True) == before     # stable
    monkeypatch.setitem(pool_candidates.CANDIDATES, "new_form",
                        pool_candidates.CANDIDATES["tiled_winner"])
    assert refine.step_key(graph, [0, 1], has_conv=True) != before


def test_a_choice_measured_on_another_processor_is_measured_again(monkeypatch):
    """A CPU's device kind is only "cpu": the processor model and core count are part of every
    autotune and refinement key, so a cache file carried to other hardware is not reused."""
    from graphnet._ops import conv_autotune
    from graphnet.compiler.ir import Graph

    graph = Graph("step")
    here = refine.step_key(graph, [0], has_conv=False)
    assert conv_autotune.processor() in conv_autotune.backend_name()
    monkeypatch.setattr(conv_autotune, "processor", lambda: "Some Other CPU x64")
    assert conv_autotune.backend_name().endswith(":Some Other CPU x64")
    assert refine.step_key(graph, [0], has_conv=False) != here
