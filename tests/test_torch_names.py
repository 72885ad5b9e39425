"""PyTorch's names keep PyTorch's meaning under `import graphnet as torch`: `torch.trace(m)` is
the matrix trace; the graph tracer is `graphnet.trace_graph`."""

import numpy as np
import pytest
from parity import torch

import graphnet


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_trace_is_the_matrix_trace(shape, compiled):
    data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) - 3.5
    x = graphnet.tensor(data, requires_grad=True)
    fn = graphnet.compile(graphnet.trace) if compiled else graphnet.trace
    out = fn(x)
    out.backward()
    tx = torch.tensor(data, requires_grad=True)
    expected = torch.trace(tx)
    expected.backward()
    assert out.item() == pytest.approx(expected.item())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    assert x.trace().item() == pytest.approx(expected.item())


def test_trace_of_integers_is_int64_and_other_ranks_are_refused():
    m = [[1, 2], [3, 4]]
    assert graphnet.trace(graphnet.tensor(m)).dtype == graphnet.int64
    assert torch.trace(torch.tensor(m)).dtype == torch.int64
    assert graphnet.trace(graphnet.tensor(m)).item() == 5
    with pytest.raises(RuntimeError, match="expected a matrix"):
        graphnet.trace(graphnet.ones(3))
    with pytest.raises(TypeError, match="graphnet.trace_graph"):
        graphnet.trace(lambda x: x * 2)


def test_trace_graph_is_the_graph_tracer():
    graph = graphnet.trace_graph(lambda x: x.exp() * 2, graphnet.ones(3))
    assert "exp(%x)" in str(graph)
