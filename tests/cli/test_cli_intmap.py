"""`IntMap`, the compact table behind the duplicate check and ``--resume`` of huge files."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authing_mfa._cli._intmap import IntMap, id_hash

KEYS = st.integers(min_value=1, max_value=2**63 - 1)


@settings(max_examples=50, deadline=None)
@given(pairs=st.lists(st.tuples(KEYS, st.integers(0, 2**31 - 1)), max_size=3000))
def test_it_maps_as_a_dict_does(pairs):
    """put, get, setdefault, len and items agree with a dict, across growths."""
    table, expected = IntMap("i"), {}
    for key, value in pairs:
        assert table.setdefault(key, value) == expected.get(key)
        expected.setdefault(key, value)
        table.put(key, value)
        expected[key] = value
    assert len(table) == len(expected)
    assert dict(table.items()) == expected
    assert all(table.get(key) == value for key, value in expected.items())


@pytest.mark.slow
def test_growing_holds_only_the_old_and_the_new_table():
    """At its peak, a table of 100 000 entries holds 1.5 times its final arrays, no more."""
    table = IntMap("i")
    keys = [id_hash(f"user-{n}") for n in range(100_000)]
    tracemalloc.start()
    try:
        for line, key in enumerate(keys, 2):
            table.put(key, line)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    final = table._keys.itemsize * len(table._keys) + table._values.itemsize * len(table._values)
    assert peak <= 1.55 * final
