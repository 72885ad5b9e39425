"""The random op of the distributions added last (graphnet/distributions/_von_mises.py):
sampled, so it compares with PyTorch by its statistics, in
tests/test_distributions_breadth_sampling.py."""

ELSEWHERE = {
    "von_mises_sample": ("random", "tests/test_distributions_breadth_sampling.py",
                         "test_sample_shapes_dtypes_support_and_moments"),
}
