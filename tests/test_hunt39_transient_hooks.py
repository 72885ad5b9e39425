"""A forward hook the compiled function registers and removes itself (Grad-CAM's capture of
an activation into a dict made by the call) changes no Python state that outlives the call:
the step compiles once. It was traced again on every call. A hook that writes to state that
outlives the call still makes the code run per call."""
import warnings

import numpy as np

import graphnet as G

X = np.random.default_rng(0).standard_normal((2, 1, 6, 6)).astype(np.float32)


def _model():
    G.manual_seed(0)
    return G.nn.Sequential(G.nn.Conv2d(1, 2, 3), G.nn.ReLU(), G.nn.Flatten(),
                           G.nn.Linear(2 * 4 * 4, 3))


def test_hook_made_and_removed_by_the_call_compiles_once():
    m = _model()

    def gradcam(x):
        acts = {}
        h = m[0].register_forward_hook(lambda mod, i, o: acts.__setitem__("a", o))
        logits = m(x)
        h.remove()
        g, = G.autograd.grad(logits[:, 1].sum(), acts["a"])
        return G.nn.functional.relu((g.mean((2, 3), keepdim=True) * acts["a"]).sum(1))

    compiled = G.compile(gradcam)
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # no "changes Python state on every call"
        results = [compiled(G.tensor(X * k)).detach().numpy() for k in (1, 2, 3)]
    assert compiled.compiled.recompile_reasons == ["first call"]
    for k, got in zip((1, 2, 3), results):
        np.testing.assert_allclose(got, gradcam(G.tensor(X * k)).detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    assert not m[0]._forward_hooks


def test_hook_writing_lasting_state_still_runs_per_call():
    m, seen = _model(), []

    def step(x):
        h = m[0].register_forward_hook(lambda mod, i, o: seen.append(o.shape[0]))
        out = m(x)
        h.remove()
        return out

    compiled = G.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            compiled(G.tensor(X))
    assert seen == [2, 2, 2]
