r"""Physical lines of a byte stream, each bounded in size, for files no one has checked yet.

A line ends at ``\n``, ``\r\n`` or a lone ``\r`` (old Mac exports), so every line number the
command line reports is the one an editor shows. A line longer than the limit is reported as
``None`` and its bytes are dropped as they are read, so a file that is one huge line, or a
stream that never sends a newline, is read in bounded memory.
"""

from __future__ import annotations

__all__ = ["CHUNK", "count_lines", "physical_lines"]

from collections.abc import Callable, Iterator

CHUNK = 1 << 16


def physical_lines(
    read: Callable[[int], bytes], limit: int, first: bytes = b""
) -> Iterator[bytes | None]:
    """Yield each line of the stream *read* gives, without its ending; ``None`` if too long.

    Args:
        read: returns up to the given number of bytes, ``b""`` at the end.
        limit: the most bytes a line may hold, its ending not counted.
        first: bytes already read from the stream, to be read before it.
    """
    pending = b""
    overflow = False
    after_cr = False  # the last chunk ended with \r: a \n opening the next one belongs to it
    chunk = first or read(CHUNK)
    while chunk:
        if after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        after_cr = chunk.endswith(b"\r")
        for piece in chunk.splitlines(keepends=True):
            body = piece.rstrip(b"\r\n")
            if len(body) == len(piece):  # no ending: the line goes on in the next chunk
                if not overflow and len(pending) + len(body) > limit:
                    overflow, pending = True, b""
                elif not overflow:
                    pending += body
                continue
            too_long = overflow or len(pending) + len(body) > limit
            yield None if too_long else pending + body
            pending, overflow = b"", False
        chunk = read(CHUNK)
    if pending or overflow:
        yield None if overflow else pending


def count_lines(read: Callable[[int], bytes]) -> int:
    """Return how many lines `physical_lines` would yield for the stream *read* gives."""
    lines = 0
    last = b"\n"
    after_cr = False
    while chunk := read(1 << 20):
        lines += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
        if after_cr and chunk.startswith(b"\n"):
            lines -= 1  # a \r\n split across two chunks was counted twice
        after_cr = chunk.endswith(b"\r")
        last = chunk[-1:]
    return lines + (last not in {b"\n", b"\r"})
