"""Ops whose result size comes from a tensor's values (`x[mask]`, `nonzero`, `bincount`,
`repeat_interleave(counts)`, `unique_consecutive` ...) read a captured tensor's values into
Python while tracing. The read is a value guard (graphnet/_host_reads.py): after the tensor
changes in place, the next compiled call traces again and gives PyTorch's numbers. Before,
the program kept the old size or indices (a silent wrong answer)."""

import graphnet as gt
import numpy as np
import pytest
import torch
from graphnet._errors import TraceError

pytestmark = pytest.mark.filterwarnings("ignore")

MODES = pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])


def _numbers(value):
    if isinstance(value, (tuple, list)):
        return [_numbers(v) for v in value]
    return np.asarray(value.detach().numpy() if isinstance(value, torch.Tensor) else value)


def _check_calls(build, compiled: bool):
    """Call the function `build(L)` makes, change its captured tensor, call again ...: every
    call's result equals PyTorch's, with the same shape and dtype."""
    results = {}
    for L in (torch, gt):
        fn, x, changes = build(L)
        if L is gt and compiled:
            fn = gt.compile(fn)
        out = [_numbers(fn(x))]
        for change in changes:
            change()
            out.append(_numbers(fn(x)))
        results[L] = out
    for want, got in zip(results[torch], results[gt]):
        for w, g in zip(want if isinstance(want, list) else [want],
                        got if isinstance(got, list) else [got]):
            assert g.shape == w.shape and g.dtype == w.dtype, (g, w)
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


def _bool_mask(L):
    mask = L.tensor([True, False, True, False])
    x = L.arange(4.0)

    def off():
        mask.fill_(False)
        mask[3] = True
    return (lambda x: x[mask] * 2), x, [lambda: mask.__setitem__(1, True), off]


