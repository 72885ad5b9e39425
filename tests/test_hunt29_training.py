"""Training-loop defects found by the twenty-ninth session's hunt, checked against PyTorch.

- A compiled step whose first call failed a check (an out-of-range label) took back the
  optimizer state its trace had created, but its program stayed cached: a later call whose
  state matched again ran it, restarting SGD's momentum buffers from the gradient, so every
  step after was plain `lr * grad` while the buffers froze (silently, static mode only).
- `clip_grad_norm_` with a tensor `max_norm` passed to a compiled step raised a TraceError
  (float() of a traced value); PyTorch divides by the tensor."""

import numpy as np
import pytest
from parity import torch

import graphnet

WEIGHT = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]


def _linear(lib):
    m = lib.nn.Linear(2, 3)
    with lib.no_grad():
        m.weight.copy_(lib.tensor(WEIGHT))
        m.bias.zero_()
    return m


def _trained(lib, compiled: bool, make_opt, grow: bool):
    """Weights and optimizer state after a step that fails (label 7 of 3 classes), then three
    good steps; `grow`: a second parameter group is added after one good step, and the step
    after that fails."""
    m = _linear(lib)
    extra = lib.nn.Linear(2, 3)
    with lib.no_grad():
        extra.weight.fill_(0.5)
        extra.bias.fill_(-0.25)
    extra.requires_grad_(grow)   # frozen until it is added: no .grad of its own changes
    opt = make_opt(lib, m.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(m(x) + extra(x), y)
        loss.backward()
        opt.step()
        return loss

    run = graphnet.compile(step) if compiled else step
    x = lib.tensor([[1.0, -1.0], [0.5, 2.0]])
    good, bad = lib.tensor([0, 2]), lib.tensor([0, 7])
    if grow:
        run(x, good)
        opt.add_param_group({"params": list(extra.parameters())})
    with pytest.raises(IndexError):
        run(x, bad)
    for _ in range(3):
        run(x, good)
    params = [*m.parameters(), *extra.parameters()]
    state = [np.asarray(v.detach().numpy()) for p in params for v in opt.state[p].values()
             if hasattr(v, "shape") and v.ndim > 0] if hasattr(opt, "state") else []
    return [p.detach().numpy().copy() for p in params], state


OPTIMIZERS = {
    "sgd_momentum": lambda lib, ps: lib.optim.SGD(ps, lr=0.1, momentum=0.9),
    "sgd_nesterov": lambda lib, ps: lib.optim.SGD(ps, lr=0.1, momentum=0.5, nesterov=True,
                                                  weight_decay=0.01),
    "adam": lambda lib, ps: lib.optim.Adam(ps, lr=0.05),
    "rmsprop": lambda lib, ps: lib.optim.RMSprop(ps, lr=0.01, momentum=0.5),
}


@pytest.mark.parametrize("grow", [False, True], ids=["first_call", "after_add_param_group"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_failed_state_creating_call_is_traced_again(name, grow):
    want_params, want_state = _trained(torch, False, OPTIMIZERS[name], grow)
    for compiled in (False, True):
        params, state = _trained(graphnet, compiled, OPTIMIZERS[name], grow)
        for got, want in zip(params, want_params, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert len(state) == len(want_state)
        for got, want in zip(state, want_state, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_clip_grad_norm_takes_a_tensor_max_norm_in_compiled_code():
    def run(lib, compiled):
        m = _linear(lib)

        def step(x, max_norm):
            m.zero_grad()
            (m(x) ** 2).sum().backward()
            return lib.nn.utils.clip_grad_norm_(m.parameters(), max_norm)
        fn = graphnet.compile(step) if compiled else step
        norms = [float(fn(lib.tensor([[1.0, -1.0]]), lib.tensor(limit)))
                 for limit in (0.5, 2.0, 100.0)]   # a new limit: the same program
        return norms, m.weight.grad.numpy().copy()

    want_norms, want_grad = run(torch, False)
    for compiled in (False, True):
        norms, grad = run(graphnet, compiled)
        np.testing.assert_allclose(norms, want_norms, rtol=1e-6)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-5, atol=1e-7)
