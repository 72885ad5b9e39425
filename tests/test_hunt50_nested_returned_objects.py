"""A compiled function may return an object holding another object that holds the tensors
it made: a mixture density network's head returns `MixtureSameFamily(Categorical(...),
Normal(...))`, and `Independent(Normal(...), 1)` holds its base distribution. Only objects
holding a made tensor directly (or in a container attribute) were walked and rebuilt; a
nested one came back whole, its tensors without a tape, and `loss.backward()` raised a
TraceError telling the user to return the tensor (compiler/tree.py `_holds_made`)."""

import numpy as np
import torch

import graphnet as gn

X = np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32)
Y = np.random.default_rng(1).standard_normal(16).astype(np.float32)


def _mdn(lib):
    D = lib.distributions

    class MDN(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh())
            self.head = lib.nn.Linear(8, 9)

        def forward(self, x):
            logits, mu, log_sigma = self.head(self.body(x)).chunk(3, -1)
            return D.MixtureSameFamily(D.Categorical(logits=logits),
                                       D.Normal(mu, log_sigma.exp()))

    lib.manual_seed(0)
    return MDN()


def test_a_compiled_mixture_density_network_trains_as_torchs():
    tm, gm = _mdn(torch), _mdn(gn)
    gm.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    topt = torch.optim.Adam(tm.parameters(), lr=0.01)
    gopt = gn.optim.Adam(gm.parameters(), lr=0.01)
    fast = gn.compile(gm)
    for step in range(3):
        x, y = X[step * 4:], Y[step * 4:]    # a different batch each step
        topt.zero_grad()
        want = -tm(torch.tensor(x)).log_prob(torch.tensor(y)).mean()
        want.backward()
        topt.step()
        gopt.zero_grad()
        got = -fast(gn.tensor(x)).log_prob(gn.tensor(y)).mean()
        got.backward()
        gopt.step()
        assert abs(got.item() - want.item()) < 1e-5
    for (name, p), q in zip(tm.named_parameters(), gm.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=name)


def test_independent_and_plain_nested_objects_pass_their_gradient_back():
    class Inner:
        def __init__(self, t):
            self.t = t

    class Outer:
        def __init__(self, inner):
            self.inner, self.tag = inner, "kept"

    def head(o):
        mu, log_sigma = o.chunk(2, -1)
        return gn.distributions.Independent(gn.distributions.Normal(mu, log_sigma.exp()), 1)

    o = gn.tensor(X[:2, :4], requires_grad=True)
    want = gn.tensor(X[:2, :4], requires_grad=True)
    y = gn.tensor(Y[:4].reshape(2, 2))
    (-gn.compile(head)(o).log_prob(y).sum()).backward()
    (-head(want).log_prob(y).sum()).backward()
    np.testing.assert_allclose(o.grad.numpy(), want.grad.numpy(), rtol=1e-6)

    a = gn.tensor([0.1, 0.2], requires_grad=True)
    nested = gn.compile(lambda b: Outer(Inner(b * 2)))
    out = nested(a)
    assert out.tag == "kept" and isinstance(out.inner, Inner)
    out.inner.t.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0])
    again = nested(gn.tensor([1.0, 3.0], requires_grad=True))
    np.testing.assert_allclose(again.inner.t.detach().numpy(), [2.0, 6.0])
    assert out.inner is not again.inner
    assert nested.compiled.recompile_reasons == ["first call"]