def _mask_buffer_in_module(L):
    class M(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("keep", L.tensor([True, False, True, True]))

        def forward(self, h):
            return h[..., self.keep] + 1

    m = M()
    return m, L.arange(8.0).reshape(2, 4), [lambda: m.keep.__setitem__(1, True)]


def _mask_attribute_of_object(L):
    class Config:
        mask = L.tensor([True, False, True])

    cfg = Config()
    return (lambda x: x[cfg.mask].sum()), L.tensor([1.0, 2.0, 4.0]), \
        [lambda: cfg.mask.__setitem__(1, True)]


def _mask_after_an_op_used_it(L):
    mask = L.tensor([True, False, True])    # a program input once `mask.sum()` traced
    return (lambda x: x[mask] * mask.sum()), L.arange(3.0), [lambda: mask.__setitem__(1, True)]


def _repeat_interleave_counts(L):
    counts = L.tensor([1, 2, 1])
    return (lambda x: x.repeat_interleave(counts)), L.arange(3.0), \
        [lambda: counts.__setitem__(0, 3), lambda: counts.fill_(0)]


def _repeat_interleave_zero_d(L):
    r = L.tensor(2)
    return (lambda x: x.repeat_interleave(r)), L.arange(3.0), [lambda: r.fill_(3)]


def _repeat_interleave_alone(L):
    counts = L.tensor([2, 0, 1])
    return (lambda x: L.repeat_interleave(counts) + x.sum().long()), L.ones(1), \
        [lambda: counts.__setitem__(1, 2)]


def _bincount(L):
    labels = L.tensor([0, 1, 1, 2])
    return (lambda x: L.bincount(labels).float() * x), L.ones(1), \
        [lambda: labels.__setitem__(0, 4)]


def _nonzero(L):
    m = L.tensor([0.0, 1.0, 0.0, 2.0])
    return (lambda x: x[L.nonzero(m).flatten()]), L.arange(4.0), [lambda: m.__setitem__(0, 5.0)]


def _nonzero_as_tuple(L):
    m = L.tensor([[0, 1], [1, 0]])
    return (lambda x: x[m.nonzero(as_tuple=True)]), L.arange(4.0).reshape(2, 2), \
        [lambda: m.fill_(1)]


def _argwhere(L):
    m = L.tensor([0, 1, 0, 1])
    return (lambda x: x[L.argwhere(m)[:, 0]]), L.arange(4.0), [lambda: m.fill_(1)]


def _masked_select_both_captured(L):
    buf = L.tensor([1.0, 2.0, 3.0, 4.0])
    mask = L.tensor([True, False, True, False])
    return (lambda x: L.masked_select(buf, mask) * x), L.ones(1), \
        [lambda: mask.__setitem__(3, True)]


def _unique_consecutive(L):
    t = L.tensor([1, 1, 2, 2, 3])
    return (lambda x: L.unique_consecutive(t, return_counts=True)[1] * x), L.ones(1), \
        [lambda: t.__setitem__(1, 5)]


def _unique_after_an_op_used_it(L):
    labels = L.tensor([0, 1, 1, 2])
    return (lambda x: x * labels.sum() + L.unique(labels).float().sum()), L.ones(1), \
        [lambda: labels.__setitem__(0, 7)]


def _tensor_of_a_buffer(L):
    buf = L.tensor([1.0, 2.0, 3.0])
    return (lambda x: x + L.tensor(buf) + L.as_tensor(buf, dtype=L.float64).float()), \
        L.ones(3), [lambda: buf.__setitem__(0, 5.0)]


def _map_with_a_captured_tensor(L):
    other = L.tensor([1.0, 1.0, 1.0])
    buf = L.zeros(3)

    def f(x):
        return x * buf.map_(other, lambda u, v: 2 * v - u)
    return f, L.ones(3), [lambda: other.__setitem__(0, 5.0)]


CASES = {f.__name__.lstrip("_"): f for f in (
    _bool_mask, _mask_buffer_in_module, _mask_attribute_of_object, _mask_after_an_op_used_it,
    _repeat_interleave_counts, _repeat_interleave_zero_d, _repeat_interleave_alone, _bincount,
    _nonzero, _nonzero_as_tuple, _argwhere, _masked_select_both_captured, _unique_consecutive,
    _unique_after_an_op_used_it, _tensor_of_a_buffer, _map_with_a_captured_tensor)}


@MODES
@pytest.mark.parametrize("case", list(CASES))
def test_a_captured_tensor_changed_between_calls_gives_torchs_numbers(case, compiled):
    _check_calls(CASES[case], compiled)


def _masked_training(L, compiled: bool):
    """SGD steps of a linear layer whose loss reads the outputs a captured mask keeps; the
    mask changes between steps."""
    lin = L.nn.Linear(4, 4)
    with L.no_grad():
        lin.weight.copy_(L.tensor(np.linspace(-1, 1, 16, dtype=np.float32).reshape(4, 4)))
        lin.bias.copy_(L.tensor([0.1, -0.2, 0.3, -0.4]))
    keep = L.tensor([True, True, False, True])
    opt = L.optim.SGD(lin.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = lin(x)[:, keep].pow(2).sum() + lin.bias[keep].sum()
        loss.backward()
        opt.step()
        return loss

    step = gt.compile(step) if compiled else step
    x = L.tensor(np.arange(8, dtype=np.float32).reshape(2, 4) / 8)
    out = []
    for change in (None, (2, True), (0, False), None):
        if change is not None:
            keep[change[0]] = change[1]
        loss = step(x)
        out.append([loss.item(), lin.weight.detach().numpy().copy(),
                    lin.bias.detach().numpy().copy(), lin.bias.grad.numpy().copy()])
    return out


@MODES
def test_a_training_step_with_a_captured_mask_on_parameters_matches_torch(compiled):
    want, got = _masked_training(torch, False), _masked_training(gt, compiled)
    for w_step, g_step in zip(want, got):
        for w, g in zip(w_step, g_step):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_an_unchanged_captured_mask_reuses_the_program():
    mask = gt.tensor([True, False, True])
    f = gt.compile(lambda x: x[mask])
    for _ in range(3):
        assert f(gt.arange(3.0)).tolist() == [0.0, 2.0]
    assert len(f.explain()["recompile_reasons"]) == 1
    mask[1] = True
    assert f(gt.arange(3.0)).tolist() == [0.0, 1.0, 2.0]
    assert f(gt.arange(3.0)).tolist() == [0.0, 1.0, 2.0]
    assert len(f.explain()["recompile_reasons"]) == 2     # traced again once, then reused


@pytest.mark.parametrize("body", [
    lambda x: x[x > 0],
    lambda x: x.nonzero(),
    lambda x: gt.bincount(x.long()),
    lambda x: x.repeat_interleave(x.long()),
    lambda x: gt.unique_consecutive(x),
], ids=["mask", "nonzero", "bincount", "repeat_interleave", "unique_consecutive"])
def test_a_value_computed_by_the_program_still_refuses(body):
    with pytest.raises(TraceError, match="shape|length|depends"):
        gt.compile(body)(gt.tensor([1.0, 0.0, 2.0]))


def test_a_captured_mask_too_big_to_check_on_every_call_raises():
    mask = gt.ones(2048, dtype=gt.bool)
    with pytest.raises(TraceError, match="2048 elements"):
        gt.compile(lambda x: x[mask])(gt.ones(2048))


def test_the_guard_of_an_unchanged_mask_does_not_copy_it_to_the_host(monkeypatch):
    from graphnet.compiler import value_reads

    mask = gt.tensor([True, False, True])
    f = gt.compile(lambda x: x[mask])
    f(gt.arange(3.0))
    copies = []
    monkeypatch.setattr(value_reads, "snapshot", lambda a: copies.append(a) or ())
    for _ in range(3):
        assert f(gt.arange(3.0)).tolist() == [0.0, 2.0]
    assert copies == []     # the very array read while tracing: its values are those seen


def test_assert_close_of_a_captured_tensor_checks_each_call():
    buf, ref = gt.tensor([1.0, 2.0]), gt.tensor([1.0, 2.0])
    f = gt.compile(lambda x: (gt.testing.assert_close(buf, ref), x * 2)[1])
    assert f(gt.ones(2)).tolist() == [2.0, 2.0]
    buf[0] = 5.0
    with pytest.raises(AssertionError, match="not close"):    # as torch's does eagerly
        f(gt.ones(2))
