"""Arguments PyTorch refuses, refused the same way in both modes: a `dtype=` other than
`out`'s on sum/mean/prod/cumsum/cumprod/nansum (the result was cast into `out` silently), cat's
`out=` that is one of its inputs (it was resized and overwritten), a dim that is not an int,
a dtype that is not a dtype, and a Linear whose weight is None (mid re-tie)."""

import warnings

import pytest
import torch

import graphnet


def _error(fn):
    try:
        fn()
    except Exception as error:       # noqa: BLE001  (the type is what is compared)
        return type(error), str(error)
    return None


def _both(make, compiled=False):
    want = _error(lambda: make(torch))
    fn = (lambda: graphnet.compile(lambda: make(graphnet))()) if compiled else \
        (lambda: make(graphnet))
    return want, _error(fn)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "prod", "cumsum", "cumprod", "nansum"])
def test_dtype_other_than_outs_is_refused(name, compiled):
    def make(T):
        out = T.empty(2, 3) if name.startswith("cum") else T.empty(2)
        return getattr(T, name)(T.ones(2, 3), 1, dtype=T.float64, out=out)
    want, got = _both(make, compiled)
    assert want is not None and got == want


def test_dtype_equal_to_outs_is_written():
    out = graphnet.empty(2, dtype=graphnet.float64)
    graphnet.sum(graphnet.ones(2, 3), 1, dtype=graphnet.float64, out=out)
    assert out.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("name", ["cat", "hstack", "vstack", "dstack", "column_stack"])
def test_join_into_one_of_its_inputs_is_refused(name, compiled):
    def make(T):
        a = T.ones(2, 2)
        return getattr(T, name)([a, T.zeros(2, 2)], out=a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want, got = _both(make, compiled)
    assert want[0] is RuntimeError and got == want


def test_join_into_a_disjoint_part_of_the_same_storage_is_written():
    for T in (torch, graphnet):
        a = T.arange(8.0).reshape(4, 2)
        T.cat([a[:1], a[1:2]], out=a[2:])
        assert a.tolist() == [[0.0, 1.0], [2.0, 3.0], [0.0, 1.0], [2.0, 3.0]]
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        a = graphnet.ones(4, 2)
        graphnet.cat([a[:2], a[2:]], out=a)


@pytest.mark.parametrize("call", [lambda x: x.sum(1.0), lambda x: x.sum(dim="x"),
                                  lambda x: x.amax(1.5), lambda x: x.cumsum(1.0),
                                  lambda x: x.mean("a")])
def test_a_dim_that_is_not_an_int_is_a_type_error(call):
    with pytest.raises(TypeError):
        call(torch.ones(2, 3))
    with pytest.raises(TypeError, match="argument 'dim' must be int or tuple of ints"):
        call(graphnet.ones(2, 3))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_a_dtype_that_is_not_a_dtype_is_a_type_error(name):
    want, got = _both(lambda T: getattr(T, name)(T.ones(2, 3), 1, dtype="float64"))
    assert got == want
    assert getattr(graphnet, name)(graphnet.ones(2, 3), 1, dtype=float).dtype == graphnet.float64


def test_linear_without_a_weight_is_a_type_error():
    for T in (torch, graphnet):
        layer = T.nn.Linear(3, 2)
        layer.weight = None
        with pytest.raises(TypeError, match=r"linear\(\): argument 'weight' \(position 2\) "
                                            "must be Tensor, not NoneType"):
            layer(T.ones(1, 3))
        with pytest.raises(TypeError, match="must be Tensor, not NoneType"):
            T.nn.functional.linear(T.ones(1, 3), None)
