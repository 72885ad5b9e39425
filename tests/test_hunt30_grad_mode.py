"""A compiled training step called under no_grad that turns grad on itself returns the loss
as PyTorch does: with its (freed) history, not as a plain tensor."""

import pytest

import graphnet
from graphnet import nn

torch = pytest.importorskip("torch")


def _step(lib, compile_fn, weights=None):
    model = lib.nn.Linear(4, 3)
    if weights is not None:     # torch starts from graphnet's weights
        with torch.no_grad():
            for p, w in zip(model.parameters(), weights):
                p.copy_(torch.from_numpy(w))
    opt = lib.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        with lib.enable_grad():
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            opt.step()
            return loss

    return compile_fn(step), model


@pytest.mark.parametrize("compile_fn", [lambda f: f, graphnet.compile], ids=["dynamic", "static"])
def test_loss_made_under_enable_grad_keeps_its_freed_history(compile_fn):
    step, model = _step(graphnet, compile_fn)
    t_step, t_model = _step(torch, lambda f: f,
                           [p.detach().numpy().copy() for p in model.parameters()])
    x, tx = graphnet.ones(5, 4), torch.ones(5, 4)
    step(x), t_step(tx)
    with graphnet.no_grad():
        loss = step(x)
    with torch.no_grad():
        t_loss = t_step(tx)
    assert loss.requires_grad and t_loss.requires_grad
    assert type(loss.grad_fn).__name__ == type(t_loss.grad_fn).__name__ == "MeanBackward0"
    assert abs(loss.item() - t_loss.item()) < 1e-6
    for p, tp in zip(model.parameters(), t_model.parameters()):
        assert abs(p.detach().numpy() - tp.detach().numpy()).max() < 1e-6
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        t_loss.backward()


def test_plain_no_grad_call_returns_no_history():
    model = nn.Linear(4, 3)
    fwd = graphnet.compile(lambda x: model(x).sum())
    with graphnet.no_grad():
        out = fwd(graphnet.ones(2, 4))
    assert not out.requires_grad and out.grad_fn is None
