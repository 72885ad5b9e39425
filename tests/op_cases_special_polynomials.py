"""Parity cases of `graphnet.special`'s Airy and Bessel functions and orthogonal polynomials
(graphnet/_ops/special_bessel.py, special_polynomials.py): values against torch.special. None
has a derivative in PyTorch, so none is checked; tests/test_special_polynomials_bessel.py
covers dense grids, edges, dtypes and errors."""

from __future__ import annotations

from op_case_kit import Case, ints, positive, randn, unit


def _special(name):
    return lambda T, *xs: getattr(T.special, name)(*xs)


_ANY_X = ("airy_ai", "bessel_j0", "bessel_j1", "modified_bessel_i0", "modified_bessel_i1")
_POSITIVE_X = ("bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1",
               "scaled_modified_bessel_k0", "scaled_modified_bessel_k1")
_POLYNOMIALS = ("chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
                "chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
                "laguerre_polynomial_l", "legendre_polynomial_p")
_SHIFTED = ("shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
            "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w")

CASES = {
    **{f"special_{n}": Case(_special(n), (randn(3, 4),)) for n in _ANY_X},
    **{f"special_{n}": Case(_special(n), (positive(3, 4),)) for n in _POSITIVE_X},
    # a float x against an int64 degree per column: broadcast, computed in float32
    **{f"special_{n}": Case(_special(n), (randn(3, 4), ints(0, 12, 4)), rtol=1e-4)
       for n in _POLYNOMIALS},
    **{f"special_{n}": Case(_special(n), (unit(3, 4), ints(0, 12, 4)), rtol=1e-4)
       for n in _SHIFTED},
}
