"""A compiled function that uses `func.functional_call` and then fails while tracing leaves
the module its own parameters (it kept the swapped-in tensors, or traced placeholders, for
good), so the model works afterwards, eagerly and compiled."""

import numpy as np
import pytest

import graphnet as gn


class _Net(gn.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = gn.nn.Linear(4, 2)
        self.fail = True

    def forward(self, x):
        y = self.lin(x)
        if self.fail:
            raise ValueError("boom")
        return y


def _after_return(m, params, x):
    gn.func.functional_call(m, params, (x,))
    raise ValueError("the caller's own check failed")


def _inside_vmap(m, params, x):
    return gn.func.vmap(lambda xi: gn.func.functional_call(m, params, (xi,)))(x)


def _through_grad(m, params, x):
    return gn.func.grad(lambda p: gn.func.functional_call(m, p, (x,)).sum())(params)


@pytest.mark.parametrize("fn", [_after_return, _inside_vmap, _through_grad],
                         ids=lambda f: f.__name__)
def test_the_module_gets_its_parameters_back(fn):
    m = _Net()
    m.fail = fn is not _after_return
    weight, bias = m.lin.weight, m.lin.bias
    params = {k: v.detach() for k, v in m.named_parameters()}
    x = gn.randn(3, 4)
    with pytest.raises(ValueError):
        gn.compile(lambda x: fn(m, params, x))(x)
    assert m.lin.weight is weight and m.lin.bias is bias
    m.fail = False
    want = x.numpy() @ weight.detach().numpy().T + bias.detach().numpy()
    np.testing.assert_allclose(m(x).detach().numpy(), want, rtol=1e-5, atol=1e-6)
    opt = gn.optim.SGD(m.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = m(x).pow(2).sum()
        loss.backward()
        opt.step()
        return loss

    before = weight.detach().numpy().copy()
    gn.compile(step)(x)
    assert not np.allclose(m.lin.weight.detach().numpy(), before)   # the real weight trained
