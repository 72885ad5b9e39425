"""Half precision reductions accumulate in float32 and round once, as PyTorch: var/std (and
their _mean forms), avg pools, adaptive avg pools, interpolate(mode="area"),
local_response_norm; and uint8 images resampled with PyTorch's fixed-point bilinear and
bicubic. Each case runs eagerly and compiled and is compared with torch bit for bit."""

import numpy as np
import pytest
import torch

import graphnet


def _both(fn, *arrays):
    """fn(graphnet, *tensors) eagerly and compiled, as NumPy arrays with their dtype names."""
    eager = fn(graphnet, *[graphnet.tensor(a) for a in arrays])
    static = graphnet.compile(lambda *xs: fn(graphnet, *xs))(*[graphnet.tensor(a) for a in arrays])
    return [(np.asarray(r.float().tolist()), str(r.dtype).split(".")[-1]) for r in (eager, static)]


def _check(fn, *arrays, ulps: int = 0):
    """graphnet's results equal torch's (within `ulps` units of the last place)."""
    expected = fn(torch, *[torch.tensor(a) for a in arrays])
    want = (expected.float().numpy(), str(expected.dtype).split(".")[-1])
    for got, dtype in _both(fn, *arrays):
        assert dtype == want[1]
        if ulps:   # NOTE: bfloat16 has 8 bits: a float32 sum summed in another order can
            spacing = np.spacing(np.abs(want[0]).astype(np.float32)) * 2 ** 16  # round up
            np.testing.assert_array_less(np.abs(got - want[0]), ulps * spacing * 1.001)
        else:
            np.testing.assert_array_equal(got, want[0])


RNG = np.random.default_rng(0)
IMAGE = RNG.standard_normal((2, 6, 7, 9))


def F(lib):
    return lib.nn.functional


VARIANCES = [
    lambda T, d: T.linspace(0, 100, 5000, dtype=d).var(),
    lambda T, d: T.linspace(0, 100, 5000, dtype=d).std(),
    lambda T, d: T.linspace(0, 100, 5000, dtype=d).reshape(2, 2500).std(1),
    lambda T, d: T.linspace(-300, 900, 4000, dtype=d).reshape(40, 100).var(0, correction=0),
    lambda T, d: T.var_mean(T.linspace(0, 100, 5000, dtype=d))[0],
    lambda T, d: T.std_mean(T.linspace(0, 100, 5000, dtype=d), 0, keepdim=True)[0],
]


def test_half_variance_is_accumulated_in_float32():
    for case in VARIANCES:
        for dtype in ("float16", "bfloat16"):
            _check(lambda T, case=case, dtype=dtype: case(T, getattr(T, dtype)),
                   ulps=1 if dtype == "bfloat16" else 0)


POOLS = {
    "avg_pool2d": lambda T, x: F(T).avg_pool2d(x, 3, 2, 1),
    "avg_pool2d_ceil_no_pad_count": lambda T, x: F(T).avg_pool2d(
        x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    "avg_pool2d_divisor": lambda T, x: F(T).avg_pool2d(x, 3, divisor_override=5),
    "avg_pool1d": lambda T, x: F(T).avg_pool1d(x[0], 4, 3),
    "adaptive_avg_pool2d": lambda T, x: F(T).adaptive_avg_pool2d(x, (3, 4)),
    "adaptive_avg_pool1d": lambda T, x: F(T).adaptive_avg_pool1d(x[0], 4),
    "area": lambda T, x: F(T).interpolate(x, size=(3, 4), mode="area"),
    "local_response_norm": lambda T, x: F(T).local_response_norm(x[0], 3),
    "local_response_norm_big": lambda T, x: F(T).local_response_norm(
        x[0] * 10, 4, alpha=0.3, k=2.0),
}


@pytest.mark.parametrize("name", sorted(POOLS))
def test_half_pools_accumulate_in_float32(name):
    for scale in (300.0, 3e-3, 2e4):   # 2e4: window sums past float16's 65504
        for dtype in ("float16", "bfloat16"):
            _check(lambda T, x, dtype=dtype: POOLS[name](T, x.to(getattr(T, dtype))),
                   IMAGE * scale)


@pytest.mark.parametrize("case", [
    lambda T: F(T).avg_pool2d(T.full((1, 1, 3, 3), 40000.0, dtype=T.float16), 3),
    lambda T: F(T).adaptive_avg_pool2d(T.full((1, 1, 3, 3), 40000.0, dtype=T.float16), 1),
    lambda T: F(T).interpolate(T.full((1, 1, 3, 3), 40000.0, dtype=T.float16), size=(1, 1),
                               mode="area"),
])
def test_half_window_sums_past_the_half_range_do_not_overflow(case):
    _check(case)


def _uint8_cases(n: int):
    rng = np.random.default_rng(1)
    for _ in range(n):
        h, w = (int(v) for v in rng.integers(1, 9, 2))
        image = rng.integers(0, 256, (1, int(rng.choice([1, 3])), h, w), dtype=np.uint8)
        mode = str(rng.choice(["bilinear", "bicubic"]))
        if rng.integers(0, 2):
            resize = {"scale_factor": float(rng.choice([0.5, 0.7, 1.3, 2.0, 2.5, 3.0]))}
        else:
            resize = {"size": (int(rng.integers(1, 12)), int(rng.integers(1, 12)))}
        yield image, mode, bool(rng.integers(0, 2)), resize


def test_uint8_bilinear_and_bicubic_match_torch_exactly():
    for image, mode, align_corners, resize in _uint8_cases(40):
        def fn(T, x, mode=mode, align_corners=align_corners, resize=resize):
            return F(T).interpolate(x, mode=mode, align_corners=align_corners, **resize)

        try:
            fn(torch, torch.tensor(image))
        except (RuntimeError, ValueError):   # a size torch refuses (a scale to 0 pixels)
            continue
        _check(fn, image)
    image = np.random.default_rng(2).integers(0, 256, (2, 3, 5, 7), dtype=np.uint8)
    for mode in ("nearest", "nearest-exact"):   # these stay exact copies
        _check(lambda T, x, mode=mode: F(T).interpolate(x, size=(9, 4), mode=mode), image)
