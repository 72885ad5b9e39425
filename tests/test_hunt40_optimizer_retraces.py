"""A compiled step with a user-written optimizer compiles once: its parameter groups, read by
the user's step, are guarded as the dicts they are after the trace (they were compared with
the trace's watched copies, and every call traced again). A step that stores a tensor it
creates anew on every call still traces again on every call, and now says so once."""
import warnings

import pytest

import graphnet as G


class PlainSGD(G.optim.Optimizer):
    def __init__(self, params, lr=0.1):
        super().__init__(params, dict(lr=lr))

    @G.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-group["lr"])


def _model():
    G.manual_seed(0)
    return G.nn.Linear(3, 2)


def test_custom_optimizer_compiles_once_and_follows_lr():
    model = _model()
    opt = PlainSGD(model.parameters(), lr=0.1)
    eager_model = _model()
    eager_opt = PlainSGD(eager_model.parameters(), lr=0.1)
    x, y = G.ones(4, 3), G.zeros(4, 2)

    def train(m, o):
        o.zero_grad()
        loss = G.nn.functional.mse_loss(m(x), y)
        loss.backward()
        o.step()
        return loss.detach()

    step = G.compile(lambda: train(model, opt))
    for _ in range(4):
        step()
        train(eager_model, eager_opt)
    assert step.explain()["graphs"] == 1
    opt.param_groups[0]["lr"] = 0.05      # the user's step reads it: a new trace
    eager_opt.param_groups[0]["lr"] = 0.05
    for _ in range(2):
        step()
        train(eager_model, eager_opt)
    assert step.explain()["graphs"] == 2
    assert G.allclose(model.weight, eager_model.weight, atol=1e-6)


def test_a_new_tensor_kept_on_every_call_warns_once():
    model = _model()
    opt = PlainSGD(model.parameters())

    def step(x):     # SAM's `self.state[p]["old_p"] = p.data.clone()`
        opt.state[model.weight]["old"] = model.weight.detach().clone()
        return model(x).sum()

    compiled = G.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(5):
            compiled(G.ones(1, 3))
    messages = [str(w.message) for w in caught if "creates anew" in str(w.message)]
    assert len(messages) == 1 and caught[0].filename == __file__
    assert compiled.explain()["graphs"] == 5
    assert G.equal(opt.state[model.weight]["old"], model.weight)


@pytest.mark.parametrize("n", [3])
def test_changing_python_state_still_warns(n):
    class Counter:
        calls = 0

    counter = Counter()

    def step(x):
        counter.calls += 1
        return x * 2

    compiled = G.compile(step)
    with pytest.warns(UserWarning, match="changes Python state on every call"):
        for _ in range(n):
            compiled(G.ones(2))
    assert counter.calls == n
