"""Edges of nn.init, lr schedulers and datasets against PyTorch: trunc_normal_ in far and
narrow windows, a custom scheduler's closed form, ConcatDataset([]) and calculate_gain's type."""

import warnings

import numpy as np
import pytest
import torch

import graphnet as gn


@pytest.mark.parametrize("window", [(9.0, 12.0), (-12.0, -9.0), (-50.0, -49.0), (2.0, 2.5),
                                    (-1.0, 1.0), (0.0, 3.0)], ids=str)
def test_trunc_normal_matches_pytorch_statistics_in_any_window(window):
    a, b = window
    n_got, n_want = 20_000, 8_000
    gn.manual_seed(0)           # fixed draws: the bounds below are 5 standard errors wide
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = gn.nn.init.trunc_normal_(gn.empty(n_got), 0.0, 1.0, a, b).numpy()
        want = torch.nn.init.trunc_normal_(torch.empty(n_want), 0.0, 1.0, a, b).numpy()
    assert got.min() >= a and got.max() <= b
    # the mean and spread of a truncated normal, within sampling noise
    spread = float(want.std())
    assert abs(got.mean() - want.mean()) < 5 * spread * np.sqrt(1 / n_got + 1 / n_want)
    assert abs(got.std() / spread - 1) < 5 * np.sqrt(1 / (2 * n_got) + 1 / (2 * n_want))


def test_trunc_normal_with_a_small_std_stays_near_the_mean():
    # ViT's trunc_normal_(w, std=0.02) inside [-2, 2]: no value may sit at the bound, 100 std
    # out (a float32 uniform draw of exactly 0 put it there)
    w = gn.nn.init.trunc_normal_(gn.empty(2 ** 21), std=0.02).numpy()
    assert np.abs(w).max() < 0.2
    assert abs(float(w.std()) - 0.02) < 2e-4


def test_trunc_normal_keeps_the_dtype_and_warns_as_pytorch():
    w = gn.nn.init.trunc_normal_(gn.empty(3, 4, dtype=gn.float64))
    assert w.dtype == gn.float64
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        gn.nn.init.trunc_normal_(gn.empty(8), mean=5.0, a=-1.0, b=1.0)


def _custom(lib):
    class Halving(lib.optim.lr_scheduler.LRScheduler):
        def get_lr(self):
            return [g["lr"] * 0.5 for g in self.optimizer.param_groups]

        def _get_closed_form_lr(self):
            return [base * 0.5 ** self.last_epoch for base in self.base_lrs]

    opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = Halving(opt)
        lrs = []
        for epoch in (1, 3, 2):
            sched.step(epoch)
            lrs.append(opt.param_groups[0]["lr"])
    return lrs


def test_a_custom_schedulers_closed_form_is_used_by_step_epoch():
    assert _custom(gn) == pytest.approx(_custom(torch)) == [0.05, 0.0125, 0.025]


def test_built_in_schedulers_have_pytorchs_closed_form_name():
    for lib in (gn, torch):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=0.1)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)
        sched.last_epoch = 4
        assert sched._get_closed_form_lr() == pytest.approx([0.025])


def test_concat_dataset_of_nothing_raises_pytorchs_error():
    for lib in (gn, torch):
        with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
            lib.utils.data.ConcatDataset([])


def test_calculate_gain_of_linear_layers_is_the_int_one():
    for name in ("linear", "conv2d", "conv_transpose1d", "sigmoid"):
        got, want = gn.nn.init.calculate_gain(name), torch.nn.init.calculate_gain(name)
        assert (got, type(got), repr(got)) == (want, type(want), repr(want))
