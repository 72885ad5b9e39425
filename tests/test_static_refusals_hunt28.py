"""PyTorch's refusals that compiled (and some eager) graphnet answered with numbers:
distributions' validate_args checks inside compiled programs, interpolate to a negative
size, MultiheadAttention with a float mask of another dtype, reshape/view by float sizes,
pack_padded_sequence with fewer lengths than batch entries. Each case runs in PyTorch, eager
graphnet and compiled graphnet."""

import numpy as np
import pytest
import torch

import graphnet

LIBS = {torch: torch.distributions, graphnet: graphnet.distributions}


def _all_raise(call, args, exc, match):
    """`call(lib, *args)` raises `exc` matching `match` in torch, eager and compiled graphnet;
    the compiled function gets `args` as inputs, so its check runs in the program."""
    with pytest.raises(exc, match=match):
        call(torch, *[torch.tensor(a) for a in args])
    with pytest.raises(exc, match=match):
        call(graphnet, *[graphnet.tensor(a) for a in args])
    compiled = graphnet.compile(lambda *xs: call(graphnet, *xs))
    with pytest.raises(exc, match=match):
        compiled(*[graphnet.tensor(a) for a in args])


F32 = np.float32
DISTRIBUTION_CASES = {
    "normal_scale": (lambda L, a, b: LIBS[L].Normal(a, b).sample(), (F32(0), F32(-1)),
                     r"Expected parameter scale \(Tensor of shape \(\)\) of distribution "
                     r"Normal"),
    "bernoulli_probs": (lambda L, p, v: LIBS[L].Bernoulli(probs=p).log_prob(v),
                        (F32(1.5), F32(0)), r"Expected parameter probs"),
    "bernoulli_value": (lambda L, p, v: LIBS[L].Bernoulli(probs=p).log_prob(v),
                        (F32(0.5), F32(0.5)), r"within the support \(Boolean\(\)\)"),
    "categorical_fraction": (lambda L, g, v: LIBS[L].Categorical(logits=g).log_prob(v),
                             (np.zeros(3, F32), F32(1.5)), r"within the support \(Integer"),
    "categorical_range": (lambda L, g, v: LIBS[L].Categorical(logits=g).log_prob(v),
                          (np.zeros(3, F32), np.int64(5)), r"within the support \(Integer"),
    "uniform_bounds": (lambda L, lo, hi: LIBS[L].Uniform(lo, hi).sample(), (F32(1), F32(0)),
                       r"Expected parameter low"),
    "beta_value": (lambda L, c, v: LIBS[L].Beta(c, c).log_prob(v), (F32(2), F32(1.5)),
                   r"within the support \(Interval"),
    "poisson_value": (lambda L, r, v: LIBS[L].Poisson(r).log_prob(v), (F32(2), F32(-1)),
                      r"within the support \(IntegerGreaterThan"),
    "exponential_value": (lambda L, r, v: LIBS[L].Exponential(r).log_prob(v),
                          (F32(2), F32(-1)), r"within the support \(GreaterThanEq"),
    "one_hot_value": (lambda L, p, v: LIBS[L].OneHotCategorical(probs=p).log_prob(v),
                      (np.ones(3, F32) / 3, np.array([1, 1, 0], F32)),
                      r"within the support \(OneHot\(\)\)"),
    "dirichlet_value": (lambda L, c, v: LIBS[L].Dirichlet(c).log_prob(v),
                        (np.ones(3, F32), np.array([0.5, 0.6, 0.1], F32)),
                        r"within the support \(Simplex\(\)\)"),
}


@pytest.mark.parametrize("name", sorted(DISTRIBUTION_CASES))
def test_distribution_checks_raise_value_error_in_compiled_programs(name):
    call, args, match = DISTRIBUTION_CASES[name]
    _all_raise(call, args, ValueError, match)


