"""cProfile around a measured region, and its statistics as a reader wants them: µs per call.

Only the standard library, so a benchmark child can import it without changing what it
measures. `capture` profiles a block and writes the statistics to a file; `render` turns that
file into tables of the top functions by cumulative and by own time, in µs per operation
(per call, or per row of a bulk run), with this package's functions listed on their own too.

The clock is cProfile's default, wall time: time a function spends waiting for the server
shows as the own time of the event loop's ``select``/``poll``, which `render` names as such.
cProfile's own bookkeeping roughly doubles the cost of every Python call, so absolute µs are
inflated; the shares are what to read, and how they compare between two profiles.
"""

from __future__ import annotations

import cProfile
import pstats
import re
from collections.abc import Iterator
from contextlib import contextmanager

LIBRARY = "authing_mfa"
_WAITING = re.compile(r"method '(select|poll|control)' of '(select\.|_?selectors)")


@contextmanager
def capture(path: str | None) -> Iterator[None]:
    """Profile the block and write the statistics to *path*; do nothing when it is None."""
    if path is None:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(path)


def _where(function: tuple[str, int, str]) -> str:
    """``package/module.py:line(function)``, the path cut after site-packages or the stdlib."""
    filename, line, name = function
    if filename == "~":
        return name  # a built-in: "<method 'poll' of 'select.epoll' objects>"
    for marker in ("/site-packages/", "/lib/python3."):
        at = filename.rfind(marker)
        if at >= 0:
            filename = filename[at + len(marker) :]
            if marker == "/lib/python3.":
                filename = "stdlib/" + filename.partition("/")[2]
            break
    else:
        at = filename.rfind(f"/{LIBRARY}/")
        if at < 0:
            at = filename.rfind("/benchmarks/")
        if at >= 0:
            filename = filename[at + 1 :]
    return f"{filename}:{line}({name})"


def _is_library(function: tuple[str, int, str]) -> bool:
    return f"/{LIBRARY}/" in function[0]


def render(path: str, operations: int, *, what: str, top: int = 25) -> str:
    """Tables of the top functions in the statistics at *path*, in µs per operation.

    Args:
        path: statistics written by `capture` (or ``cProfile``'s ``dump_stats``).
        operations: how many calls or rows the profiled block made, to divide by.
        what: what one operation is ("call", "row"), for the headings.
        top: rows per table.
    """
    stats = pstats.Stats(path)
    entries = stats.stats  # type: ignore[attr-defined]
    per = 1e6 / max(operations, 1)
    total = sum(own for _, _, own, _, _ in entries.values()) * per
    waiting = sum(
        own for function, (_, _, own, _, _) in entries.items() if _WAITING.search(function[2])
    )
    waiting *= per
    library_own = sum(
        own for function, (_, _, own, _, _) in entries.items() if _is_library(function)
    )
    lines = [
        (
            f"{operations:,} {what}s profiled: {total:,.1f} µs per {what} in all, of which "
            f"{waiting:,.1f} waiting in the event loop's select/poll (the server and the "
            f"wire), and {library_own * per:,.1f} in {LIBRARY}'s own code (own time, its "
            "callees excluded). Times are inflated by cProfile; compare shares. A coroutine "
            "counts a call each time it resumes."
        ),
    ]

    def table(title: str, key: int, *, only_library: bool) -> None:
        rows = [
            (function, values)
            for function, values in entries.items()
            if not only_library or _is_library(function)
        ]
        rows.sort(key=lambda item: item[1][key], reverse=True)
        lines.extend(
            [
                "",
                title,
                f"{'cum µs/' + what:>14} {'own µs/' + what:>14} {'calls/' + what:>12}  function",
            ]
        )
        for function, (_, calls, own, cumulative, _) in rows[:top]:
            mark = "*" if _is_library(function) else " "
            lines.append(
                f"{cumulative * per:14.2f} {own * per:14.2f} {calls / max(operations, 1):12.2f}"
                f" {mark}{_where(function)}"
            )

    table("Top functions by cumulative time (* = authing_mfa):", 3, only_library=False)
    table("Top functions by own time:", 2, only_library=False)
    table(f"{LIBRARY}'s functions by cumulative time:", 3, only_library=True)
    table(f"{LIBRARY}'s functions by own time:", 2, only_library=True)
    return "\n".join(lines)
