"""The envelope reader's JSON: the fast path for a bare value must read as json.loads does."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from authing_mfa._envelope import _json_or_none

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_SPACE = st.text(alphabet=" \t\r\n", max_size=3)
_BODIES = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=64).map(str.encode),
    st.tuples(_SPACE, _JSON_VALUES.map(json.dumps), _SPACE, st.sampled_from(["", "x", "{}", "1"]))
    .map("".join)
    .map(str.encode),
)


def _reference(content: bytes) -> object:
    try:
        return ("value", json.loads(content.decode()))
    except (ValueError, RecursionError):
        return ("none", None)


@given(_BODIES)
@example(b' {"code": 200} ')  # whitespace around: the full rules
@example(b'{"code": 200}{"code": 500}')  # two values: not one JSON document
@example(b"123abc")  # a number and then garbage
@example(b"[" * 100_000)  # deeper than the parser's stack
@example(b"\xff\xfe")  # not UTF-8
def test_a_body_reads_as_json_loads_reads_it(content):
    """Any body is the value json.loads gives, or None where json.loads refuses it."""
    expected = _reference(content)
    value = _json_or_none(content)
    if expected[0] == "none":
        assert value is None
    else:
        assert json.dumps(value, sort_keys=True) == json.dumps(expected[1], sort_keys=True)
