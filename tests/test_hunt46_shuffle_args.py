"""pixel_shuffle / pixel_unshuffle / channel_shuffle / select refuse a float, bool or
non-positive factor with PyTorch's error, instead of truncating it: `scale: 1.5` in a config
built a model that never upscaled."""

import pytest
import torch

import graphnet as gn


CASES = [
    (lambda T, x: T.nn.functional.pixel_shuffle(x, 1.5), (1, 4, 2, 2)),
    (lambda T, x: T.nn.functional.pixel_shuffle(x, 3.0), (1, 9, 2, 2)),
    (lambda T, x: T.nn.PixelShuffle(2.0)(x), (1, 4, 2, 2)),
    (lambda T, x: T.nn.functional.pixel_shuffle(x, True), (1, 4, 2, 2)),
    (lambda T, x: T.nn.functional.pixel_shuffle(x, -2), (1, 4, 2, 2)),
    (lambda T, x: T.nn.functional.pixel_shuffle(x, 0), (1, 4, 2, 2)),
    (lambda T, x: T.nn.functional.pixel_unshuffle(x, 2.0), (1, 1, 4, 4)),
    (lambda T, x: T.nn.PixelUnshuffle(-1)(x), (1, 1, 4, 4)),
    (lambda T, x: T.nn.functional.pixel_unshuffle(x, 0), (1, 1, 4, 4)),
    (lambda T, x: T.nn.functional.channel_shuffle(x, 2.0), (1, 4, 2, 2)),
    (lambda T, x: T.nn.ChannelShuffle(True)(x), (1, 4, 2, 2)),
    (lambda T, x: x.select(1, 1.0), (2, 3)),
    (lambda T, x: x.select(0, False), (2, 3)),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("compiled", [False, True])
def test_bad_factor_raises_as_in_pytorch(case, compiled):
    fn, shape = CASES[case]
    with pytest.raises((TypeError, RuntimeError)) as want:
        fn(torch, torch.zeros(shape))
    run = gn.compile(lambda x: fn(gn, x)) if compiled else (lambda x: fn(gn, x))
    with pytest.raises(want.type) as got:
        run(gn.zeros(shape))
    assert str(got.value) == str(want.value)


def test_integer_like_factors_still_work():
    for T in (torch, gn):
        x = T.arange(16.0).reshape(1, 4, 2, 2)
        assert tuple(T.nn.functional.pixel_shuffle(x, T.tensor(2)).shape) == (1, 1, 4, 4)
        assert T.nn.functional.pixel_unshuffle(
            T.nn.functional.pixel_shuffle(x, 2), 2).tolist() == x.tolist()
        assert x.select(1, T.tensor(3)).tolist() == [[[12.0, 13.0], [14.0, 15.0]]]
