"""Edges of utils.data and nn.utils against PyTorch: a Subset subclass's own fetch through the
DataLoader, the hook-based weight_norm/spectral_norm/prune giving a new weight each forward
(and still compiling once), unpad_sequence's copies, deep copies of parametrized modules,
Linear/Conv following a replaced weight, and PyTorch's error types at small edges."""

import copy
import pickle
import warnings

import numpy as np
import pytest
from parity import assert_close, copy_torch_params, torch

import graphnet

import torch.nn.utils.prune  # noqa: E402,F401  (torch.nn.utils.prune is a submodule)

LIBS = [torch, graphnet]


# ---- DataLoader and datasets ----------------------------------------------------------------
def _scaled_subset_class(lib):
    class Scaled(lib.utils.data.Subset):
        def __getitem__(self, i):
            x, y = self.dataset[self.indices[i]]
            return x * 100, y

        def __getitems__(self, indices):
            return [self[i] for i in indices]
    return Scaled


def _batches(lib, make_dataset):
    rows = lib.tensor(np.arange(12, dtype=np.float32).reshape(6, 2))
    ds = make_dataset(lib, lib.utils.data.TensorDataset(rows, lib.arange(6)))
    loader = lib.utils.data.DataLoader(ds, batch_size=4)
    return [[t.tolist() for t in batch] for batch in loader]


@pytest.mark.parametrize("make", [
    lambda lib, ds: _scaled_subset_class(lib)(ds, [5, 0, 3, 1, 2]),
    lambda lib, ds: lib.utils.data.Subset(_scaled_subset_class(lib)(ds, [5, 0, 3, 1]), [3, 1, 0]),
], ids=["subclass", "plain_subset_of_subclass"])
def test_subset_subclass_fetch_reaches_the_loader(make):
    assert _batches(graphnet, make) == _batches(torch, make)


def test_instance_getitems_of_tensor_dataset_is_called():
    def make(lib, ds):
        ds.__getitems__ = lambda indices: [(ds.tensors[0][i] - 1, ds.tensors[1][i])
                                           for i in indices]
        return lib.utils.data.Subset(ds, [4, 2, 0])
    assert _batches(graphnet, make) == _batches(torch, make)


def test_plain_subsets_of_a_tensor_dataset_still_batch_like_torch():
    def make(lib, ds):
        return lib.utils.data.Subset(lib.utils.data.Subset(ds, [5, 4, 3, 2, 1]), [0, 2, 4, 1])
    assert _batches(graphnet, make) == _batches(torch, make)


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "graphnet"])
def test_subset_subclass_overriding_only_getitem_is_refused(lib):
    class OnlyItem(lib.utils.data.Subset):
        def __getitem__(self, i):
            return 0
    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        OnlyItem(range(3), [0])


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "graphnet"])
def test_concat_dataset_refuses_an_iterable_dataset(lib):
    class Stream(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter([1])
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        lib.utils.data.ConcatDataset([lib.utils.data.TensorDataset(lib.ones(2)), Stream()])


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "graphnet"])
def test_random_split_edges(lib):
    split = lib.utils.data.random_split
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sizes = [len(s) for s in split(range(10), [0.0, 1.0])]
    assert sizes == [0, 10]
    assert [str(w.message) for w in caught] == [
        "Length of split at index 0 is 0. This might result in an empty dataset."]
    with pytest.raises(TypeError):
        split(range(10), [2.5, 7.5])       # sums to the length, but not as counts
    with pytest.raises(ValueError):
        split(range(10), [2.5, 7.0])


