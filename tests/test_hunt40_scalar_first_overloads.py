"""PyTorch's deprecated scalar-first overloads, which older optimizers use (AdaBound, the
original RAdam): `p.add_(-lr, d)`, `p.sub_(a, d)`, `v.addcmul_(0.5, g, g)`,
`p.addcdiv_(-s, m, d)`, `torch.add(a, 2, b)`; taken as PyTorch takes them, in both modes."""
import numpy as np
import pytest
import torch

import graphnet as G

CASES = {
    "add_": lambda lib, p, a, b: p.add_(-0.1, a),
    "sub_": lambda lib, p, a, b: p.sub_(0.1, a),
    "add": lambda lib, p, a, b: lib.add(p, 2, b),
    "sub": lambda lib, p, a, b: p.sub(3, b),
    "addcmul_": lambda lib, p, a, b: p.addcmul_(0.5, a, b),
    "addcdiv_": lambda lib, p, a, b: p.addcdiv_(-0.1, a, b),
    "addcmul": lambda lib, p, a, b: lib.addcmul(p, 0.5, a, b),
}


def _call(lib, case, compiled):
    fn = CASES[case]
    values = [np.array([1.0, -2.0, 3.0], np.float32), np.array([2.0, 0.5, -1.0], np.float32),
              np.array([4.0, 1.0, 2.0], np.float32)]
    tensors = [lib.tensor(v) for v in values]
    run = G.compile(lambda p, a, b: fn(lib, p, a, b).clone()) if compiled else \
        (lambda p, a, b: fn(lib, p, a, b))
    out = run(*tensors)
    return out.numpy(), tensors[0].numpy()


@pytest.mark.filterwarnings("ignore:This overload")
@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_scalar_first_overloads_match_torch(case, compiled):
    want = _call(torch, case, False)
    got = _call(G, case, compiled)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)


@pytest.mark.filterwarnings("ignore:This overload")
def test_other_extra_arguments_still_raise():
    with pytest.raises(TypeError):
        G.ones(2).add(G.ones(2), G.ones(2))
    assert G.ones(2).add(2, 3).tolist() == torch.ones(2).add(2, 3).tolist() == [7.0, 7.0]
