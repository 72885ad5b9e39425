"""`angle` keeps its input's precision: pi in float64 is float64's pi (it was float32's)."""

import math

import torch

import graphnet as gn


def test_angle_of_negative_float64_is_float64_pi():
    values = [-2.0, 0.0, 3.5, float("nan")]
    want = torch.tensor(values, dtype=torch.float64).angle().tolist()
    for fn in (gn.angle, gn.compile(gn.angle), lambda t: t.angle()):
        got = fn(gn.tensor(values, dtype=gn.float64))
        assert got.dtype == gn.float64
        assert got.tolist()[:3] == want[:3] == [math.pi, 0.0, 0.0]
        assert math.isnan(got.tolist()[3])
    got32 = gn.angle(gn.tensor([-1.0]))
    assert got32.dtype == gn.float32 and got32.tolist() == torch.tensor([-1.0]).angle().tolist()
