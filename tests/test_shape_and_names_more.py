"""roll's shifts/dims agreement, repeat_interleave's traced one-element repeats, half-precision
fills past their range, narrow/take_along_dim/cross/eye argument refusals, the x.T and
meshgrid warnings, and the torch.version/random/serialization/cpu names, against torch."""

import warnings

import numpy as np
import pytest
import torch

import graphnet as G

MODES = ["dynamic", "static"]


def _run(mode, fn, *args):
    return (fn if mode == "dynamic" else G.compile(fn))(*args)


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shifts,dims", [((1, 2), (1,)), ((1, 2), None), (1, (0, 1)),
                                         ((1,), (0, 1))])
def test_roll_shifts_and_dims_must_align(mode, shifts, dims):
    x = np.arange(6).reshape(2, 3)
    expected = _error(lambda: torch.roll(torch.tensor(x), shifts, dims))
    got = _error(lambda: _run(mode, lambda t: G.roll(t, shifts, dims), G.tensor(x)))
    assert got == expected == (RuntimeError, expected[1])
    assert "shifts and dimensions must align" in got[1]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shifts,dims", [((1, 2), (0, 1)), ((1,), None), (4, None), (1, ())])
def test_roll_aligned_arguments_match_torch(mode, shifts, dims):
    x = np.arange(6).reshape(2, 3)
    got = _run(mode, lambda t: G.roll(t, shifts, dims), G.tensor(x))
    assert got.tolist() == torch.roll(torch.tensor(x), shifts, dims).tolist()


@pytest.mark.parametrize("rep", [np.array(2), np.array([3])])
def test_repeat_interleave_traced_single_count_broadcasts(rep):
    x = np.arange(8.0, dtype=np.float32).reshape(2, 4)
    expected = torch.repeat_interleave(torch.tensor(x), torch.tensor(rep), dim=1)
    size = expected.shape[1]
    got = G.compile(lambda t, r: G.repeat_interleave(t, r, dim=1, output_size=size))(
        G.tensor(x), G.tensor(rep))
    assert got.tolist() == expected.tolist()
    flat = G.compile(lambda t, r: G.repeat_interleave(t, r, output_size=x.size * int(rep.sum())))
    assert flat(G.tensor(x), G.tensor(rep)).tolist() == \
        torch.repeat_interleave(torch.tensor(x), torch.tensor(rep)).tolist()


def test_repeat_interleave_traced_single_count_needs_output_size():
    with pytest.raises(G.TraceError, match="output_size"):
        G.compile(lambda t, r: G.repeat_interleave(t, r))(G.arange(4.0), G.tensor([2]))


def _fills(T, dtype, value, n):
    def setitem():
        t = T.ones(3, dtype=dtype)
        t[0] = value
        return t

    def setitem_mask():
        t = T.ones(3, dtype=dtype)
        t[T.tensor([True, False, True])] = value
        return t

    # NOTE: PyTorch checks a fill's range unless the tensor has one element
    return {"full": lambda: T.full((n,), value, dtype=dtype),
            "full_like": lambda: T.full_like(T.ones(n, dtype=dtype), value),
            "new_full": lambda: T.ones(1, dtype=dtype).new_full((n,), value),
            "fill_": lambda: T.ones(n, dtype=dtype).fill_(value),
            "setitem": setitem, "setitem_mask": setitem_mask,
            "masked_fill": lambda: T.ones(2, dtype=dtype).masked_fill(T.tensor(True), value),
            "clamp": lambda: T.ones(2, dtype=dtype).clamp(max=value)}


@pytest.mark.parametrize("dtype,value", [("float16", 1e6), ("float16", -1e6),
                                         ("bfloat16", 1e40), ("float32", 1e40),
                                         ("int8", 300)])
@pytest.mark.parametrize("n", [1, 2])
def test_out_of_range_fills_as_torch(dtype, value, n):
    ours = _fills(G, getattr(G, dtype), value, n)
    theirs = _fills(torch, getattr(torch, dtype), value, n)
    for name in ours:
        try:
            expected = theirs[name]().float().tolist()
        except RuntimeError as e:
            with pytest.raises(RuntimeError, match="without overflow"):
                ours[name]()
            assert "without overflow" in str(e)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # NumPy's note on the cast
            assert ours[name]().float().tolist() == expected, name


@pytest.mark.parametrize("mode", MODES)
def test_narrow_refuses_non_integral_or_non_scalar_start(mode):
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    for start in (np.array(1.5, np.float32), np.array([1]), np.array(True)):
        expected = _error(lambda: torch.narrow(torch.tensor(x), 0, torch.tensor(start), 2))
        got = _error(lambda: _run(mode, lambda t: G.narrow(t, 0, G.tensor(start), 2),
                                  G.tensor(x)))
        assert got == expected
    ok = _run(mode, lambda t: G.narrow(t, 0, G.tensor(1, dtype=G.int32), 2), G.tensor(x))
    assert ok.tolist() == torch.narrow(torch.tensor(x), 0, torch.tensor(1, dtype=torch.int32),
                                       2).tolist()


@pytest.mark.parametrize("mode", MODES)
def test_take_along_dim_index_dtype(mode):
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    idx = np.array([[0], [3], [1]], dtype=np.int32)
    expected = _error(lambda: torch.take_along_dim(torch.tensor(x), torch.tensor(idx), 1))
    got = _error(lambda: _run(mode, lambda t, i: G.take_along_dim(t, i, 1), G.tensor(x),
                              G.tensor(idx)))
    assert got == expected
    flat = _run(mode, lambda t, i: G.take_along_dim(t, i), G.tensor(x), G.tensor(idx))
    assert flat.tolist() == torch.take_along_dim(torch.tensor(x), torch.tensor(idx)).tolist()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("a,b", [("int64", "float32"), ("float32", "int64"),
                                 ("float32", "float64")])
