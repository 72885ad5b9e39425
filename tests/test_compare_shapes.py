"""The shape-variation axis of `graphnet compare`: the quick preset's results follow the
schema (docs/compare.md, `axes.shapes`), compiles are counted as they happen, and padding
to a bucket changes neither the loss nor the trained parameters (the mask is right)."""

import json

import numpy as np
import pytest

from graphnet.runtime.compare import shapes
from graphnet.runtime.compare._axis import Context
from graphnet.runtime.compare.buckets import bucket_for, padding_waste, propose_boundaries

# NOTE: this module's fixture costs seconds (a subprocess, or a whole study): its tests share
# one xdist worker, so the fixture runs once (pyproject.toml runs xdist with --dist loadfile)


@pytest.fixture(scope="module")
def quick():
    labels = []
    result = shapes.measure(Context(preset="quick", seed=0, progress=labels.append))
    return result, labels


def test_quick_result_follows_the_schema(quick):
    result, labels = quick
    assert json.loads(json.dumps(result)) == result
    settings = result["settings"]
    assert {"distribution", "calls", "buckets"} <= set(settings)
    assert "LogNormal(mu=ln 6, sigma=0.2)" in settings["distribution"]
    assert "[5, 8]" in settings["distribution"] and "seed 0" in settings["distribution"]
    (name,) = result["workloads"]
    entry = result["workloads"][name]
    assert len(entry["lengths"]) == settings["calls"] == len(labels)
    assert set(entry["policies"]) == {"dynamic", "static", "buckets"}
    for policy in entry["policies"].values():
        assert set(policy) == {"per_call_s", "total_s", "compiles", "compile_s",
                               "compile_calls"}
        assert len(policy["per_call_s"]) == settings["calls"]
        assert all(s > 0 for s in policy["per_call_s"])
        assert policy["total_s"] == pytest.approx(sum(policy["per_call_s"]))
        assert isinstance(policy["compiles"], int) and policy["compile_s"] >= 0
    assert set(entry["buckets"]) == {"boundaries", "padding_waste"}


def test_static_compiles_once_per_distinct_length(quick):
    result, _ = quick
    entry = result["workloads"][shapes.WORKLOAD]
    static = entry["policies"]["static"]
    assert static["compiles"] == len(set(entry["lengths"]))
    first_seen = sorted({n: i for i, n in reversed(list(enumerate(entry["lengths"])))}.values())
    assert static["compile_calls"] == first_seen
    assert static["compile_s"] > 0


def test_buckets_compile_once_per_bucket_used(quick):
    result, _ = quick
    entry, k = result["workloads"][shapes.WORKLOAD], result["settings"]["buckets"]
    lengths, boundaries = entry["lengths"], entry["buckets"]["boundaries"]
    assert boundaries == propose_boundaries(lengths, k)
    assert entry["buckets"]["padding_waste"] == pytest.approx(padding_waste(lengths, boundaries))
    used = {bucket_for(n, boundaries) for n in lengths}
    assert entry["policies"]["buckets"]["compiles"] == len(used) <= k
    assert len(entry["policies"]["buckets"]["compile_calls"]) == len(used)


def run_steps(policy, batches):
    losses = []
    for tokens, tags in batches:
        losses.append(float(policy.step(*shapes.as_tensors(tokens, tags))))
    return losses, [np.asarray(p._value) for p in policy.params]


def test_bucketed_and_static_training_equal_dynamic():
    """Two steps on lengths 5 and 7: the exact-shape compiled step and the step on batches
    padded to 8 give dynamic's losses and parameters (the gradients agreed too)."""
    sizes, rng = shapes.Sizes(), np.random.default_rng(3)
    batches = [shapes.make_batch(rng, n, sizes) for n in (5, 7)]
    padded = [shapes.pad_batch(*b, 8) for b in batches]
    assert padded[0][0].shape == (sizes.batch, 8) and (padded[0][1][:, 5:] == shapes.IGNORE).all()
    want_losses, want_params = run_steps(shapes.make_policy(sizes, 0, False), batches)
    for policy, inputs in ((shapes.make_policy(sizes, 0, True), batches),
                           (shapes.make_policy(sizes, 0, True), padded)):
        losses, params = run_steps(policy, inputs)
        np.testing.assert_allclose(losses, want_losses, rtol=1e-5)
        for got, want in zip(params, want_params):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert want_losses[0] != want_losses[1]


def test_padding_left_in_the_loss_would_change_it():
    """The check above can fail: padded targets counted as a real class move the loss."""
    sizes, rng = shapes.Sizes(), np.random.default_rng(3)
    tokens, tags = shapes.make_batch(rng, 5, sizes)
    masked = shapes.pad_batch(tokens, tags, 8)
    unmasked = (masked[0], np.where(masked[1] == shapes.IGNORE, 1, masked[1]))
    want = float(shapes.make_policy(sizes, 0, False).step(*shapes.as_tensors(tokens, tags)))
    got = float(shapes.make_policy(sizes, 0, False).step(*shapes.as_tensors(*unmasked)))
    assert abs(got - want) > 1e-3


def test_padding_to_a_shorter_bucket_is_refused():
    tokens, tags = shapes.make_batch(np.random.default_rng(0), 6, shapes.Sizes())
    with pytest.raises(ValueError, match="longer than the bucket 4"):
        shapes.pad_batch(tokens, tags, 4)
