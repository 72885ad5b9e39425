"""A compiled function or module returning an object of a plain class of the user's (no
dataclass) built in the traced code: it is rebuilt on every call like a dataclass result,
so the program compiles once and `out.loss.backward()` reaches the parameters (the object
was kept whole: traced again on every call, and backward through it raised)."""

import numpy as np
import torch

import graphnet as gn


class Output:
    def __init__(self, loss, logits, extras=None):
        self.loss = loss
        self.logits = logits
        self.extras = extras if extras is not None else {}


def _net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(4, 3)

        def forward(self, x, y):
            logits = self.fc(x)
            loss = lib.nn.functional.cross_entropy(logits, y)
            return Output(loss, logits, {"probs": logits.softmax(-1), "tag": "train"})

    lib.manual_seed(0)
    return Net()


def test_plain_output_object_backward_matches_torch_and_compiles_once():
    rng = np.random.RandomState(0)
    tm, gm = _net(torch), _net(gn)
    gm.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    fast = gn.compile(gm)
    outs = []
    for _ in range(3):
        x, y = rng.randn(5, 4).astype(np.float32), rng.randint(0, 3, 5)
        want = tm(torch.tensor(x), torch.tensor(y))
        tm.zero_grad()
        want.loss.backward()
        got = fast(gn.tensor(x), gn.tensor(y))
        gm.zero_grad()
        got.loss.backward()
        assert type(got) is Output and got.extras["tag"] == "train"
        np.testing.assert_allclose(got.extras["probs"].detach().numpy(),
                                   want.extras["probs"].detach().numpy(), rtol=1e-5)
        np.testing.assert_allclose(gm.fc.weight.grad.numpy(), tm.fc.weight.grad.numpy(),
                                   rtol=1e-4, atol=1e-6)
        outs.append(got)
    assert outs[0] is not outs[1] and float(outs[0].loss) != float(outs[1].loss)
    assert fast.explain()["graphs"] == 1


def test_a_returned_module_is_still_itself():
    m = gn.nn.Linear(2, 2)

    def f(x):
        m.last = x * 2
        return m

    assert gn.compile(f)(gn.ones(2)) is m
