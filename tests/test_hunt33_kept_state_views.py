"""State a compiled step makes and keeps on a module, returned with a view of it
(thirty-third session's TBPTT hunt): `m.hidden = h; return h, h[-1]` and `return
m.hidden[-1]` came back as copies, so resetting the returned state outside the step
(masking rows, `zero_()`) never reached `m.hidden` and the next chunk ran on the unedited
state."""

import pytest
import torch

import graphnet as gn


def _carry(lib, compiled, returns_both):
    m = lib.nn.Module()
    m.hidden = lib.ones(2, 3)

    def step(x):
        m.hidden = (m.hidden * x).detach()
        return (m.hidden, m.hidden[-1]) if returns_both else m.hidden[-1]

    step = gn.compile(step) if compiled else step
    seen = []
    for k in range(4):
        out = step(lib.full((2, 3), 2.0 + k))
        top = out[1] if returns_both else out
        if returns_both:
            out[0][0].mul_(0.5)          # a reset through the returned state
        top.mul_(0.1)                    # a write through the returned view
        seen.append(m.hidden.tolist())
        if k == 2:
            m.hidden.zero_()
            seen.append(top.tolist())    # the view follows the state
    return seen


@pytest.mark.parametrize("returns_both", [True, False])
@pytest.mark.parametrize("compiled", [False, True])
def test_a_returned_view_of_kept_state_stays_a_view(compiled, returns_both):
    expected = _carry(torch, False, returns_both)
    got = _carry(gn, compiled, returns_both)
    assert torch.allclose(torch.tensor(got[-1]), torch.tensor(expected[-1]))
    for a, b in zip(got, expected):
        assert torch.allclose(torch.tensor(a), torch.tensor(b), rtol=1e-6)
