"""cProfile around a measured region, and its statistics as a reader wants them: µs per call.

Only the standard library, so a benchmark child can import it without changing what it
measures. `capture` profiles a block and writes the statistics to a file; `render` turns that
file into tables of the top functions by cumulative and by own time, in µs per operation
(per call, or per row of a bulk run), with this package's functions listed on their own too.

The clock is cProfile's default, wall time: time a function spends waiting for the server
shows as the own time of the event loop's ``select``/``poll``, and, on loopback, of a socket's
``send`` (the kernel may run the server before ``send`` returns); `render` counts both as the
wire. cProfile's own bookkeeping roughly doubles the cost of every Python call, so absolute µs
are inflated; the shares are what to read, and how two profiles compare
(`render_difference`: the SDK's against its baseline's, function by function).
"""

from __future__ import annotations

import cProfile
import pstats
import re
from collections.abc import Iterator
from contextlib import contextmanager

LIBRARY = "authing_mfa"
_WAITING = re.compile(r"method '(select|poll|control)' of '(select\.|_?selectors)")
_SOCKET = re.compile(r"method '(send|sendall|recv|recv_into)' of '_socket\.socket'")


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


def _wire(function: tuple[str, int, str]) -> bool:
    """Whether *function* is time on the wire: polling, or a socket's send/recv."""
    return bool(_WAITING.search(function[2]) or _SOCKET.search(function[2]))


def render(path: str, operations: int, *, what: str, top: int = 25) -> str:
    """Tables of the top functions in the statistics at *path*, in µs per operation.

    Args:
        path: statistics written by `capture` (or ``cProfile``'s ``dump_stats``).
        operations: how many calls or rows the profiled block made, to divide by.
        what: what one operation is ("call", "row"), for the headings.
        top: rows per table.
    """
    entries = pstats.Stats(path).stats  # type: ignore[attr-defined]
    per = 1e6 / max(operations, 1)
    total = sum(own for _, _, own, _, _ in entries.values()) * per
    wire = sum(own for function, (_, _, own, _, _) in entries.items() if _wire(function)) * per
    library = (
        sum(own for function, (_, _, own, _, _) in entries.items() if _is_library(function)) * per
    )
    lines = [
        (
            f"{operations:,} {what}s profiled: {total:,.1f} µs per {what} in all; "
            f"{wire:,.1f} of it on the wire (the loop's select/poll, socket send/recv: on "
            f"loopback the server may run inside a send), {total - wire:,.1f} of work in this "
            f"process, {library:,.1f} of which in {LIBRARY}'s own code (own time, callees "
            "excluded). cProfile inflates every Python call: compare shares, not absolutes. "
            "A coroutine counts a call each time it resumes."
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


def render_difference(
    sdk: tuple[str, int], baseline: tuple[str, int], *, what: str, top: int = 25
) -> str:
    """Where the SDK's profile spends more than its baseline's, function by function.

    Args:
        sdk: the SDK's statistics file and how many operations it made.
        baseline: the same for the baseline.
        what: what one operation is.
        top: rows per table.
    """
    own: dict[tuple[str, int, str], list[float]] = {}
    for index, (path, operations) in enumerate((sdk, baseline)):
        per = 1e6 / max(operations, 1)
        for function, (_, _, seconds, cumulative, _) in pstats.Stats(path).stats.items():  # type: ignore[attr-defined]
            values = own.setdefault(function, [0.0, 0.0, 0.0, 0.0])
            values[index] = seconds * per
            values[2 + index] = cumulative * per
    totals = [sum(values[index] for values in own.values()) for index in (0, 1)]
    wire = [
        sum(values[index] for function, values in own.items() if _wire(function))
        for index in (0, 1)
    ]
    work = [totals[index] - wire[index] for index in (0, 1)]
    lines = [
        (
            f"Work in process, the wire left out: SDK {work[0]:,.1f} µs per {what}, baseline "
            f"{work[1]:,.1f}: {work[0] - work[1]:+,.1f} µs per {what} under the profiler."
        ),
        "",
        f"Functions whose own time per {what} grew most (the wire left out):",
        f"{'SDK own':>10} {'base own':>10} {'more':>10} {'SDK cum':>10} {'base cum':>10}  function",
    ]
    rows = [(function, values) for function, values in own.items() if not _wire(function)]
    rows.sort(key=lambda item: item[1][0] - item[1][1], reverse=True)
    for function, (mine, theirs, my_cum, their_cum) in rows[:top]:
        mark = "*" if _is_library(function) else " "
        lines.append(
            f"{mine:10.2f} {theirs:10.2f} {mine - theirs:+10.2f} {my_cum:10.2f} {their_cum:10.2f}"
            f"  {mark}{_where(function)}"
        )
    return "\n".join(lines)
