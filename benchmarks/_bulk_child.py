"""One repetition of a bulk scenario, in a fresh interpreter of its own.

Run as ``python -m benchmarks._bulk_child OPERATION CONTENDER URL ROWS CONCURRENCY
[--profile PATH]``; prints one JSON line: ``{"seconds", "done", "rss_before_kib",
"peak_rss_kib"}``. A process of its own per repetition is what makes the peak resident memory
(``VmHWM``) belong to one contender and one run, rather than to whatever the harness did before.

Each child imports only its contender's library (and this package's few helpers). Each
contender first fetches a token the way its code would and handles 2 x CONCURRENCY rows
untimed (connections open, code paths warm), then ROWS rows timed, the rows generated one at a
time as a database cursor would hand them out, so neither side holds the whole input in
memory. With ``--profile`` the timed rows run under cProfile and its statistics go to PATH
(see `_cprofile`).

Operations (OPERATION), each on its own user ids (``user-000000``, ``user-000001``...):
- ``import``: ``POST /api/v2/mfa/totp/import`` of a key and a recovery code;
- ``status``: ``GET /api/v2/users/{id}/mfa-bound``;
- ``unbind``: ``DELETE /api/v2/users/{id}/mfa-bound?type=OTP``.

Contenders (CONTENDER):
- ``raw-aiohttp``: CONCURRENCY worker tasks sharing one `aiohttp.ClientSession` and one
  iterator of rows, each sending its request and reading the envelope: the loop a user writes
  by hand, on the transport the SDK uses under asyncio (the baseline).
- ``raw-httpx``: the same loop on one `httpx.AsyncClient`.
- ``sdk``: ``import_totp_many``, ``get_status_many`` or ``unassociate_mfa_many(...,
  mfa_type="otp")`` of `AsyncMfaClient` with ``concurrency=CONCURRENCY``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

from ._contenders import (
    COMMON_HEADERS,
    IMPORT_PATH,
    SECRET,
    TOKEN_PATH,
    TOKEN_QUERY,
    USER_POOL_ID,
    headers,
    import_body,
    parse_envelope,
    status_path,
    token_of,
)
from ._cprofile import capture
from ._memory import current_rss_kib, peak_rss_kib

OPERATIONS = ("import", "status", "unbind")
CONTENDERS = ("raw-aiohttp", "raw-httpx", "sdk")
UNBIND_PARAMS = {"type": "OTP"}


def _rows(operation: str, start: int, count: int) -> Iterator[Any]:
    """The input of *operation*: import bodies, or user ids, made one at a time."""
    for index in range(start, start + count):
        yield import_body(index) if operation == "import" else f"user-{index:06d}"


async def _workers(
    send: Callable[[Any], Awaitable[object]], rows: Iterator[Any], concurrency: int
) -> int:
    done = 0

    async def worker() -> None:
        nonlocal done
        for row in rows:  # shared: each row goes to exactly one worker
            await send(row)
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


Run = Callable[[Iterator[Any]], Awaitable[int]]  # handles some rows, returns how many
Timed = Callable[[Run], Awaitable[Any]]  # warms a Run up, then times it


async def _raw_httpx(operation: str, url: str, concurrency: int, timed: Timed) -> Any:
    import httpx  # noqa: PLC0415 - each child imports only what its contender uses

    async with httpx.AsyncClient(base_url=url) as client:
        token = await client.post(TOKEN_PATH, json=TOKEN_QUERY, headers=COMMON_HEADERS)
        hdrs = headers(token_of(token.content))

        async def send(row: Any) -> object:
            if operation == "import":
                answer = await client.post(IMPORT_PATH, json=row, headers=hdrs)
            elif operation == "status":
                answer = await client.get(status_path(row), headers=hdrs)
            else:
                answer = await client.delete(status_path(row), params=UNBIND_PARAMS, headers=hdrs)
            return parse_envelope(answer.content)

        return await timed(lambda rows: _workers(send, rows, concurrency))


async def _raw_aiohttp(operation: str, url: str, concurrency: int, timed: Timed) -> Any:
    import aiohttp  # noqa: PLC0415

    async with aiohttp.ClientSession(base_url=url) as session:
        async with session.post(TOKEN_PATH, json=TOKEN_QUERY, headers=COMMON_HEADERS) as token:
            hdrs = headers(token_of(await token.read()))

        async def send(row: Any) -> object:
            if operation == "import":
                request = session.post(IMPORT_PATH, json=row, headers=hdrs)
            elif operation == "status":
                request = session.get(status_path(row), headers=hdrs)
            else:
                request = session.delete(status_path(row), params=UNBIND_PARAMS, headers=hdrs)
            async with request as answer:
                return parse_envelope(await answer.read())

        return await timed(lambda rows: _workers(send, rows, concurrency))


async def _sdk(operation: str, url: str, concurrency: int, timed: Timed) -> Any:
    from authing_mfa import AsyncMfaClient  # noqa: PLC0415

    async with AsyncMfaClient(user_pool_id=USER_POOL_ID, secret=SECRET, host=url) as mfa:

        def stream(rows: Iterator[Any]) -> AbstractAsyncContextManager[Any]:
            if operation == "import":
                return mfa.import_totp_many(rows, concurrency=concurrency)
            if operation == "status":
                return mfa.get_status_many(rows, concurrency=concurrency)
            return mfa.unassociate_mfa_many(rows, mfa_type="otp", concurrency=concurrency)

        async def run(rows: Iterator[Any]) -> int:
            done = 0
            async with stream(rows) as outcomes:
                async for outcome in outcomes:
                    if not outcome.ok:
                        raise RuntimeError(f"row {outcome.index} failed: {outcome.error!r}")
                    done += 1
            return done

        return await timed(run)


_RUNNERS = {"raw-httpx": _raw_httpx, "raw-aiohttp": _raw_aiohttp, "sdk": _sdk}


def measure(
    operation: str, contender: str, url: str, count: int, concurrency: int, profile: str | None
) -> dict[str, Any]:
    """Run one contender on *count* timed rows after a warm-up; return the JSON line's data."""

    async def timed(run: Run) -> tuple[float, int, int]:
        await run(_rows(operation, 0, 2 * concurrency))
        rss_before = current_rss_kib()
        with capture(profile):
            started = time.perf_counter()
            done = await run(_rows(operation, 2 * concurrency, count))
            seconds = time.perf_counter() - started
        return seconds, done, rss_before

    seconds, done, rss_before = asyncio.run(_RUNNERS[contender](operation, url, concurrency, timed))
    if done != count:
        raise SystemExit(f"{contender} did {done} {operation} rows of {count}")
    return {
        "seconds": seconds,
        "done": done,
        "rss_before_kib": rss_before,
        "peak_rss_kib": peak_rss_kib(),
    }


def main(argv: list[str] | None = None) -> None:
    """Run one contender once and print its JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks._bulk_child")
    parser.add_argument("operation", choices=OPERATIONS)
    parser.add_argument("contender", choices=CONTENDERS)
    parser.add_argument("url")
    parser.add_argument("rows", type=int)
    parser.add_argument("concurrency", type=int)
    parser.add_argument("--profile", default=None, help="write cProfile statistics here")
    args = parser.parse_args(argv)
    result = measure(
        args.operation, args.contender, args.url, args.rows, args.concurrency, args.profile
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
