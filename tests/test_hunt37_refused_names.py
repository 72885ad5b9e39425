"""A name graphnet refuses on purpose says why in its AttributeError (the QAT hunt met a bare
"no attribute" for a refused name and could not tell a refusal from a gap)."""

import pytest

import graphnet


def test_a_refused_name_gives_its_reason_and_alternative():
    with pytest.raises(AttributeError, match=r"no attribute 'frombuffer' \(storages, pointers "
                                             r"and shared memory.*use `.clone\(\)`"):
        _ = graphnet.frombuffer


def test_a_missing_name_is_a_plain_attribute_error():
    with pytest.raises(AttributeError, match=r"^module 'graphnet' has no attribute 'no_such'$"):
        _ = graphnet.no_such
    assert getattr(graphnet, "quantize_per_tensor", None) is None
    assert not hasattr(graphnet, "_private_name")
