"""A leaf the compiled code makes and returns comes back a leaf (it came back a non-leaf
whose .grad stayed None, or not requiring grad at all); where its gradient could not reach it
(an FGSM helper returning `xa, loss` with no backward inside), the trace refuses. Views and
detach() of an inference tensor are inference tensors. PyTorch's sparse layout constants
exist for layout checks. SGD with a momentum buffer of a wider dtype keeps p's dtype."""

import numpy as np
import pytest
import torch

import graphnet
from graphnet import TraceError


@pytest.mark.parametrize("compiled", [False, True])
def test_a_returned_leaf_made_inside_is_a_leaf(compiled):
    def make(x):
        return x.clone().requires_grad_()
    fn = graphnet.compile(make) if compiled else make
    xa = fn(graphnet.ones(2, 3))
    assert xa.is_leaf and xa.requires_grad and xa.grad_fn is None
    (xa * 3).sum().backward()
    assert xa.grad.tolist() == [[3.0] * 3] * 2


def _fgsm(T):
    lin = T.nn.Linear(3, 2)

    def prep(x, y):
        xa = x.clone().requires_grad_()
        return xa, T.nn.functional.cross_entropy(lin(xa), y)
    return prep


def test_a_made_leaf_beside_a_result_that_needs_its_gradient_is_refused():
    x, y = graphnet.ones(2, 3), graphnet.tensor([0, 1])
    xa, loss = _fgsm(graphnet)(x, y)          # eagerly: xa gets its gradient
    loss.backward()
    assert xa.is_leaf and xa.grad is not None and float(xa.grad.abs().sum()) > 0
    with pytest.raises(TraceError, match="returns a leaf tensor it made"):
        graphnet.compile(_fgsm(graphnet))(x, y)


def test_a_made_leaf_whose_grad_the_code_set_is_refused():
    lin = graphnet.nn.Linear(3, 1)

    def step(x):
        xa = x.clone().requires_grad_()
        lin(xa).sum().backward()
        return xa
    assert step(graphnet.ones(2, 3)).grad is not None
    with pytest.raises(TraceError, match="whose .grad its own backward"):
        graphnet.compile(step)(graphnet.ones(2, 3))


@pytest.mark.parametrize("take", [lambda f: f[:, :4], lambda f: f.narrow(1, 0, 2),
                                  lambda f: f.view(15), lambda f: f.t(), lambda f: f.detach(),
                                  lambda f: f.data])
def test_views_and_aliases_of_an_inference_tensor_are_inference_tensors(take):
    for T in (torch, graphnet):
        with T.inference_mode():
            feats = T.ones(3, 5)
        x = take(feats)
        assert x.is_inference()
        w = T.ones(x.shape, requires_grad=True)
        with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for "
                                               "backward"):
            (w * x).sum().backward()


def test_sparse_layouts_exist_for_layout_checks():
    for T in (torch, graphnet):
        adj = T.eye(3)
        assert adj.layout not in (T.sparse_coo, T.sparse_csr, T.sparse_csc, T.sparse_bsr,
                                  T.sparse_bsc)
        assert adj.layout == T.strided and adj.sparse_dim() == 0 and adj.dense_dim() == 2
    assert repr(graphnet.sparse_coo) == "graphnet.sparse_coo"


@pytest.mark.parametrize("compiled", [False, True])
def test_sgd_keeps_the_parameters_dtype_after_the_model_is_cast(compiled):
    results = []
    for T in (torch, graphnet):
        T.manual_seed(0)
        model = T.nn.Linear(3, 1).double()
        with T.no_grad():
            model.weight.copy_(T.tensor([[0.1, 0.2, 0.3]], dtype=T.float64))
        opt = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x):
            opt.zero_grad()
            model(x).sum().backward()
            opt.step()
        run = graphnet.compile(step) if compiled and T is graphnet else step
        run(T.ones(2, 3, dtype=T.float64))
        model.float()
        for _ in range(2):
            run(T.ones(2, 3))
        assert model.weight.dtype == T.float32
        results.append(model.weight.detach().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)