def test_cross_refuses_mixed_dtypes(mode, a, b):
    u, v = np.array([1, 2, 3]), np.array([4, 5, 6])
    expected = _error(lambda: torch.cross(torch.tensor(u, dtype=getattr(torch, a)),
                                          torch.tensor(v, dtype=getattr(torch, b)), dim=0))
    got = _error(lambda: _run(mode, lambda p, q: G.cross(p, q, dim=0),
                              G.tensor(u, dtype=getattr(G, a)), G.tensor(v, dtype=getattr(G, b))))
    assert got == expected


@pytest.mark.parametrize("args", [(-1,), (2, -1), (-1, 2)])
def test_eye_refuses_negative_sizes(args):
    assert _error(lambda: G.eye(*args)) == _error(lambda: torch.eye(*args))
    assert G.eye(2, 0).shape == torch.eye(2, 0).shape


def _messages(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    # torch's C++ warnings end with where they were raised
    return [str(w.message).split(" (Triggered internally")[0] for w in caught]


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4)])
def test_T_warns_as_torch_off_two_dims(shape):
    ours = _messages(lambda: G.ones(shape).T)
    if shape == (2, 3):
        assert ours == []
    else:   # torch warns once per process: compare with its text, not a second call
        assert len(ours) == 1 and ("deprecated" in ours[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert G.ones(shape).T.shape == torch.ones(shape).T.shape


def test_T_warning_text():
    torch_texts = {
        0: "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.",
        3: "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
           "deprecated and it will throw an error in a future release. Consider `x.mT` to "
           "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
           "to reverse the dimensions of a tensor."}
    assert _messages(lambda: G.tensor(3.0).T) == [torch_texts[0]]
    assert _messages(lambda: G.ones(2, 3, 4).T) == [torch_texts[3]]


def test_meshgrid_warns_without_indexing():
    text = "torch.meshgrid: in an upcoming release, it will be required to pass the indexing " \
           "argument."
    assert _messages(lambda: G.meshgrid(G.ones(2), G.ones(3))) == [text]
    assert _messages(lambda: G.meshgrid(G.ones(2), G.ones(3), indexing="ij")) == []
    grid = G.meshgrid(G.arange(2), G.arange(3), indexing="ij")
    assert [g.tolist() for g in grid] == [g.tolist() for g in torch.meshgrid(
        torch.arange(2), torch.arange(3), indexing="ij")]


def test_version_fields():
    for name in ("cuda", "hip", "rocm", "xpu"):
        assert getattr(G.version, name) is None is getattr(torch.version, name)
    assert G.version.debug is False and isinstance(G.version.git_version, str)
    assert G.version.__version__ == G.__version__


def test_fork_rng_restores_the_generator():
    G.manual_seed(3)
    first = G.randn(4).tolist()
    G.manual_seed(3)
    with G.random.fork_rng():
        G.randn(10)
    assert G.randn(4).tolist() == first
    assert G.random.manual_seed is G.manual_seed and G.random.get_rng_state is G.get_rng_state
    G.manual_seed(3)
    with G.random.fork_rng(enabled=False):
        G.randn(4)
    assert G.randn(4).tolist() != first


def test_serialization_safe_globals_registry():
    class Point:
        pass

    G.serialization.clear_safe_globals()
    G.serialization.add_safe_globals([Point, (dict, "builtins.dict")])
    assert G.serialization.get_safe_globals() == [Point, (dict, "builtins.dict")]
    with G.serialization.safe_globals([int]):
        assert G.serialization.get_safe_globals()[-1] is int
    assert int not in G.serialization.get_safe_globals()
    with pytest.raises(TypeError, match="list"):
        G.serialization.add_safe_globals(Point)
    G.serialization.clear_safe_globals()
    assert G.serialization.get_safe_globals() == []
    assert G.serialization.load is G.load and G.serialization.save is G.save


def test_cpu_module_and_top_level_names():
    assert (G.cpu.is_available(), G.cpu.device_count(), G.cpu.current_device()) == \
        (torch.cpu.is_available(), torch.cpu.device_count(), torch.cpu.current_device())
    assert G.cpu.synchronize() is None and G.cpu.is_initialized()
    assert issubclass(G.OutOfMemoryError, RuntimeError)
    assert G.GradScaler is G.amp.GradScaler


def test_deprecated_cpu_autocast_functions():
    with pytest.warns(DeprecationWarning, match="is_autocast_enabled"):
        assert G.is_autocast_cpu_enabled() is False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert str(G.get_autocast_cpu_dtype()) == str(torch.get_autocast_cpu_dtype()).replace(
            "torch", "graphnet")
        G.set_autocast_cpu_enabled(True)
        G.set_autocast_cpu_dtype(G.float16)
        try:
            assert G.is_autocast_enabled("cpu") and G.get_autocast_dtype("cpu") is G.float16
            assert G.is_autocast_cpu_enabled() and G.get_autocast_cpu_dtype() is G.float16
        finally:
            G.set_autocast_cpu_enabled(False)
            G.set_autocast_cpu_dtype(G.bfloat16)
        assert not G.is_autocast_enabled("cpu")
