"""One repetition of the bulk import scenario, in a fresh interpreter of its own.

Run as ``python -m benchmarks._bulk_child CONTENDER URL ROWS CONCURRENCY``; prints one JSON
line: ``{"seconds", "imported", "rss_before_kib", "peak_rss_kib"}``. A process of its own per
repetition is what makes the peak resident memory (``ru_maxrss``) belong to one contender and
one run, rather than to whatever the harness did before.

Each contender first imports 2 x CONCURRENCY rows untimed (token fetched, connections open,
code paths warm), then ROWS rows timed, the rows generated one at a time as a database cursor
would hand them out, so neither side holds the whole input in memory.

Contenders:
- ``raw-httpx``: CONCURRENCY worker tasks sharing one `httpx.AsyncClient` and one iterator of
  rows, each posting the import and reading the envelope: the loop a user writes by hand.
- ``raw-aiohttp``: the same loop on one `aiohttp.ClientSession` (a reference: the transport
  the SDK uses under asyncio).
- ``sdk``: ``AsyncMfaClient.import_totp_many(rows, concurrency=CONCURRENCY)``.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable, Iterator

from ._contenders import (
    IMPORT_PATH,
    SECRET,
    USER_POOL_ID,
    fetch_token,
    headers,
    import_body,
    parse_envelope,
)


def _rows(start: int, count: int) -> Iterator[dict[str, str]]:
    for index in range(start, start + count):
        yield import_body(index)


async def _workers(
    post: Callable[[dict[str, str]], Awaitable[object]],
    rows: Iterator[dict[str, str]],
    concurrency: int,
) -> int:
    done = 0

    async def worker() -> None:
        nonlocal done
        for row in rows:  # shared: each row goes to exactly one worker
            await post(row)
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


async def _raw_httpx(url: str, count: int, concurrency: int) -> tuple[float, int, int]:
    import httpx  # noqa: PLC0415 - each child imports only what its contender uses

    hdrs = headers(fetch_token(url))
    async with httpx.AsyncClient(base_url=url) as client:

        async def post(row: dict[str, str]) -> object:
            answer = await client.post(IMPORT_PATH, json=row, headers=hdrs)
            return parse_envelope(answer.content)

        return await _timed(lambda rows: _workers(post, rows, concurrency), count, concurrency)


async def _raw_aiohttp(url: str, count: int, concurrency: int) -> tuple[float, int, int]:
    import aiohttp  # noqa: PLC0415

    hdrs = headers(fetch_token(url))
    async with aiohttp.ClientSession(base_url=url) as session:

        async def post(row: dict[str, str]) -> object:
            async with session.post(IMPORT_PATH, json=row, headers=hdrs) as answer:
                return parse_envelope(await answer.read())

        return await _timed(lambda rows: _workers(post, rows, concurrency), count, concurrency)


async def _sdk(url: str, count: int, concurrency: int) -> tuple[float, int, int]:
    from authing_mfa import AsyncMfaClient  # noqa: PLC0415

    async with AsyncMfaClient(user_pool_id=USER_POOL_ID, secret=SECRET, host=url) as mfa:

        async def run(rows: Iterator[dict[str, str]]) -> int:
            imported = 0
            async with mfa.import_totp_many(rows, concurrency=concurrency) as outcomes:
                async for outcome in outcomes:
                    if not outcome.ok:
                        raise RuntimeError(f"row {outcome.index} failed: {outcome.error!r}")
                    imported += 1
            return imported

        return await _timed(run, count, concurrency)


async def _timed(
    run: Callable[[Iterator[dict[str, str]]], Awaitable[int]], count: int, concurrency: int
) -> tuple[float, int, int]:
    """Warm up on 2 x *concurrency* rows, then time *count* rows; return seconds, rows, RSS."""
    await run(_rows(0, 2 * concurrency))
    rss_before = _current_rss_kib()
    started = time.perf_counter()
    imported = await run(_rows(2 * concurrency, count))
    return time.perf_counter() - started, imported, rss_before


def _status_kib(field: str) -> int | None:
    """Read a ``/proc/self/status`` field in KiB (Linux), or None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:  # noqa: PTH123
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _current_rss_kib() -> int:
    return _status_kib("VmRSS") or 0


def _peak_rss_kib() -> int:
    """This process's peak resident memory, in KiB.

    ``VmHWM`` where there is one: ``ru_maxrss`` of RUSAGE_SELF survives ``execve``, so in a
    child it reports the parent's peak when that is higher (the harness's, here).
    """
    peak = _status_kib("VmHWM")
    if peak is not None:
        return peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


CONTENDERS = {"raw-httpx": _raw_httpx, "raw-aiohttp": _raw_aiohttp, "sdk": _sdk}


def main(argv: list[str]) -> None:
    """Run one contender once and print its JSON line."""
    contender, url, rows, concurrency = argv
    seconds, imported, rss_before = asyncio.run(
        CONTENDERS[contender](url, int(rows), int(concurrency))
    )
    if imported != int(rows):
        raise SystemExit(f"{contender} imported {imported} rows of {rows}")
    peak = _peak_rss_kib()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "imported": imported,
                "rss_before_kib": rss_before,
                "peak_rss_kib": peak,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
