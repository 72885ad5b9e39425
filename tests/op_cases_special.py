"""Parity cases of `graphnet.special`'s own kernels (graphnet/_ops/special.py): each op called
as `T.special.<name>`, values and gradients against torch.special."""

from __future__ import annotations

from op_case_kit import Case, positive, randn, unit


def _special(name):
    return lambda T, *xs: getattr(T.special, name)(*xs)


CASES = {
    **{f"special_{n}": Case(_special(n), (randn(3, 4),))
       for n in ("i0e", "i1", "i1e", "ndtr", "log_ndtr", "erfcx", "spherical_bessel_j0")},
    "special_ndtri": Case(_special("ndtri"), (unit(3, 4),), atol=1e-4),
    "special_entr": Case(_special("entr"), (positive(3, 4),)),
    "special_xlog1py": Case(_special("xlog1py"), (randn(3, 4), positive(4))),
    # PyTorch differentiates these in the second argument only (tests/test_special_edges.py)
    **{f"special_{n}": Case(_special(n), (positive(3, 4), positive(4)), no_grad=(0,),
                            atol=1e-4, rtol=1e-4) for n in ("gammainc", "gammaincc")},
    "special_zeta": Case(lambda T, s, q: T.special.zeta(s + 1.5, q), (positive(3, 4),
                                                                       positive(4)),
                         no_grad=(0,), atol=1e-4, rtol=1e-4),
}
