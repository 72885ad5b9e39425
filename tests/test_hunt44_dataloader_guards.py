"""A compiled function that loops over a DataLoader sees changes to what the loader holds,
as eager code does: an attribute of the user's Dataset behind it (`ds.scale = 3.0`), a
Subset's index list (`sub.indices.append(9)`), a TensorDataset's tensors replaced. The guards
did not look inside graphnet's own data classes, so the first trace's values came back
silently; in-place tensor changes and unchanged loaders compile once."""

import numpy as np
import torch

import graphnet

_X = np.arange(10, dtype=np.float32)


def _program(T, compiled):
    D = T.utils.data

    class Scaled(D.Dataset):
        def __init__(self):
            self.x = T.tensor(_X)
            self.scale = 1.0

        def __len__(self):
            return 10

        def __getitem__(self, i):
            return self.x[i] * self.scale

    def evaluate(loader):
        total = T.zeros(())
        for batch in loader:
            x = batch[0] if isinstance(batch, (list, tuple)) else batch
            total = total + x.sum()
        return total

    f = T.compile(evaluate) if compiled else evaluate
    out = []
    ds = Scaled()
    loader = D.DataLoader(ds, batch_size=4)
    out.append(float(f(loader)))
    ds.scale = 3.0
    out.append(float(f(loader)))
    ds.x.mul_(2)
    out.append(float(f(loader)))
    sub = D.Subset(D.TensorDataset(T.tensor(_X)), [1, 2, 3])
    sub_loader = D.DataLoader(sub, batch_size=2)
    out.append(float(f(sub_loader)))
    sub.indices.append(9)
    out.append(float(f(sub_loader)))
    sub.indices = [0, 0]
    out.append(float(f(sub_loader)))
    td = D.TensorDataset(T.tensor(_X))
    td_loader = D.DataLoader(td, batch_size=3)
    out.append(float(f(td_loader)))
    td.tensors = (T.ones(4),)
    out.append(float(f(td_loader)))
    return out


def test_dataset_changes_reach_a_compiled_loop():
    want = _program(torch, False)
    assert want == [45.0, 135.0, 270.0, 6.0, 15.0, 0.0, 45.0, 4.0]
    assert _program(graphnet, False) == want
    assert _program(graphnet, True) == want


def test_unchanged_loader_compiles_once():
    D = graphnet.utils.data
    td = D.TensorDataset(graphnet.arange(6.0).reshape(6, 1), graphnet.arange(6))
    loader = D.DataLoader(td, batch_size=4)

    @graphnet.compile
    def evaluate(loader):
        s = graphnet.zeros(())
        for x, y in loader:
            s = s + (x.squeeze(1) * y).sum()
        return s

    assert [float(evaluate(loader)) for _ in range(3)] == [55.0] * 3
    td.tensors[0].add_(1)   # in place: the program reads the new values
    assert float(evaluate(loader)) == 70.0
    assert len(evaluate.compiled.recompile_reasons) == 1
