"""Checkpoints and layer arguments where graphnet computed on where PyTorch stops or answers
otherwise: an optimizer state dict of another optimizer, `load_state_dict(assign=True)`,
BatchNorm checkpoints without `num_batches_tracked`, a zero stride, embedding indices of
other integer types."""

import pytest
import torch

import graphnet


def _outcome(fn, lib):
    try:
        out = fn(lib)
    except Exception as err:   # noqa: BLE001 - the type and words are compared
        return type(err).__name__, str(err).split(" (while checking")[0].split(";")[0]
    return "value", out


def _adam_into_sgd(lib):
    model = lib.nn.Linear(2, 1)
    adam = lib.optim.Adam(model.parameters(), lr=0.01)
    model(lib.ones(1, 2)).sum().backward()
    adam.step()
    sgd = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sgd.load_state_dict(adam.state_dict())
    sgd.step()
    return "stepped"


def test_an_adam_state_dict_loaded_into_sgd_fails_as_in_torch():
    want, got = _outcome(_adam_into_sgd, torch), _outcome(_adam_into_sgd, graphnet)
    assert want[0] == got[0] == "KeyError" and want[1] == got[1] == "'momentum'"


def test_loaded_groups_take_the_saved_options():
    def run(lib):
        model = lib.nn.Linear(2, 1)
        first = lib.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, nesterov=True)
        second = lib.optim.SGD(model.parameters(), lr=0.1, weight_decay=0.01)
        second.load_state_dict(first.state_dict())
        return {k: v for k, v in second.param_groups[0].items() if k != "params"}

    assert run(graphnet) == run(torch)


def test_assign_keeps_the_checkpoint_dtype():
    def run(lib):
        m = lib.nn.Linear(2, 2)
        m.load_state_dict({"weight": lib.ones(2, 2, dtype=lib.float64),
                           "bias": lib.zeros(2)}, assign=True)
        return str(m.weight.dtype).split(".")[1], str(m.bias.dtype).split(".")[1]

    assert run(graphnet) == run(torch) == ("float64", "float32")


@pytest.mark.parametrize("nested", [False, True])
def test_batchnorm_checkpoints_without_num_batches_tracked_load(nested):
    def run(lib):
        m = lib.nn.Sequential(lib.nn.BatchNorm1d(3)) if nested else lib.nn.BatchNorm1d(3)
        m.train()
        m(lib.randn(4, 3))
        sd = {k: v for k, v in m.state_dict().items() if "num_batches" not in k}
        result = m.load_state_dict(sd)
        bn = m[0] if nested else m
        return list(result.missing_keys), list(result.unexpected_keys), \
            int(bn.num_batches_tracked)

    assert run(graphnet) == run(torch) == ([], [], 1)


def test_a_versioned_batchnorm_checkpoint_still_needs_num_batches_tracked():
    m = graphnet.nn.BatchNorm1d(3)
    sd = m.state_dict()
    del sd["num_batches_tracked"]
    with pytest.raises(RuntimeError, match="num_batches_tracked"):
        m.load_state_dict(sd)       # `state_dict()` keeps its version, as in PyTorch


STRIDES = {
    "conv2d stride 0": lambda t: t.nn.Conv2d(1, 1, 1, stride=0)(t.ones(1, 1, 2, 2)).shape,
    "conv1d stride -1": lambda t: t.nn.functional.conv1d(t.ones(1, 1, 4), t.ones(1, 1, 1),
                                                         stride=-1).shape,
    "conv_transpose2d stride 0": lambda t: t.nn.functional.conv_transpose2d(
        t.ones(1, 1, 2, 2), t.ones(1, 1, 1, 1), stride=0).shape,
    "max_pool2d stride 0": lambda t: t.nn.functional.max_pool2d(t.ones(1, 1, 2, 2), 2,
                                                                stride=0).shape,
    "avg_pool2d stride 0": lambda t: t.nn.functional.avg_pool2d(t.ones(1, 1, 2, 2), 2,
                                                                stride=0).shape,
}


@pytest.mark.parametrize("case", STRIDES)
def test_zero_strides_are_refused_as_in_torch(case):
    want, got = _outcome(STRIDES[case], torch), _outcome(STRIDES[case], graphnet)
    assert got == want


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "bool", "float32", "int32"])
def test_embedding_takes_int64_and_int32_indices_only(dtype):
    def run(lib):
        return lib.nn.functional.embedding(lib.tensor([1, 0]).to(getattr(lib, dtype)),
                                           lib.arange(10.0).reshape(5, 2)).tolist()

    want, got = _outcome(run, torch), _outcome(run, graphnet)
    if want[0] == "value":
        assert got == want
    else:
        assert got[0] == "DtypeError" and want[0] == "RuntimeError"   # a RuntimeError too
        assert got[1].replace("graphnet.", "torch.").startswith(want[1].split(" but got")[0])


BAGS = {"decreasing, sum": ([0, 2, 1], "sum"), "decreasing, mean": ([0, 3, 1], "mean"),
        "past the end": ([0, 5], "sum"), "up to the end": ([0, 1, 3], "sum"),
        "first not 0": ([1, 2], "sum"), "equal offsets": ([0, 0, 2], "mean")}


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("case", BAGS)
def test_embedding_bag_offsets_follow_torch(case, compiled):
    offsets, mode = BAGS[case]

    def run(lib):
        def bag(i, w, o):
            return lib.nn.functional.embedding_bag(i, w, o, mode=mode)
        fn = graphnet.compile(bag) if compiled and lib is graphnet else bag
        return fn(lib.tensor([0, 1, 2]), lib.arange(8.0).reshape(4, 2),
                  lib.tensor(offsets)).tolist()

    want, got = _outcome(run, torch), _outcome(run, graphnet)
    assert got[0] == want[0]
    assert got[1] == want[1] if want[0] == "value" else got[1].startswith(want[1][:60])


@pytest.mark.parametrize("writer", ["graphnet", "torch"])
def test_parameters_and_learnable_tensors_load_as_saved(writer, tmp_path):
    lib = graphnet if writer == "graphnet" else torch
    p = lib.nn.Parameter(lib.zeros(2))
    frozen = lib.nn.Parameter(lib.ones(1), requires_grad=False)
    model = lib.nn.Linear(2, 1)
    path = tmp_path / "ckpt.pt"
    lib.save({"w": lib.ones(2, requires_grad=True), "p": p, "again": p, "frozen": frozen,
              "plain": lib.ones(1), "state": model.state_dict()}, path)
    got = graphnet.load(path)
    assert got["w"].requires_grad and got["w"].grad_fn is None
    assert type(got["p"]) is graphnet.nn.Parameter and got["p"].requires_grad
    assert got["again"] is got["p"]
    assert type(got["frozen"]) is graphnet.nn.Parameter and not got["frozen"].requires_grad
    assert not got["plain"].requires_grad
    assert not any(t.requires_grad for t in got["state"].values())
    got["p"].sum().backward()        # a reloaded learnable trains again
    assert got["p"].grad.tolist() == [1.0, 1.0]
