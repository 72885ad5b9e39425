"""The distributions' own random ops (graphnet/distributions/_random_ops.py): sampled, so
they compare with PyTorch by their statistics and gradient formulas, in
tests/test_distributions_more_sampling.py."""

ELSEWHERE = {
    "standard_gamma": ("random", "tests/test_distributions_more_sampling.py",
                       "test_gamma_rsample_has_torchs_implicit_gradient"),
    "binomial_counts": ("random", "tests/test_distributions_more_sampling.py",
                        "test_sample_shapes_dtypes_support_and_moments"),
}
