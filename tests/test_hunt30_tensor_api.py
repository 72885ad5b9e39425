"""Tensor API against PyTorch: integer logspace's whole exponent ends, expand's -1 in a new
leading dim, a Python int base out of an integer tensor's range in `**` under compile."""

import pytest

import graphnet

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("args", [(0, 2.5, 4), (-0.5, 0.5, 3), (0, 3, 4, 2.5), (1.9, -1.2, 5)])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integer_logspace_truncates_its_ends(args, dtype):
    want = torch.logspace(*args, dtype=getattr(torch, dtype)).tolist()
    assert graphnet.logspace(*args, dtype=getattr(graphnet, dtype)).tolist() == want


@pytest.mark.parametrize("shape,sizes", [((3,), (-1, 3)), ((3, 1), (-1, -1, 4)),
                                         ((2, 3, 5), (-1, 2, 3, 5))])
def test_expand_refuses_minus_one_in_a_new_leading_dim(shape, sizes):
    for lib in (torch, graphnet):
        with pytest.raises(RuntimeError, match="isn't allowed in a leading, non-existing"):
            lib.zeros(*shape).expand(*sizes)
    assert graphnet.zeros(3, 1).expand(2, -1, 4).shape == (2, 3, 4)


@pytest.mark.parametrize("base,dtype", [(-3, "uint8"), (300, "int8"), (-3, "int16")])
def test_out_of_range_python_base_wraps_under_compile(base, dtype):
    want = (base ** torch.tensor([1, 2, 0, 5], dtype=getattr(torch, dtype))).tolist()
    x = graphnet.tensor([1, 2, 0, 5], dtype=getattr(graphnet, dtype))
    assert (base ** x).tolist() == want
    assert graphnet.compile(lambda u: base ** u)(x).tolist() == want
    assert graphnet.compile(lambda u: graphnet.pow(base, u))(x).tolist() == want
