"""torch._dynamo's and torch.compiler's names that training scripts call: the marks,
graph_break, the decorators and OptimizedModule, with the values of eager code."""

import numpy as np
import pytest
import torch

import graphnet as gn

SCALE = {"value": 2.0}


def test_optimized_module_isinstance_and_unwrap_as_in_torch():
    for lib in (torch, gn):
        model = lib.compile(lib.nn.Linear(2, 2))
        assert isinstance(model, lib._dynamo.eval_frame.OptimizedModule)
        assert isinstance(model, lib._dynamo.OptimizedModule)
        assert not isinstance(model._orig_mod, lib._dynamo.OptimizedModule)


def test_marks_and_graph_break_keep_values_and_compile_per_shape():
    @gn.compile
    def f(x):
        y = x * 2
        gn._dynamo.graph_break()
        return y.sum(0)

    for n in (3, 5):
        x = gn.ones(n, 2)
        gn._dynamo.mark_dynamic(x, 0, min=2, max=64)
        gn._dynamo.maybe_mark_dynamic(x, [0, 1])
        gn._dynamo.mark_static(x, 1)
        gn._dynamo.mark_static_address(x)
        np.testing.assert_allclose(f(x).numpy(), [2.0 * n] * 2)
    assert len(f.compiled.artifacts) == 2
    gn._dynamo.mark_static(gn.nn.Linear)     # a Module class, as PyTorch allows
    gn._dynamo.mark_static(gn.nn.Linear(1, 1))
    with pytest.raises(TypeError, match="mark_dynamic marks a tensor, got int"):
        gn._dynamo.mark_dynamic(3, 0)


def test_decorators_return_the_function_and_values_stay_current():
    def scale():
        return SCALE["value"]

    for decorator in (gn.compiler.assume_constant_result, gn._dynamo.assume_constant_result,
                      gn.compiler.nested_compile_region, gn.compiler.nested_compile_region(),
                      gn._dynamo.disallow_in_graph, gn._dynamo.disable,
                      gn._dynamo.allow_in_graph):
        assert decorator(scale) is scale
    read = gn.compiler.assume_constant_result(scale)
    f = gn.compile(lambda x: x * read())
    assert f(gn.ones(1)).item() == 2.0
    SCALE["value"] = 3.0
    try:
        assert f(gn.ones(1)).item() == 3.0    # traced with its caller: never a stale value
    finally:
        SCALE["value"] = 2.0
    assert gn._dynamo.is_compiling() is False


def test_unknown_dynamo_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'graphnet._dynamo' has no attribute "
                                             "'optimize_assert'"):
        gn._dynamo.optimize_assert()


def test_compiler_compile_substitutes_and_guard_filters():
    f = gn.compiler.compile(lambda x: x + 1)
    assert f(gn.ones(1)).item() == 2.0 and len(f.compiled.artifacts) == 1

    def original(x):
        return x * 3

    @gn.compiler.substitute_in_graph(original)
    def polyfill(x):
        return x + x + x

    assert polyfill is original
    entries = ["a", "b", "c"]
    for name in ("keep_portable_guards_unsafe", "keep_tensor_guards_unsafe",
                 "skip_all_guards_unsafe", "skip_guard_on_all_nn_modules_unsafe",
                 "skip_guard_on_globals_unsafe", "skip_guard_on_inbuilt_nn_modules_unsafe"):
        assert getattr(gn.compiler, name)(entries) == [True, True, True], name
    with pytest.raises(AttributeError, match="cached on disk by themselves"):
        gn.compiler.save_cache_artifacts()