# ---- the hook-based norms and pruning --------------------------------------------------------
def _legacy(lib, kind):
    torch.manual_seed(0)
    layer = lib.nn.Linear(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        if kind == "weight_norm":
            return lib.nn.utils.weight_norm(layer)
        if kind == "spectral_norm":
            return lib.nn.utils.spectral_norm(layer)
        return lib.nn.utils.prune.l1_unstructured(layer, "weight", 0.5)


def _legacy_pair(kind):
    theirs = _legacy(torch, kind)
    ours = _legacy(graphnet, kind)
    copy_torch_params(theirs, ours)   # originals, masks and power-iteration vectors
    return ours, theirs


ORIGINAL = {"weight_norm": "weight_v", "spectral_norm": "weight_orig", "prune": "weight_orig"}


@pytest.mark.parametrize("kind", list(ORIGINAL))
def test_legacy_forms_set_a_new_weight_each_forward(kind):
    seen = []
    for lib, module in zip((graphnet, torch), _legacy_pair(kind)):
        x = lib.ones(1, 3)
        module(x)
        before = module.weight
        with lib.no_grad():
            getattr(module, ORIGINAL[kind]).add_(1.0)
        module(x)
        assert before is not module.weight
        seen.append((before.detach().clone(), module.weight.detach().clone()))
    (ours_before, ours_after), (theirs_before, theirs_after) = seen
    assert_close(ours_before, theirs_before, what="the reference taken before")
    assert_close(ours_after, theirs_after, what="the weight after")


@pytest.mark.parametrize("kind", list(ORIGINAL))
def test_legacy_forms_compiled_with_eager_evaluation_train_like_torch(kind):
    ours, theirs = _legacy_pair(kind)
    x = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
    results = []
    for lib, module in ((graphnet, ours), (torch, theirs)):
        opt = lib.optim.SGD(module.parameters(), lr=0.1)

        def step(inputs, module=module, opt=opt):
            opt.zero_grad()
            loss = module(inputs).square().sum()
            loss.backward()
            opt.step()
            return loss

        run = graphnet.compile(step) if lib is graphnet else step
        values, graphs = [], []
        for _ in range(4):
            values.append(float(run(lib.tensor(x)).detach()))
            with lib.no_grad():   # an eager evaluation between compiled steps
                values.append(float(module(lib.tensor(x)).sum()))
            if lib is graphnet:
                graphs.append(run.explain()["graphs"])
        results.append((values, module.weight.detach().clone(), graphs))
    (ours_values, ours_weight, graphs), (theirs_values, theirs_weight, _) = results
    np.testing.assert_allclose(ours_values, theirs_values, rtol=1e-4, atol=1e-5)
    assert_close(ours_weight, theirs_weight, atol=1e-4, rtol=1e-4, what="weight")
    assert graphs[1] == graphs[-1], f"a compile per eager forward: {graphs}"


# ---- rnn utilities, clipping -----------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [True, False])
def test_unpad_sequence_returns_copies(batch_first):
    seen = []
    for lib in (graphnet, torch):
        rnn = lib.nn.utils.rnn
        seqs = [lib.tensor(np.arange(n * 2, dtype=np.float32).reshape(n, 2) + n) for n in (3, 1)]
        padded = rnn.pad_sequence(seqs, batch_first=batch_first)
        out = rnn.unpad_sequence(padded, lib.tensor([3, 1]), batch_first=batch_first)
        out[0].mul_(0)
        seen.append((padded.clone(), [o.clone() for o in out]))
    (ours_padded, ours_out), (theirs_padded, theirs_out) = seen
    assert_close(ours_padded, theirs_padded, what="the padded batch after writing a sequence")
    for mine, theirs in zip(ours_out, theirs_out):
        assert_close(mine, theirs)


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "graphnet"])
def test_pad_sequence_uint8_refuses_a_negative_padding(lib):
    seqs = [lib.tensor([1, 2], dtype=lib.uint8), lib.tensor([1], dtype=lib.uint8)]
    with pytest.raises(RuntimeError, match="uint8_t without overflow"):
        lib.nn.utils.rnn.pad_sequence(seqs, padding_value=-1)
    assert lib.nn.utils.rnn.pad_sequence(seqs, padding_value=7).tolist() == [[1, 1], [2, 7]]


@pytest.mark.parametrize("lib", LIBS, ids=["torch", "graphnet"])
def test_norms_refuse_ints_and_empty_grads_without_identity(lib):
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor"):
        lib.nn.utils.get_total_norm([lib.tensor([3, 4])])
    for norm_type in (-1.0, -float("inf"), float("inf")):
        p, q = lib.nn.Parameter(lib.zeros(0, 3)), lib.nn.Parameter(lib.zeros(2))
        p.grad, q.grad = lib.zeros(0, 3), lib.tensor([3.0, 4.0])
        with pytest.raises(RuntimeError, match="on an empty tensor"):
            lib.nn.utils.clip_grad_norm_([p, q], 1.0, norm_type=norm_type)
    p.grad = lib.zeros(0, 3)   # a norm with an identity is fine on no elements
    assert float(lib.nn.utils.clip_grad_norm_([p, q], 1.0, norm_type=2.0)) == 5.0


