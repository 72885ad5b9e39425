"""state_dict / load_state_dict / checkpoint corners where graphnet answered otherwise than
torch 2.13: `assign=True` (the checkpoint's tensors replace the module's, untying tied
weights), a 1-element checkpoint tensor loaded into a 0-d parameter, an undotted key named
like a child module, the dict-like check, and torch files refused as `weights_only` refuses
them. Eager and, where a forward runs, compiled."""

import io
import pickle

import numpy as np
import pytest
import torch

import graphnet as G


def _outcome(fn, lib):
    try:
        return "value", fn(lib)
    except Exception as err:   # noqa: BLE001 - the type and words are compared
        return type(err).__name__, str(err).replace("graphnet", "torch")


def _tied(lib):
    class Tied(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Linear(2, 2, bias=False)
            self.b = lib.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.a(x) + self.b(x)
    return Tied()


@pytest.mark.parametrize("compiled", [False, True])
def test_assign_replaces_tied_parameters_with_the_checkpoint_tensors(compiled):
    """torch: a.weight <- ones, b.weight <- 2s, no longer tied; graphnet stored both into the
    one shared Parameter, so a.weight silently held b's values."""
    x = np.array([[1.0, -2.0]], np.float32)

    def run(lib):
        m = _tied(lib)
        call = G.compile(lambda t: m(t)) if compiled and lib is G else (lambda t: m(t))
        call(lib.tensor(x))        # a compiled call made before the load
        m.load_state_dict({"a.weight": lib.ones(2, 2), "b.weight": lib.full((2, 2), 2.0)},
                          assign=True)
        out = call(lib.tensor(x)).detach().numpy()
        return (m.a.weight.detach().numpy(), m.b.weight.detach().numpy(),
                m.a.weight is m.b.weight, type(m.a.weight).__name__, out)

    want, got = run(torch), run(G)
    for w, g in zip(want, got):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_assign_uses_the_checkpoint_objects_and_the_module_requires_grad():
    def run(lib):
        m = lib.nn.Linear(2, 2)
        m.register_buffer("running", lib.zeros(2))
        m.bias.requires_grad_(False)
        weight = lib.full((2, 2), 3.0)
        bias = lib.nn.Parameter(lib.ones(2))
        running = lib.arange(2.0)
        m.load_state_dict({"weight": weight, "bias": bias, "running": running}, assign=True)
        return (type(m.weight).__name__, m.weight.requires_grad, m.weight.is_leaf,
                m.bias is bias, m.bias.requires_grad, bias.requires_grad, m.running is running,
                m.weight.detach().numpy().tolist())

    assert run(G) == run(torch)


@pytest.mark.parametrize("compiled", [False, True])
def test_assign_then_train_updates_the_new_parameters(compiled):
    """An optimizer built after `load_state_dict(assign=True)` trains the loaded tensors."""
    w0 = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)

    def run(lib):
        m = lib.nn.Linear(2, 2)
        m.load_state_dict({"weight": lib.tensor(w0), "bias": lib.zeros(2)}, assign=True)
        opt = lib.optim.SGD(m.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = m(x).pow(2).sum()
            loss.backward()
            opt.step()
            return loss
        call = G.compile(step) if compiled and lib is G else step
        for _ in range(2):
            call(lib.ones(3, 2))
        return m.weight.detach().numpy(), m.bias.detach().numpy()

    for w, g in zip(run(torch), run(G)):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("compiled", [False, True])
def test_a_one_element_checkpoint_tensor_loads_into_a_0d_parameter(compiled):
    def run(lib):
        class Scale(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.s = lib.nn.Parameter(lib.tensor(1.0))

            def forward(self, x):
                return x * self.s
        m = Scale()
        call = G.compile(lambda t: m(t)) if compiled and lib is G else (lambda t: m(t))
        call(lib.ones(2))
        result = m.load_state_dict({"s": lib.tensor([5.0])})
        return repr(result), list(m.s.shape), call(lib.ones(2)).detach().numpy().tolist()

    assert run(G) == run(torch) == ("<All keys matched successfully>", [], [5.0, 5.0])


def test_a_one_element_tensor_into_a_0d_parameter_with_assign():
    def run(lib):
        m = lib.nn.Module()
        m.s = lib.nn.Parameter(lib.tensor(1.0))
        m.load_state_dict({"s": lib.tensor([5.0])}, assign=True)
        return list(m.s.shape), m.s.item(), type(m.s).__name__

    assert run(G) == run(torch)


@pytest.mark.parametrize("case", ["two_elements", "two_dims"])
def test_other_shapes_into_a_0d_parameter_are_still_size_mismatches(case):
    def run(lib):
        m = lib.nn.Module()
        m.s = lib.nn.Parameter(lib.tensor(1.0))
        source = lib.ones(2) if case == "two_elements" else lib.ones(1, 1)
        m.load_state_dict({"s": source})

    assert _outcome(run, G) == _outcome(run, torch)


def test_an_undotted_key_named_like_a_child_is_unexpected():
    """torch: "0" in a Sequential's checkpoint is not a tensor of the Sequential, so strict
    loading reports it; graphnet ignored it silently."""
    def run(lib):
        m = lib.nn.Sequential(lib.nn.Linear(1, 1))
        sd = m.state_dict()
        sd["0"] = lib.ones(1)
        sd["0.foo.bar"] = lib.ones(1)
        return m.load_state_dict(sd)

    want, got = _outcome(run, torch), _outcome(run, G)
    assert got == want and want[0] == "RuntimeError"
    assert '"0", "0.foo.bar"' in got[1]

    def lenient(lib):
        m = lib.nn.Sequential(lib.nn.Linear(1, 1))
        sd = m.state_dict()
        sd["0"] = lib.ones(1)
        return repr(m.load_state_dict(sd, strict=False))

    assert lenient(G) == lenient(torch) == \
        "_IncompatibleKeys(missing_keys=[], unexpected_keys=['0'])"


def test_a_non_mapping_state_dict_is_a_type_error_worded_as_in_torch():
    def run(lib):
        lib.nn.Linear(1, 1).load_state_dict([("weight", lib.ones(1, 1))])

    assert _outcome(run, G) == _outcome(run, torch)


def test_the_root_load_pre_hook_sees_the_metadata():
    def run(lib):
        m = lib.nn.Linear(1, 1)
        seen = []
        m._register_load_state_dict_pre_hook(
            lambda sd, prefix, meta, *rest: seen.append(dict(sd._metadata)))
        m.load_state_dict(m.state_dict())
        return seen

    assert run(G) == run(torch) == [{"": {"version": 1}}]


def _torch_file(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer


def test_a_torch_file_holding_a_module_is_an_unpickling_error_as_in_torch():
    """torch.load's default weights_only=True raises pickle.UnpicklingError for a pickled
    module; graphnet's refusal is one too (and still a CheckpointError), nothing run."""
    buffer = _torch_file(torch.nn.Linear(1, 1))
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global"):
        torch.load(io.BytesIO(buffer.getvalue()))
    for weights_only in (None, True, False):
        with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.linear.Linear"):
            G.load(io.BytesIO(buffer.getvalue()), weights_only=weights_only)
    with pytest.raises(G.CheckpointError):
        G.load(io.BytesIO(buffer.getvalue()))


def test_torch_files_with_sets_complex_numbers_and_bytes_load_as_in_torch():
    obj = {"ids": {1, 2, "a"}, "empty": set(), "z": complex(1.5, -2.0), "raw": b"\x00\xffab",
           "buf": bytearray(b"x\x00\xfe"), "w": torch.arange(3.0)}
    buffer = _torch_file(obj)
    want = torch.load(io.BytesIO(buffer.getvalue()))
    got = G.load(io.BytesIO(buffer.getvalue()))
    assert list(got) == list(want)
    for key in ("ids", "empty", "z", "raw", "buf"):
        assert got[key] == want[key] and type(got[key]) is type(want[key])
    np.testing.assert_array_equal(got["w"].numpy(), want["w"].numpy())


@pytest.mark.parametrize("obj", [{"fs": frozenset({1})}, {"e": b""}, {"a": np.ones(2)}])
def test_what_weights_only_refuses_graphnet_refuses_too(obj):
    buffer = _torch_file(obj)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(io.BytesIO(buffer.getvalue()))
    with pytest.raises(pickle.UnpicklingError):
        G.load(io.BytesIO(buffer.getvalue()))
