"""A debug `print` in a submodule's forward: the forward's globals are read while the trace
runs, when `print` is the trace's hook, so every later call saw another `print` and traced
again (with a warning that Python state changes every call). It compiles once and prints
each call's values."""
import warnings

import graphnet as G


class Net(G.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = G.nn.Linear(2, 1)

    def forward(self, x):
        h = self.fc(x)
        print("h", h.sum())
        return h


def test_print_in_a_submodule_forward_compiles_once(capsys):
    net = Net()
    step = G.compile(lambda x: net(x).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(4):
            step(G.full((3, 2), float(k)))
    assert len(step.compiled.artifacts) == 1
    lines = capsys.readouterr().out.splitlines()
    want = ["h " + str(net(G.full((3, 2), float(k))).sum()) for k in range(4)]
    capsys.readouterr()
    assert lines == want