# ---- parametrized modules, replaced weights --------------------------------------------------
def test_deepcopy_of_a_parametrized_module():
    seen = []
    for lib in (graphnet, torch):
        module = lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(3, 2))
        with lib.no_grad():
            module.parametrizations.weight.original0.copy_(lib.tensor([[2.0], [0.5]]))
            module.parametrizations.weight.original1.copy_(
                lib.tensor([[1.0, 2.0, 2.0], [0.0, 3.0, 4.0]]))
        replica = copy.deepcopy(module)
        assert type(replica) is type(module)
        assert replica.parametrizations.weight.original0 \
            is not module.parametrizations.weight.original0
        with lib.no_grad():
            module.parametrizations.weight.original0.mul_(10)
        seen.append((replica.weight.detach().clone(), module.weight.detach().clone()))
        with pytest.raises(RuntimeError, match="only supported through state_dict"):
            pickle.dumps(module)
    assert_close(seen[0][0], seen[1][0], what="the copy")
    assert_close(seen[0][1], seen[1][1], what="the original")


def _narrowed(make, x_shape):
    torch.manual_seed(0)
    theirs = make(torch)
    ours = make(graphnet)
    copy_torch_params(theirs, ours)
    outs = []
    for lib, m in ((graphnet, ours), (torch, theirs)):
        m.weight = lib.nn.Parameter(m.weight.detach()[:, :2].clone())   # drop two inputs
        x = lib.tensor(np.linspace(-1, 1, int(np.prod(x_shape)), dtype=np.float32)
                     .reshape(x_shape))
        outs.append(m(x))
    return outs


@pytest.mark.parametrize("make,x_shape", [
    (lambda lib: lib.nn.Linear(4, 3), (5, 2)),
    (lambda lib: lib.nn.Conv1d(4, 3, 2), (1, 2, 6)),
    (lambda lib: lib.nn.Conv2d(4, 3, 3), (1, 2, 5, 5)),
], ids=["linear", "conv1d", "conv2d"])
def test_layers_follow_a_replaced_weight(make, x_shape):
    ours, theirs = _narrowed(make, x_shape)
    assert_close(ours, theirs)


def test_a_transposed_conv_follows_a_replaced_weight():
    """A transposed conv's weight is [in, out / groups, k...]: its first dim is checked."""
    torch.manual_seed(0)
    theirs = torch.nn.ConvTranspose2d(4, 3, 3)
    ours = graphnet.nn.ConvTranspose2d(4, 3, 3)
    copy_torch_params(theirs, ours)
    outs = []
    for lib, m in ((graphnet, ours), (torch, theirs)):
        m.weight = lib.nn.Parameter(m.weight.detach()[:2].clone())   # two inputs
        outs.append(m(lib.tensor(np.linspace(-1, 1, 32, dtype=np.float32).reshape(1, 2, 4, 4))))
    assert_close(outs[0], outs[1])


def test_linear_with_a_shape_changing_unsafe_parametrization():
    outs = []
    for lib in (graphnet, torch):
        crop = type("Crop", (lib.nn.Module,), {"forward": lambda self, w: w[:, :2]})
        layer = lib.nn.Linear(4, 3)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(np.arange(12, dtype=np.float32).reshape(3, 4)))
            layer.bias.zero_()
        lib.nn.utils.parametrize.register_parametrization(layer, "weight", crop(), unsafe=True)
        outs.append(layer(lib.ones(5, 2)))
    assert_close(outs[0], outs[1])


def test_a_real_mismatch_still_names_the_weight_width():
    layer = graphnet.nn.Linear(4, 3)
    layer.weight = graphnet.nn.Parameter(layer.weight.detach()[:, :2].clone())
    with pytest.raises(graphnet.ShapeError, match=r"^Linear: expected input \[\.\.\., 2\], "
                                                   r"got \[5, 4\]$"):
        layer(graphnet.ones(5, 4))
    conv = graphnet.nn.Conv2d(4, 6, 3, groups=2)
    with pytest.raises(graphnet.ShapeError, match=r"^Conv2d: expected input \[N, 4, H, W\]"):
        conv(graphnet.ones(1, 2, 5, 5))
