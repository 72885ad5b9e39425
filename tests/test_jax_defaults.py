"""Importing and running graphnet leaves JAX's defaults alone (graphnet/_x64.py).

graphnet needs JAX's 64-bit types for PyTorch's int64 and float64, and turns them on only
around its own work, per thread. These tests check both halves: the user's own JAX code
keeps float32/int32 defaults, and graphnet's tensors keep PyTorch's dtypes."""

import json
import os
import subprocess
import sys
import threading

import jax
import jax.numpy as jnp
import pytest

import graphnet


def scenario(torch, compile, path: str) -> dict:
    """A small training run written once for PyTorch and for graphnet (`import graphnet as
    torch`): the dtype of every result, by name."""
    F = torch.nn.functional
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(6, 4)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])

    def step(x, y):
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        return loss, logits.argmax(1)

    eager_loss, eager_pred = step(x, labels)
    compiled = compile(step)
    compiled(x, labels)
    compiled_loss, compiled_pred = compiled(x, labels)
    ints = torch.arange(5)
    doubled = torch.tensor([1.5, 2.5]).double()
    torch.save({"labels": labels, "doubled": doubled, "weight": model[0].weight}, path)
    loaded = torch.load(path)
    results = {
        "labels": labels, "eager_loss": eager_loss, "eager_argmax": eager_pred,
        "compiled_loss": compiled_loss, "compiled_argmax": compiled_pred,
        "weight_after_steps": model[0].weight, "arange": ints, "arange_sum": ints.sum(),
        "arange_times_int": ints * 3, "arange_plus_float": ints + 0.5,
        "int_tensor_plus_double": ints + doubled.sum(),
        "randint": torch.randint(0, 10, (4,)), "randn": torch.randn(2),
        "long": torch.randn(3).long(), "double": doubled, "double_math": doubled * 3 + 1,
        "double_exp": doubled.exp(), "loaded_labels": loaded["labels"],
        "loaded_double": loaded["doubled"], "loaded_weight": loaded["weight"],
        "float64_factory": torch.zeros(2, dtype=torch.float64) + 1,
        "int64_factory": torch.ones(2, dtype=torch.int64) * 2,
    }
    return {name: str(t.dtype).split(".")[-1] for name, t in results.items()}


def user_jax_defaults() -> dict:
    """What the user's own JAX code gets, in this thread."""
    return {"array": str(jnp.array(1.0).dtype), "zeros": str(jnp.zeros(3).dtype),
            "arange": str(jnp.arange(3).dtype), "int_array": str(jnp.array([1, 2]).dtype),
            "random_normal": str(jax.random.normal(jax.random.key(0), (2,)).dtype),
            "x64_flag": bool(jax.config.jax_enable_x64), "x64_here": bool(jax.enable_x64.value)}


JAX_DEFAULTS = {"array": "float32", "zeros": "float32", "arange": "int32", "int_array": "int32",
                "random_normal": "float32", "x64_flag": False, "x64_here": False}


def _subprocess_main(path: str) -> None:
    """Run in a fresh interpreter: import graphnet, run the scenario, report as JSON."""
    import warnings

    warnings.filterwarnings("error", message="Explicitly requested dtype")
    import graphnet as gn

    after_import = user_jax_defaults()
    dtypes = scenario(gn, gn.compile, path)
    print(json.dumps({"after_import": after_import, "after_running": user_jax_defaults(),
                      "dtypes": dtypes}))


def test_graphnet_leaves_jax_defaults_and_keeps_torch_dtypes(tmp_path):
    import torch

    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("JAX_ENABLE_X64", None)
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
            f"import test_jax_defaults as t; t._subprocess_main({str(tmp_path / 'g.pt')!r})")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])

    assert report["after_import"] == JAX_DEFAULTS
    assert report["after_running"] == JAX_DEFAULTS
    expected = scenario(torch, lambda fn: fn, str(tmp_path / "t.pt"))
    assert expected["labels"] == "int64" and expected["double_math"] == "float64"  # sanity
    assert report["dtypes"] == expected


def test_another_thread_in_graphnet_leaves_this_threads_defaults():
    """While a thread is inside graphnet's 64-bit scope (tracing a compiled function), the
    main thread's JAX code still gets JAX's defaults."""
    inside, checked = threading.Event(), threading.Event()
    seen = {}

    def traced(x):
        seen["in_scope"] = str(jnp.arange(3).dtype)   # graphnet's scope is on in this thread
        inside.set()
        checked.wait(timeout=60)
        return x.argmax()

    def worker():
        seen["argmax"] = graphnet.compile(traced)(graphnet.randn(5)).dtype

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(timeout=120)
    try:
        here = user_jax_defaults()
    finally:
        checked.set()
        thread.join(timeout=120)
    assert seen["in_scope"] == "int64"
    assert here == JAX_DEFAULTS
    assert seen["argmax"] == graphnet.int64
    assert user_jax_defaults() == JAX_DEFAULTS


@pytest.mark.parametrize("make", [
    lambda: graphnet.arange(4), lambda: graphnet.tensor([1, 2]),
    lambda: graphnet.randint(0, 3, (2,)), lambda: graphnet.randn(3, 2).argmax(1),
    lambda: graphnet.zeros(2, dtype=graphnet.float64), lambda: graphnet.tensor([1.0]).double(),
], ids=["arange", "tensor", "randint", "argmax", "zeros_f64", "double"])
def test_64_bit_tensors_with_jax_defaults_off(make):
    """In this process JAX's 64-bit flag is off (nothing turns it on globally); graphnet's
    64-bit tensors are still 64-bit, and arithmetic on them stays 64-bit."""
    assert jax.config.jax_enable_x64 is False
    t = make()
    assert t.dtype in (graphnet.int64, graphnet.float64)
    assert (t * 2 + 1).dtype == t.dtype
    assert t.numpy().dtype.itemsize == 8


def test_hlo_dump_shows_the_int64_labels_the_program_runs_with():
    """A dump lowers the program again, outside the compiled call: it must lower with the
    types the call runs with (int64 labels are `i64` in the program's signature)."""
    from graphnet.runtime.artifact_dumps import hlo_dump

    model = graphnet.nn.Linear(4, 3)

    def loss_of(x, y):
        return graphnet.nn.functional.cross_entropy(model(x), y)

    compiled = graphnet.compile(loss_of)
    x, y = graphnet.randn(2, 4), graphnet.tensor([0, 2])
    compiled(x, y)
    artifact = compiled.compiled.artifacts[-1]
    for dump in (hlo_dump(artifact, x, y), hlo_dump(artifact)):   # live and abstract inputs
        signature = dump["stablehlo"].split("func.func public @main(")[1].split(")")[0]
        assert "tensor<2x4xf32>" in signature and "tensor<2xi64>" in signature, signature
