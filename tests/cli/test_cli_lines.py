"""`_lines` splits a byte stream into the lines an editor shows, bounded, in any chunking."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from authing_mfa._cli._lines import count_lines, physical_lines

LIMIT = 3


def _chunked(data: bytes, size: int):
    stream = io.BytesIO(data)
    return lambda _wanted: stream.read(size)


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=40).map(lambda b: bytes(b"ab\r\n"[x % 4] for x in b)),
    size=st.integers(1, 9),
)
def test_lines_match_universal_newlines_whatever_the_chunks(data, size):
    """LF, CRLF and CR end lines, even split across reads; lines over the limit are None."""
    expected = [line if len(line) <= LIMIT else None for line in data.splitlines()]
    assert list(physical_lines(_chunked(data, size), LIMIT)) == expected
    stream = io.BytesIO(data)
    assert list(physical_lines(stream.read, LIMIT, stream.read(size))) == expected
    assert count_lines(_chunked(data, size)) == len(expected)