def test_distribution_checks_pass_and_keep_gradients_when_valid():
    def fn(L, loc, scale, v):
        return L.distributions.Normal(loc, scale).log_prob(v).sum()

    args = (np.array([0.5, -1.0], F32), np.array([1.0, 2.0], F32), np.array([0.1, 0.2], F32))
    expected = fn(torch, *[torch.tensor(a) for a in args])
    for run in (lambda *xs: fn(graphnet, *xs), graphnet.compile(lambda *xs: fn(graphnet, *xs))):
        xs = [graphnet.tensor(a, requires_grad=i == 1) for i, a in enumerate(args)]
        out = run(*xs)
        np.testing.assert_allclose(out.item(), expected.item(), rtol=1e-5)
    scale = torch.tensor(args[1], requires_grad=True)
    fn(torch, torch.tensor(args[0]), scale, torch.tensor(args[2])).backward()
    g_scale = graphnet.tensor(args[1], requires_grad=True)
    graphnet.compile(lambda s: fn(graphnet, graphnet.tensor(args[0]), s,
                                  graphnet.tensor(args[2])))(g_scale).backward()
    np.testing.assert_allclose(g_scale.grad.numpy(), scale.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("mode, kwargs, match", [
    ("nearest", {"size": -2}, r"sizes should be greater than 0.*output \(H: -2, W: -2\)"),
    ("bilinear", {"scale_factor": -1.0}, r"output \(H: -4, W: -4\)"),
    ("bicubic", {"size": (4, -1)}, r"output \(H: 4, W: -1\)"),
    ("area", {"size": -2}, r"adaptive_avg_pool2d: elements of output_size must be greater "
                           r"than or equal to 0 but received \{-2, -2\}"),
])
def test_interpolate_to_a_negative_size_raises(mode, kwargs, match):
    x = np.random.randn(1, 2, 4, 4).astype(F32)
    _all_raise(lambda L, t: L.nn.functional.interpolate(t, mode=mode, **kwargs), (x,),
               RuntimeError, match)


@pytest.mark.parametrize("need_weights, match", [
    (True, r"Input dtypes must be the same, got: input double, batch1: float, batch2: float"),
    (False, r"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
            r"attn_mask.dtype: double and  query.dtype: float instead."),
])
def test_multihead_attention_with_a_float64_mask_for_float32_inputs_raises(need_weights,
                                                                          match):
    mods = {L: L.nn.MultiheadAttention(4, 2) for L in (torch, graphnet)}
    q = np.random.randn(3, 1, 4).astype(F32)
    mask = np.zeros((3, 3), np.float64)
    _all_raise(lambda L, x, m: mods[L](x, x, x, attn_mask=m, need_weights=need_weights),
               (q, mask), RuntimeError, match)


def test_multihead_attention_with_a_float32_mask_still_runs():
    mha = graphnet.nn.MultiheadAttention(4, 2)
    q = graphnet.randn(3, 1, 4)
    for run in (mha, graphnet.compile(lambda x: mha(x, x, x, attn_mask=graphnet.zeros(3, 3)))):
        out = run(q, q, q, attn_mask=graphnet.zeros(3, 3)) if run is mha else run(q)
        assert tuple(out[0].shape) == (3, 1, 4)


@pytest.mark.parametrize("call, match", [
    (lambda x: x.reshape(2., 6), r"reshape\(\) takes 1 positional argument but 2 were given"),
    (lambda x: x.reshape((2., 6)), r"reshape\(\): argument 'shape' \(position 1\) must be "
                                   r"tuple of ints, but found element of type float at pos 0"),
    (lambda x: x.reshape(2, 6.), r"failed to unpack the object at pos 2"),
    (lambda x: x.view(2., 6), r"view\(\) received an invalid combination of arguments - got "
                              r"\(float, int\)"),
    (lambda x: x.view((2, 6.)), r"view\(\): argument 'size' failed to unpack the object at "
                                r"pos 2"),
])
def test_reshape_and_view_by_a_float_size_raise_type_error(call, match):
    _all_raise(lambda L, x: call(x), (np.zeros((3, 4), F32),), TypeError, match)


def test_reshape_by_integer_like_sizes_still_runs():
    for L in (torch, graphnet):
        x = L.zeros(3, 4)
        assert tuple(x.reshape(np.int64(2), 6).shape) == (2, 6)
        assert tuple(x.reshape(12, True).shape) == (12, 1)
    compiled = graphnet.compile(lambda x: x.reshape(np.int64(2), -1))
    assert tuple(compiled(graphnet.zeros(3, 4)).shape) == (2, 6)


@pytest.mark.parametrize("lengths, batch_first", [([4, 2], False), ([2, 4], False),
                                                  ([3, 1], True)])
def test_pack_unsorted_with_fewer_lengths_than_batch_entries_as_torch(lengths, batch_first):
    x = np.random.randn(4, 3, 2).astype(F32)

    def round_trip(L, x, lengths):
        rnn = L.nn.utils.rnn
        packed = rnn.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                          enforce_sorted=False)
        return rnn.pad_packed_sequence(packed, batch_first=batch_first)

    expected = round_trip(torch, torch.tensor(x), torch.tensor(lengths))
    compiled = graphnet.compile(lambda x, n: round_trip(graphnet, x, n))
    for out in (round_trip(graphnet, graphnet.tensor(x), graphnet.tensor(lengths)),
                compiled(graphnet.tensor(x), graphnet.tensor(lengths))):
        np.testing.assert_allclose(out[0].numpy(), expected[0].numpy())
        assert out[1].tolist() == expected[1].tolist()


def test_pack_unsorted_with_more_lengths_than_batch_entries_raises():
    def call(L, x, n):
        return L.nn.utils.rnn.pad_packed_sequence(
            L.nn.utils.rnn.pack_padded_sequence(x, n, enforce_sorted=False))[0]

    _all_raise(call, (np.zeros((4, 3, 2), F32), np.array([4, 2, 1, 1])), RuntimeError,
               r"INDICES element is out of DATA bounds")
